/**
 * Byte ranges for `BlobStore.get`, with the satisfiability rules of RFC 9110 §14.1.2 so the
 * Drive can answer `Range:` requests from what the store returns, whatever the backend.
 *
 * - `{ offset, length? }`: bytes `offset … offset + length - 1`, or to the end without
 *   `length`; a range reaching past the end is cut at the end (so asking for the last byte with
 *   a large `length` is fine). Unsatisfiable when `offset >= size` (in particular, any range of
 *   an empty object).
 * - `{ suffix }`: the last `suffix` bytes, the whole object when `suffix >= size`.
 *   Unsatisfiable when `suffix` is 0 or the object is empty.
 *
 * Offsets and lengths must be non-negative safe integers, `length` and `suffix` at least 1;
 * anything else is `InvalidRange` too.
 *
 * @example
 * ```ts
 * import { resolveRange } from "@aquifer/blob"
 * resolveRange("k", { offset: 8 }, 10)    // Effect of { offset: 8, length: 2 }
 * resolveRange("k", { suffix: 100 }, 10)  // Effect of { offset: 0, length: 10 }
 * resolveRange("k", { offset: 10 }, 10)   // fails with InvalidRange (size 10)
 * ```
 * @module
 */
import { Effect } from "effect"
import { InvalidRange } from "./errors.ts"

/** A byte range: from `offset` (for `length` bytes, or to the end), or the last `suffix` bytes. */
export type ByteRange =
  | { readonly offset: number; readonly length?: number | undefined }
  | { readonly suffix: number }

/** A satisfiable range resolved against an object's size. */
export interface ResolvedRange {
  readonly offset: number
  readonly length: number
}

const count = (value: unknown, minimum: number): value is number =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= minimum

/** Why `range` is malformed whatever the object's size, or `undefined`. */
export const rangeProblem = (range: ByteRange): string | undefined => {
  if ("suffix" in range) return count(range.suffix, 1) ? undefined : "a suffix must be a positive integer"
  if (!count(range.offset, 0)) return "an offset must be a non-negative integer"
  if (range.length !== undefined && !count(range.length, 1)) return "a length must be a positive integer"
  return undefined
}

/** Resolves `range` against an object of `size` bytes; fails with `InvalidRange` when unsatisfiable. */
export const resolveRange = (key: string, range: ByteRange, size: number): Effect.Effect<ResolvedRange, InvalidRange> => {
  const problem = rangeProblem(range)
  if (problem !== undefined) return Effect.fail(new InvalidRange({ key, size, reason: problem }))
  if ("suffix" in range) {
    if (size === 0) return Effect.fail(new InvalidRange({ key, size, reason: "the object is empty" }))
    const length = Math.min(range.suffix, size)
    return Effect.succeed({ offset: size - length, length })
  }
  if (range.offset >= size) {
    return Effect.fail(new InvalidRange({ key, size, reason: `offset ${range.offset} is not before the end (${size} bytes)` }))
  }
  const length = Math.min(range.length ?? size - range.offset, size - range.offset)
  return Effect.succeed({ offset: range.offset, length })
}
