import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Schema } from "effect"
import { decodeCursor, decodeCursorAs, encodeCursor, pageSize } from "./mod.ts"

describe("pagination", () => {
  it.effect("round-trips a cursor, unicode included", () =>
    Effect.gen(function*() {
      const position = { after: "2026-12-06T00:00:00.000Z", id: "ключ/日本" }
      assert.deepStrictEqual(yield* decodeCursor(encodeCursor(position)), position)
    }))

  it.effect("refuses forged cursors with InvalidInput", () =>
    Effect.gen(function*() {
      for (const forged of ["not a cursor!", "%%%", "a".repeat(3000), btoa("{oops")]) {
        const exit = yield* Effect.exit(decodeCursor(forged))
        assert.isTrue(Exit.isFailure(exit), forged)
      }
      const wrongShape = yield* Effect.flip(decodeCursorAs(Schema.Struct({ after: Schema.String }), encodeCursor({ x: 1 })))
      assert.strictEqual(wrongShape._tag, "InvalidInput")
      assert.strictEqual(wrongShape.field, "cursor")
    }))

  it("clamps page sizes", () => {
    assert.strictEqual(pageSize(undefined), 100)
    assert.strictEqual(pageSize(0), 1)
    assert.strictEqual(pageSize(5000), 1000)
  })
})
