/**
 * Multipart uploads: start, upload parts (streamed, or copied from a range of another object),
 * list parts, complete, abort, and list the uploads in progress of a bucket. The parts live in
 * the `BlobStore`; the Drive records each upload (bucket, key, initiator) so an upload id is
 * only ever valid in the bucket and for the key it was started for.
 *
 * Quota: a part is refused when it alone would take the bucket over its byte quota; completion
 * reserves the assembled size (less the object it replaces) against the quota.
 *
 * A completed upload is remembered for `completedUploadRetentionMillis`, so that a retried
 * CompleteMultipartUpload (a client that lost the first answer) gets the same result, as S3
 * gives it, instead of `NoSuchUpload`.
 * @module
 */
import { InvalidInput, now, nowMillis, sha256Hex } from "@aquifer/core"
import {
  type BlobBody,
  type BlobNotFound,
  BlobStore,
  type ByteRange,
  maxPartNumber,
  type PartInfo,
  pastEveryKeyUnder,
  PreconditionFailed,
  unquoteEtag
} from "@aquifer/blob"
import type { Caller } from "@aquifer/identity"
import { Effect } from "effect"
import { bucketFor } from "./buckets.ts"
import { NoSuchKey, NoSuchUpload, QuotaExceeded } from "./errors.ts"
import { blobKeyOf } from "./layout.ts"
import { type Bucket, MultipartUpload } from "./model.ts"
import { type ObjectAttributes, systemMetadataPrefix, withReservation } from "./objects.ts"
import { evaluatePreconditions, type Preconditions } from "./preconditions.ts"
import { UploadRepository } from "./repositories.ts"

const uploadOf = (bucket: Bucket, key: string, uploadId: string) =>
  Effect.gen(function*() {
    const repo = yield* UploadRepository
    const upload = yield* repo.get(bucket.name, uploadId)
    if (upload === undefined || upload.key !== key) return yield* new NoSuchUpload({ uploadId })
    return upload
  })

const noSuchUpload = (uploadId: string) => <A, E, R>(effect: Effect.Effect<A, E | BlobNotFound, R>) =>
  Effect.catchTag(effect as Effect.Effect<A, BlobNotFound, R>, "BlobNotFound", () => Effect.fail(new NoSuchUpload({ uploadId }))) as Effect.Effect<
    A,
    Exclude<E, BlobNotFound> | NoSuchUpload,
    R
  >

/** Starts an upload to `key`; returns its id. */
export const createMultipartUpload = Effect.fn("Drive.createMultipartUpload")(function*(
  caller: Caller,
  input: ObjectAttributes & { readonly bucket: string; readonly key: string }
) {
  const bucket = yield* bucketFor(caller, input.bucket, "write")
  const blobKey = yield* blobKeyOf(bucket, input.key)
  const metadata: Record<string, string> = {}
  for (const [name, value] of Object.entries(input.metadata ?? {})) {
    if (name.startsWith(systemMetadataPrefix)) {
      return yield* new InvalidInput({ message: `metadata names may not start with "${systemMetadataPrefix}"`, field: "metadata" })
    }
    metadata[name] = value
  }
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    if (value !== undefined) metadata[systemMetadataPrefix + name] = value
  }
  const store = yield* BlobStore
  const uploadId = yield* store.createMultipartUpload(blobKey, { contentType: input.contentType, metadata })
  yield* (yield* UploadRepository).insert(
    new MultipartUpload({ uploadId, bucket: bucket.name, key: input.key, initiator: caller.principal.key, createdAt: yield* now })
  ).pipe(Effect.catchTag("AlreadyExists", (error) => Effect.die(error)))
  return { uploadId, bucket: bucket.name, key: input.key }
})

const checkPartNumber = (partNumber: number): Effect.Effect<void, InvalidInput> =>
  Number.isInteger(partNumber) && partNumber >= 1 && partNumber <= maxPartNumber
    ? Effect.void
    : Effect.fail(new InvalidInput({ message: `part number must be an integer between 1 and ${maxPartNumber}, inclusive`, field: "partNumber" }))

const checkPartQuota = (bucket: Bucket, size: number): Effect.Effect<void, QuotaExceeded> => {
  const { maxBytes } = bucket.quota
  return maxBytes !== undefined && bucket.usage.bytes + size > maxBytes
    ? Effect.fail(new QuotaExceeded({ bucket: bucket.name, message: `the bucket may hold at most ${maxBytes} bytes` }))
    : Effect.void
}

