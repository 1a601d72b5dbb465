import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { sha256Hex } from "./mod.ts"

describe("sha256Hex", () => {
  it.effect("gives the FIPS 180-2 test vectors, UTF-8 text included", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
      assert.strictEqual(yield* sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
      assert.strictEqual(yield* sha256Hex("é"), yield* sha256Hex("\u00e9"))
      assert.notStrictEqual(yield* sha256Hex("é"), yield* sha256Hex("e\u0301"))
    }))
})
