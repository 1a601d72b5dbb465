import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { resolveRange } from "./mod.ts"

describe("resolveRange", () => {
  it("follows RFC 9110: ranges are cut at the end, suffixes cover small objects whole", () => {
    const run = (range: Parameters<typeof resolveRange>[1], size: number) => Effect.runSync(resolveRange("k", range, size))
    assert.deepStrictEqual(run({ offset: 0 }, 10), { offset: 0, length: 10 })
    assert.deepStrictEqual(run({ offset: 9, length: 50 }, 10), { offset: 9, length: 1 })
    assert.deepStrictEqual(run({ suffix: 4 }, 10), { offset: 6, length: 4 })
    assert.deepStrictEqual(run({ suffix: 40 }, 10), { offset: 0, length: 10 })
  })

  it("refuses unsatisfiable and malformed ranges with the object's size", () => {
    for (const [range, size] of [[{ offset: 10 }, 10], [{ offset: 0 }, 0], [{ suffix: 1 }, 0], [{ suffix: 0 }, 5], [{ offset: -1 }, 5], [{ offset: 0, length: 0 }, 5]] as const) {
      const exit = Effect.runSyncExit(resolveRange("k", range, size))
      assert.isTrue(Exit.isFailure(exit), JSON.stringify(range))
      const error = Effect.runSync(Effect.flip(resolveRange("k", range, size)))
      assert.strictEqual(error.size, size)
    }
  })
})