/** Stores one part of an upload (replacing a part of the same number). */
export const uploadPart = Effect.fn("Drive.uploadPart")(function*(
  caller: Caller,
  input: {
    readonly bucket: string
    readonly key: string
    readonly uploadId: string
    readonly partNumber: number
    readonly body: BlobBody
    readonly contentLength: number
  }
) {
  yield* checkPartNumber(input.partNumber)
  const bucket = yield* bucketFor(caller, input.bucket, "write")
  const blobKey = yield* blobKeyOf(bucket, input.key)
  yield* uploadOf(bucket, input.key, input.uploadId)
  yield* checkPartQuota(bucket, input.contentLength)
  const store = yield* BlobStore
  return yield* store.uploadPart(blobKey, input.uploadId, input.partNumber, input.body, { contentLength: input.contentLength }).pipe(
    noSuchUpload(input.uploadId)
  )
})

/** Stores one part of an upload from (a range of) another object. */
export const uploadPartCopy = Effect.fn("Drive.uploadPartCopy")(function*(
  caller: Caller,
  input: {
    readonly bucket: string
    readonly key: string
    readonly uploadId: string
    readonly partNumber: number
    readonly source: { readonly bucket: string; readonly key: string }
    readonly range?: ByteRange | undefined
    readonly conditions?: Preconditions | undefined
  }
) {
  yield* checkPartNumber(input.partNumber)
  const sourceBucket = yield* bucketFor(caller, input.source.bucket, "read")
  const bucket = yield* bucketFor(caller, input.bucket, "write")
  const blobKey = yield* blobKeyOf(bucket, input.key)
  const sourceKey = yield* blobKeyOf(sourceBucket, input.source.key)
  yield* uploadOf(bucket, input.key, input.uploadId)
  const store = yield* BlobStore
  const opened = yield* store.get(sourceKey, { range: input.range }).pipe(
    Effect.catchTag("BlobNotFound", () => Effect.fail(new NoSuchKey({ key: input.source.key })))
  )
  const cancel = Effect.promise(() => opened.body.cancel().catch(() => undefined))
  if (input.conditions !== undefined && evaluatePreconditions(opened.info, input.conditions) !== "ok") {
    yield* cancel
    return yield* new PreconditionFailed({ key: input.source.key, reason: "if-match" })
  }
  yield* checkPartQuota(bucket, opened.length).pipe(Effect.tapError(() => cancel))
  const part = yield* store.uploadPart(blobKey, input.uploadId, input.partNumber, opened.body, { contentLength: opened.length }).pipe(
    noSuchUpload(input.uploadId)
  )
  return { part, lastModified: opened.info.lastModified }
})

/** The parts uploaded so far, after `partNumberMarker`, at most `limit`. */
export const listParts = Effect.fn("Drive.listParts")(function*(
  caller: Caller,
  input: {
    readonly bucket: string
    readonly key: string
    readonly uploadId: string
    readonly partNumberMarker?: number | undefined
    readonly limit: number
  }
) {
  const bucket = yield* bucketFor(caller, input.bucket, "read")
  const blobKey = yield* blobKeyOf(bucket, input.key)
  const upload = yield* uploadOf(bucket, input.key, input.uploadId)
  const store = yield* BlobStore
  const marker = input.partNumberMarker ?? 0
  const parts: Array<PartInfo> = []
  let cursor: string | undefined
  let truncated = false
  do {
    const page = yield* store.listParts(blobKey, input.uploadId, { cursor }).pipe(noSuchUpload(input.uploadId))
    for (const part of page.parts) {
      if (part.partNumber <= marker) continue
      if (parts.length === input.limit) {
        truncated = true
        break
      }
      parts.push(part)
    }
    cursor = truncated ? undefined : page.next
  } while (cursor !== undefined)
  return { parts, truncated, upload }
})

/** How long a completed upload is remembered for a retried completion: one hour. */
export const completedUploadRetentionMillis = 60 * 60 * 1000

type PartList = ReadonlyArray<{ readonly partNumber: number; readonly etag: string }>

/** SHA-256 (hex) of a part list, ETags unquoted, so a retry is matched with the request it repeats. */
const digestOf = (parts: PartList): Effect.Effect<string> =>
  sha256Hex(parts.map((part) => `${part.partNumber}:${unquoteEtag(part.etag)}`).join("\n"))

/**
 * A completion of an upload no longer in progress: the recorded result when the upload was
 * completed with this very part list and its object is still the one it produced (same ETag);
 * `NoSuchUpload` otherwise (never started, aborted, forgotten, completed with other parts, or
 * its object since overwritten or deleted).
 */
