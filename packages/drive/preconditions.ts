/**
 * HTTP conditional requests (RFC 9110 §13) as S3 applies them to GET, HEAD and the source of a
 * copy: `If-Match` wins over `If-Unmodified-Since`, `If-None-Match` over `If-Modified-Since`;
 * dates compare at one-second precision (HTTP dates have no more).
 *
 * @example
 * ```ts
 * import { evaluatePreconditions } from "@aquifer/drive"
 * const info = { etag: "abc", lastModified: new Date("2026-01-01T00:00:00Z") }
 * evaluatePreconditions(info, { ifNoneMatch: "\"abc\"" }) // "not-modified"
 * evaluatePreconditions(info, { ifMatch: "\"xyz\"" })     // "failed"
 * ```
 * @module
 */
import { unquoteEtag } from "@aquifer/blob"

export interface Preconditions {
  readonly ifMatch?: string | undefined
  readonly ifNoneMatch?: string | undefined
  readonly ifModifiedSince?: Date | undefined
  readonly ifUnmodifiedSince?: Date | undefined
}

/** `ok`: go on; `not-modified`: answer 304 (GET/HEAD); `failed`: answer 412. */
export type PreconditionOutcome = "ok" | "not-modified" | "failed"

const matches = (header: string, etag: string): boolean =>
  header.split(",").some((candidate) => {
    const trimmed = candidate.trim()
    return trimmed === "*" || unquoteEtag(trimmed) === etag
  })

const seconds = (date: Date) => Math.floor(date.getTime() / 1000)

export const evaluatePreconditions = (
  info: { readonly etag: string; readonly lastModified: Date },
  conditions: Preconditions
): PreconditionOutcome => {
  const modified = seconds(info.lastModified)
  if (conditions.ifMatch !== undefined) {
    if (!matches(conditions.ifMatch, info.etag)) return "failed"
  } else if (conditions.ifUnmodifiedSince !== undefined && modified > seconds(conditions.ifUnmodifiedSince)) {
    return "failed"
  }
  if (conditions.ifNoneMatch !== undefined) {
    if (matches(conditions.ifNoneMatch, info.etag)) return "not-modified"
  } else if (conditions.ifModifiedSince !== undefined && modified <= seconds(conditions.ifModifiedSince)) {
    return "not-modified"
  }
  return "ok"
}
