import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { AppId, newAppId, newUserId, UserId } from "./mod.ts"

describe("ids", () => {
  it("mints ids that decode with their own schema and not with another's", () => {
    const app = newAppId()
    assert.match(app, /^app_[0-9a-f]{32}$/)
    assert.strictEqual(Schema.decodeUnknownSync(AppId)(app), app)
    assert.throws(() => Schema.decodeUnknownSync(UserId)(app))
  })

  it("never mints the same id twice in a burst", () => {
    const ids = new Set(Array.from({ length: 10_000 }, newUserId))
    assert.strictEqual(ids.size, 10_000)
  })

  it("refuses ids that could smuggle path or label characters", () => {
    for (const bad of ["app_../../etc", "app_", "APP_0123456789abcdef0123456789abcdef", `app_${"0".repeat(33)}`]) {
      assert.throws(() => Schema.decodeUnknownSync(AppId)(bad), undefined, undefined, bad)
    }
  })
})