const completedAgain = (bucket: Bucket, blobKey: string, input: { readonly key: string; readonly uploadId: string }, digest: string) =>
  Effect.gen(function*() {
    const completed = yield* (yield* UploadRepository).getCompleted(bucket.name, input.uploadId)
    const fresh = completed !== undefined && (yield* nowMillis) - completed.completedAt.getTime() <= completedUploadRetentionMillis
    if (!fresh || completed.key !== input.key || completed.partsDigest !== digest) {
      return yield* new NoSuchUpload({ uploadId: input.uploadId })
    }
    const current = yield* (yield* BlobStore).head(blobKey).pipe(
      Effect.map((info): string | undefined => info.etag),
      Effect.catchTag("BlobNotFound", () => Effect.succeed(undefined))
    )
    if (current !== completed.etag) return yield* new NoSuchUpload({ uploadId: input.uploadId })
    return { etag: completed.etag, size: completed.size, bucket: bucket.name, key: input.key }
  })

/**
 * Assembles the listed parts into the object, atomically. `InvalidInput` for an empty list;
 * the BlobStore's `PreconditionFailed` for a part that is missing or has another ETag
 * (`invalid-part`), parts out of order (`invalid-part-order`) or a part other than the last
 * smaller than 5 MiB (`part-too-small`).
 *
 * Repeated after it succeeded (same bucket, key, upload id and part list, within
 * `completedUploadRetentionMillis`), it answers the same result again without writing anything,
 * as long as the object is still the one the upload produced; otherwise, and after an abort,
 * `NoSuchUpload`. The conditions (`ifNoneMatch`, `ifMatch`) are not evaluated again on a repeat:
 * they held for the write being repeated.
 */
export const completeMultipartUpload = Effect.fn("Drive.completeMultipartUpload")(function*(
  caller: Caller,
  input: {
    readonly bucket: string
    readonly key: string
    readonly uploadId: string
    readonly parts: PartList
    readonly ifNoneMatch?: "*" | undefined
    readonly ifMatch?: string | undefined
  }
) {
  const bucket = yield* bucketFor(caller, input.bucket, "write")
  const blobKey = yield* blobKeyOf(bucket, input.key)
  const uploads = yield* UploadRepository
  const digest = yield* digestOf(input.parts)
  const upload = yield* uploads.get(bucket.name, input.uploadId)
  if (upload === undefined || upload.key !== input.key) return yield* completedAgain(bucket, blobKey, input, digest)
  if (input.parts.length === 0) {
    return yield* new InvalidInput({ message: "you must specify at least one part", field: "parts" })
  }
  for (let i = 1; i < input.parts.length; i++) {
    if (input.parts[i]!.partNumber <= input.parts[i - 1]!.partNumber) {
      return yield* new PreconditionFailed({ key: input.key, reason: "invalid-part-order" })
    }
  }
  for (const part of input.parts) yield* checkPartNumber(part.partNumber)
  const store = yield* BlobStore
  const sizes = new Map<number, number>()
  let cursor: string | undefined
  do {
    const page = yield* store.listParts(blobKey, input.uploadId, { cursor }).pipe(noSuchUpload(input.uploadId))
    for (const part of page.parts) sizes.set(part.partNumber, part.size)
    cursor = page.next
  } while (cursor !== undefined)
  const total = input.parts.reduce((sum, part) => sum + (sizes.get(part.partNumber) ?? 0), 0)
  const previous = yield* store.head(blobKey).pipe(
    Effect.map((info): number | undefined => info.size),
    Effect.catchTag("BlobNotFound", () => Effect.succeed(undefined))
  )
  const written = yield* withReservation(
    bucket,
    { bytes: total - (previous ?? 0), objects: previous === undefined ? 1 : 0 },
    store.completeMultipartUpload(blobKey, input.uploadId, input.parts, { ifNoneMatch: input.ifNoneMatch, ifMatch: input.ifMatch }).pipe(
      Effect.catchTag("BlobNotFound", (error): Effect.Effect<never, NoSuchKey | NoSuchUpload> =>
        error.uploadId === undefined ? Effect.fail(new NoSuchKey({ key: input.key })) : Effect.fail(new NoSuchUpload({ uploadId: input.uploadId })))
    )
  ).pipe(
    // A twin request that completed the upload first: answer as its repeat.
    Effect.catchTag("NoSuchUpload", () => completedAgain(bucket, blobKey, input, digest))
  )
  const completedAt = yield* now
  yield* uploads.markCompleted(bucket.name, input.uploadId, { completedAt, etag: written.etag, size: written.size, partsDigest: digest })
  yield* uploads.forgetCompleted(new Date(completedAt.getTime() - completedUploadRetentionMillis))
  return { etag: written.etag, size: written.size, bucket: bucket.name, key: input.key }
})

