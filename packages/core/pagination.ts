/**
 * Cursor pagination. A cursor is opaque to clients: base64url of a small JSON value the
 * repository chose (usually the sort key of the last row). Decoding a cursor that was not
 * minted here fails with `InvalidInput`, never with a crash or a different query.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { decodeCursor, encodeCursor } from "@aquifer/core"
 * const cursor = encodeCursor({ after: "2026-01-01T00:00:00Z" })
 * const back = Effect.runSync(decodeCursor(cursor)) // { after: "2026-01-01T00:00:00Z" }
 * ```
 * @module
 */
import { Effect, Result, Schema } from "effect"
import { Base64Url } from "effect/encoding"
import { InvalidInput } from "./errors.ts"

/** A page request: at most `limit` items after `cursor` (absent: from the start). */
export const PageRequest = Schema.Struct({
  limit: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 1000 }))),
  cursor: Schema.optional(Schema.String)
})
export type PageRequest = typeof PageRequest.Type

/** Default and maximum page sizes, used where a request names none. */
export const defaultPageSize = 100
export const maxPageSize = 1000

/** One page of results; `next` is absent on the last page. */
export interface Page<A> {
  readonly items: ReadonlyArray<A>
  readonly next?: string | undefined
}

/** Mints an opaque cursor from a JSON-serialisable position. */
export const encodeCursor = (position: unknown): string => Base64Url.encode(JSON.stringify(position))

/** Reads back a cursor minted by {@link encodeCursor}; anything else is `InvalidInput`. */
export const decodeCursor = (cursor: string): Effect.Effect<unknown, InvalidInput> =>
  Effect.try({
    try: () => {
      if (cursor.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error("not base64url")
      const text = Base64Url.decodeString(cursor)
      if (Result.isFailure(text)) throw text.failure
      return JSON.parse(text.success) as unknown
    },
    catch: () => new InvalidInput({ message: "the cursor is not one this server issued", field: "cursor" })
  })

/** Decodes a cursor against a schema: a forged or stale cursor is `InvalidInput`. */
export const decodeCursorAs = <S extends Schema.Decoder<unknown>>(schema: S, cursor: string) =>
  decodeCursor(cursor).pipe(
    Effect.flatMap((value) => Schema.decodeUnknownEffect(schema)(value)),
    Effect.mapError(() => new InvalidInput({ message: "the cursor is not one this server issued", field: "cursor" }))
  )

/** Clamps a requested page size to `[1, maxPageSize]`, defaulting to `defaultPageSize`. */
export const pageSize = (limit: number | undefined): number =>
  limit === undefined ? defaultPageSize : Math.min(Math.max(1, Math.trunc(limit)), maxPageSize)
