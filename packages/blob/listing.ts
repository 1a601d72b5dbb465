/**
 * Listing over any ordered source of keys: prefix, delimiter roll-up into common prefixes,
 * `startAfter`, and opaque cursors — so adapters that keep keys themselves (memory, fs, or the
 * Drive over a metadata index) page exactly alike. A source only has to yield, in
 * {@link compareKeys} order, the entries whose key starts with a prefix and sorts after a
 * position; when a common prefix is rolled up, the source is asked again from past it, so whole
 * "directories" are skipped rather than read.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { listPage } from "@aquifer/blob"
 * const keys = ["a/1", "a/2", "b"].map((key) => ({ key }))
 * const source = (prefix: string, after: string | undefined) =>
 *   keys.filter((e) => e.key.startsWith(prefix) && (after === undefined || e.key > after))
 * const page = Effect.runPromise(listPage(source, { prefix: "", delimiter: "/", limit: 10 }))
 * // { items: [{ key: "b" }], prefixes: ["a/"], next: undefined }
 * ```
 * @module
 */
import { decodeCursorAs, encodeCursor } from "@aquifer/core"
import { Effect, Schema } from "effect"
import { BlobStoreError, InvalidArgument } from "./errors.ts"
import { compareKeys } from "./key.ts"

/**
 * Entries with a key starting with `prefix` and, when `after` is given, sorting strictly after
 * it, in {@link compareKeys} order. Sync or async; it may yield more than needed (it is closed
 * as soon as the page is full).
 */
export type KeySource<A extends { readonly key: string }> = (
  prefix: string,
  after: string | undefined
) => Iterable<A> | AsyncIterable<A>

/** A page built by {@link listPage}. */
export interface KeyPage<A> {
  readonly items: ReadonlyArray<A>
  readonly prefixes: ReadonlyArray<string>
  readonly next?: string | undefined
}

const CursorSchema = Schema.Struct({ after: Schema.String })

/** Mints a list cursor resuming after `after` (a key or common prefix already returned). */
export const encodeListCursor = (after: string): string => encodeCursor({ after })

/** Reads back a cursor of {@link encodeListCursor}; anything else is `InvalidArgument`. */
export const decodeListCursor = (cursor: string): Effect.Effect<string, InvalidArgument> =>
  decodeCursorAs(CursorSchema, cursor).pipe(
    Effect.map((value) => value.after),
    Effect.mapError(() => new InvalidArgument({ field: "cursor", message: "the cursor is not one this store issued" }))
  )

/**
 * A position past every key that starts with `prefix`: listing after it skips a whole common
 * prefix in one step. It is `prefix` followed by the highest code point, so keys holding
 * U+10FFFF right there are not skipped (a roll-up still folds them in, only without the jump).
 */
export const pastEveryKeyUnder = (prefix: string): string => `${prefix}\u{10FFFF}`

/**
 * One page of a listing over `source`. With `cursor`, resumes after the last entry of the page
 * that issued it; otherwise starts after `startAfter` (a common prefix that `startAfter` lies
 * inside is still listed, as S3 does).
 */
export const listPage = <A extends { readonly key: string }>(
  source: KeySource<A>,
  options: {
    readonly prefix: string
    readonly delimiter?: string | undefined
    readonly startAfter?: string | undefined
    readonly cursor?: string | undefined
    readonly limit: number
  }
): Effect.Effect<KeyPage<A>, InvalidArgument | BlobStoreError> =>
  Effect.gen(function*() {
    const resume = options.cursor === undefined ? undefined : yield* decodeListCursor(options.cursor)
    const after = resume ?? (options.startAfter === "" ? undefined : options.startAfter)
    return yield* Effect.tryPromise({
      try: () => collect(source, options, after, resume !== undefined),
      catch: (cause) =>
        cause instanceof InvalidArgument || cause instanceof BlobStoreError
          ? cause
          : new BlobStoreError({ message: "listing failed", cause })
    })
  })

const collect = async <A extends { readonly key: string }>(
  source: KeySource<A>,
  options: { readonly prefix: string; readonly delimiter?: string | undefined; readonly limit: number },
  after: string | undefined,
  resuming: boolean
): Promise<KeyPage<A>> => {
  const { prefix, delimiter, limit } = options
  const items: Array<A> = []
  const prefixes: Array<string> = []
  let position = after
  let last: string | undefined
  let more = false
  outer: for (;;) {
    const iterable = source(prefix, position)
    const iterator = Symbol.asyncIterator in iterable
      ? (iterable as AsyncIterable<A>)[Symbol.asyncIterator]()
      : (iterable as Iterable<A>)[Symbol.iterator]()
    try {
      for (;;) {
        const next = await iterator.next()
        if (next.done === true) break outer
        const entry = next.value
        if (!entry.key.startsWith(prefix) || (position !== undefined && compareKeys(entry.key, position) <= 0)) continue
        const cut = delimiter === undefined ? -1 : entry.key.indexOf(delimiter, prefix.length)
        if (cut < 0) {
          if (items.length + prefixes.length === limit) {
            more = true
            break outer
          }
          items.push(entry)
          last = entry.key
          continue
        }
        const common = entry.key.slice(0, cut + delimiter!.length)
        if (common === last) continue
        const skipped = after !== undefined && compareKeys(common, after) <= 0 && (resuming || !after.startsWith(common))
        if (!skipped) {
          if (items.length + prefixes.length === limit) {
            more = true
            break outer
          }
          prefixes.push(common)
          last = common
        }
        position = pastEveryKeyUnder(common)
        continue outer
      }
    } finally {
      await iterator.return?.()
    }
  }
  return { items, prefixes, next: more && last !== undefined ? encodeListCursor(last) : undefined }
}