/** Discards an upload and its parts. */
export const abortMultipartUpload = Effect.fn("Drive.abortMultipartUpload")(function*(
  caller: Caller,
  input: { readonly bucket: string; readonly key: string; readonly uploadId: string }
) {
  const bucket = yield* bucketFor(caller, input.bucket, "write")
  const blobKey = yield* blobKeyOf(bucket, input.key)
  yield* uploadOf(bucket, input.key, input.uploadId)
  const store = yield* BlobStore
  yield* store.abortMultipartUpload(blobKey, input.uploadId).pipe(
    Effect.catchTag("BlobNotFound", () => Effect.void)
  )
  yield* (yield* UploadRepository).remove(bucket.name, input.uploadId)
})

/** One page of ListMultipartUploads. */
export interface UploadListing {
  readonly uploads: ReadonlyArray<MultipartUpload>
  /** Common prefixes (with a delimiter only), in key order, each ending with the delimiter. */
  readonly prefixes: ReadonlyArray<string>
  /** True when more entries follow; then `nextKeyMarker` (and, after an upload, `nextUploadIdMarker`) resume it. */
  readonly truncated: boolean
  readonly nextKeyMarker?: string | undefined
  readonly nextUploadIdMarker?: string | undefined
}

/**
 * The uploads in progress of a bucket whose key starts with `prefix`, by key then upload id, as
 * S3's ListMultipartUploads pages them: with `delimiter`, the uploads of every key holding it
 * after the prefix are rolled up into one common prefix (the key up to and including its first
 * delimiter), listed once and counted as one entry against `limit` (0 to 1000). Entries start
 * strictly after `keyMarker`: after every upload of that key, or, with `uploadIdMarker`, after
 * the uploads of that key up to that id; a common prefix equal to `keyMarker` (where the previous
 * page stopped) is not listed again. `uploadIdMarker` without `keyMarker` is ignored.
 */
export const listMultipartUploads = Effect.fn("Drive.listMultipartUploads")(function*(
  caller: Caller,
  input: {
    readonly bucket: string
    readonly prefix?: string | undefined
    readonly delimiter?: string | undefined
    readonly keyMarker?: string | undefined
    readonly uploadIdMarker?: string | undefined
    readonly limit: number
  }
) {
  const bucket = yield* bucketFor(caller, input.bucket, "read")
  const limit = Math.max(0, Math.min(input.limit, 1000))
  if (limit === 0) return { uploads: [], prefixes: [], truncated: false } satisfies UploadListing
  const repo = yield* UploadRepository
  const prefix = input.prefix ?? ""
  const delimiter = input.delimiter === "" ? undefined : input.delimiter
  const keyMarker = input.keyMarker === "" ? undefined : input.keyMarker
  let position = { key: keyMarker, uploadId: keyMarker === undefined || input.uploadIdMarker === "" ? undefined : input.uploadIdMarker }
  const uploads: Array<MultipartUpload> = []
  const prefixes: Array<string> = []
  let last: { readonly key: string; readonly uploadId?: string | undefined } | undefined
  let rolled: string | undefined
  const stopped = (): UploadListing => ({ uploads, prefixes, truncated: true, nextKeyMarker: last?.key, nextUploadIdMarker: last?.uploadId })
  for (;;) {
    const page = yield* repo.list(bucket.name, { prefix, keyMarker: position.key, uploadIdMarker: position.uploadId, limit: 1000 })
    let jumped = false
    for (const upload of page.uploads) {
      position = { key: upload.key, uploadId: upload.uploadId }
      const cut = delimiter === undefined ? -1 : upload.key.indexOf(delimiter, prefix.length)
      if (cut < 0) {
        if (uploads.length + prefixes.length === limit) return stopped()
        uploads.push(upload)
        last = { key: upload.key, uploadId: upload.uploadId }
        continue
      }
      const common = upload.key.slice(0, cut + delimiter!.length)
      if (common === rolled) continue
      rolled = common
      if (common !== keyMarker) {
        if (uploads.length + prefixes.length === limit) return stopped()
        prefixes.push(common)
        last = { key: common }
      }
      position = { key: pastEveryKeyUnder(common), uploadId: undefined }
      jumped = true
      break
    }
    if (!jumped && !page.truncated) return { uploads, prefixes, truncated: false } satisfies UploadListing
  }
})
