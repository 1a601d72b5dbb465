import { assert, describe, it } from "@effect/vitest"
import { compareKeys, isValidKey, keyProblem, maxKeyBytes, metadataProblem, prefixProblem, utf8Length } from "./mod.ts"
import { hostileKeys } from "./testing.ts"

describe("key rules", () => {
  it("refuses every hostile key, each with a reason", () => {
    for (const key of hostileKeys) assert.isString(keyProblem(key), JSON.stringify(key))
    assert.isString(keyProblem(42))
  })

  it("accepts folder markers, empty segments, dots inside names and keys at the length limit", () => {
    for (const key of ["a/", "a//b", "..x", "x..", ".hidden", "a/.b/c", "%2e%2e/x", "日本語", `${"x".repeat(255)}/`.repeat(4)]) {
      assert.isTrue(isValidKey(key), key)
    }
    assert.strictEqual(utf8Length(`${"x".repeat(255)}/`.repeat(4)), maxKeyBytes)
    assert.strictEqual(keyProblem("é".repeat(512)), "a segment may be at most 255 bytes of UTF-8")
  })

  it("counts UTF-8 bytes like TextEncoder", () => {
    for (const text of ["", "abc", "é", "日本", "😀x", "\ud800"]) {
      assert.strictEqual(utf8Length(text), new TextEncoder().encode(text).byteLength, JSON.stringify(text))
    }
  })

  it("orders keys by code point, like the bytes of their UTF-8", () => {
    const keys = ["b", "a", "a/", "a-", "\uff21", "😀", "é", "", "ab"]
    const bytes = (key: string) => Array.from(new TextEncoder().encode(key))
    const byBytes = [...keys].sort((x, y) => {
      const a = bytes(x)
      const b = bytes(y)
      for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!
      return a.length - b.length
    })
    assert.deepStrictEqual([...keys].sort(compareKeys), byBytes)
    assert.isBelow(compareKeys("\uff21", "😀"), 0)
  })

  it("lets a prefix end inside a segment but never climb out", () => {
    for (const prefix of ["", "a/", "a/.", "a/..", "photos/20"]) assert.isUndefined(prefixProblem(prefix), prefix)
    for (const prefix of ["../", "a/../", "/x", "a\\", "a\u0000"]) assert.isString(prefixProblem(prefix), prefix)
  })

  it("checks metadata names, values and size", () => {
    assert.isUndefined(metadataProblem({ owner: "alice", "x-id_2": "1" }))
    for (const bad of [{ Owner: "x" }, { "-x": "x" }, { a: "é" }, { a: " padded" }, { "aquifer-upload": "x" }, { a: "x".repeat(2048) }, []]) {
      assert.isString(metadataProblem(bad), JSON.stringify(bad))
    }
  })
})
