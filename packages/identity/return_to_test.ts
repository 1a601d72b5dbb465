import { assert, describe, it } from "@effect/vitest"
import { safeReturnTo } from "./mod.ts"

describe("safeReturnTo", () => {
  it("keeps same-origin relative paths, with query and fragment", () => {
    assert.strictEqual(safeReturnTo("/"), "/")
    assert.strictEqual(safeReturnTo("/apps/wine?tab=versions#v2"), "/apps/wine?tab=versions#v2")
    assert.strictEqual(safeReturnTo("/a/../b"), "/b")
  })

  it("turns every open-redirect form into /", () => {
    const hostile = [
      "//evil.example", "/\\evil.example", "\\\\evil.example", "https:evil.example", "https://evil.example/",
      "%2F%2Fevil.example", "/%2F%2Fevil.example", "/%5Cevil.example", "/%2F/evil.example", "http:/evil.example",
      "javascript:alert(1)", "evil.example", "/\tevil", "/\n/evil.example", " //evil.example", "", "/%E0%A4%A",
      `/${"a".repeat(3000)}`
    ]
    for (const target of hostile) assert.strictEqual(safeReturnTo(target), "/", JSON.stringify(target))
    assert.strictEqual(safeReturnTo(undefined), "/")
    assert.strictEqual(safeReturnTo(null), "/")
  })
})
