/**
 * Object use cases over the `BlobStore`: put, get (ranges, conditions), head, delete (one or
 * many), copy and list. Every one first finds the bucket and checks the caller's right on it
 * (`access.ts`), maps the object key to its blob key (`layout.ts`), and keeps the bucket's
 * usage: a write reserves its bytes against the quota before it starts and gives them back if
 * it fails, so a bucket never ends over its quota because of writes that raced.
 *
 * Bodies stream through: nothing here holds a whole object in memory.
 * @module
 */
import { InvalidInput, now } from "@aquifer/core"
import {
  type BlobBody,
  type BlobInfo,
  BlobStore,
  compareKeys,
  type ByteRange,
  pastEveryKeyUnder,
  PreconditionFailed,
  type WriteResult
} from "@aquifer/blob"
import type { Caller } from "@aquifer/identity"
import { Effect, Result, Schema } from "effect"
import { Base64Url } from "effect/encoding"
import { bucketFor } from "./buckets.ts"
import { DriveCredentials } from "./credentials.ts"
import { NoSuchKey } from "./errors.ts"
import { blobKeyOf, bucketPrefix, objectKeyOf } from "./layout.ts"
import type { Bucket } from "./model.ts"
import { evaluatePreconditions, type Preconditions } from "./preconditions.ts"
import { BucketRepository } from "./repositories.ts"

/** Standard headers S3 stores with an object and returns on GET/HEAD. */
export const storedHeaders = ["cache-control", "content-disposition", "content-encoding", "content-language", "expires"] as const
export type StoredHeader = (typeof storedHeaders)[number]

/** Blob metadata names starting with this hold stored headers; user metadata may not use it. */
export const systemMetadataPrefix = "x-amz-"

/** What a writer says about an object besides its bytes. */
export interface ObjectAttributes {
  readonly contentType?: string | undefined
  /** User metadata (`x-amz-meta-*`), names lower-case. */
  readonly metadata?: Readonly<Record<string, string>> | undefined
  readonly headers?: Readonly<Partial<Record<StoredHeader, string>>> | undefined
}

/** What is known of an object. */
export interface ObjectInfo {
  readonly key: string
  readonly size: number
  readonly etag: string
  readonly lastModified: Date
  readonly contentType: string
  readonly metadata: Readonly<Record<string, string>>
  readonly headers: Readonly<Partial<Record<StoredHeader, string>>>
}

/** One entry of a listing. */
export interface ObjectSummary {
  readonly key: string
  readonly size: number
  readonly etag: string
  readonly lastModified: Date
}

const toBlobAttributes = (attributes: ObjectAttributes) =>
  Effect.gen(function*() {
    const metadata: Record<string, string> = {}
    for (const [name, value] of Object.entries(attributes.metadata ?? {})) {
      if (name.startsWith(systemMetadataPrefix)) {
        return yield* new InvalidInput({ message: `metadata names may not start with "${systemMetadataPrefix}"`, field: "metadata" })
      }
      metadata[name] = value
    }
    for (const [name, value] of Object.entries(attributes.headers ?? {})) {
      if (value !== undefined) metadata[systemMetadataPrefix + name] = value
    }
    return { contentType: attributes.contentType, metadata }
  })

/** Splits a blob's attributes back into user metadata and stored headers. */
export const objectInfoOf = (bucket: Bucket, info: BlobInfo): ObjectInfo => {
  const metadata: Record<string, string> = {}
  const headers: Partial<Record<StoredHeader, string>> = {}
  for (const [name, value] of Object.entries(info.metadata)) {
    if (!name.startsWith(systemMetadataPrefix)) metadata[name] = value
    else {
      const header = name.slice(systemMetadataPrefix.length) as StoredHeader
      if (storedHeaders.includes(header)) headers[header] = value
    }
  }
  return {
    key: objectKeyOf(bucket, info.key),
    size: info.size,
    etag: info.etag,
    lastModified: info.lastModified,
    contentType: info.contentType,
    metadata,
    headers
  }
}

/** The current object's size under a blob key, or undefined. */
export const currentSize = (blobKey: string) =>
  Effect.gen(function*() {
    const store = yield* BlobStore
    return yield* store.head(blobKey).pipe(
      Effect.map((info): number | undefined => info.size),
      Effect.catchTag("BlobNotFound", () => Effect.succeed(undefined))
    )
  })

/**
 * Reserves `delta` against the bucket's quota around `write`: released again when the write
 * fails or is interrupted.
 */
export const withReservation = <A, E, R>(
  bucket: Bucket,
  delta: { readonly bytes: number; readonly objects: number },
  write: Effect.Effect<A, E, R>
) =>
  Effect.gen(function*() {
    const repo = yield* BucketRepository
    if (delta.bytes !== 0 || delta.objects !== 0) {
      yield* repo.adjustUsage(bucket.name, delta, true).pipe(Effect.catchTag("NotFound", () => Effect.void))
    }
    return yield* write.pipe(
      Effect.onError(() => repo.adjustUsage(bucket.name, { bytes: -delta.bytes, objects: -delta.objects }, false).pipe(Effect.ignore))
    )
  })

export interface PutObjectInput extends ObjectAttributes {
  readonly bucket: string
  readonly key: string
  readonly body: BlobBody
  /** The exact length of `body` (S3 requires it up front). */
  readonly contentLength: number
  readonly ifNoneMatch?: "*" | undefined
  readonly ifMatch?: string | undefined
}

/** Writes an object, atomically: readers see the old object or the new one. */
export const putObject = Effect.fn("Drive.putObject")(function*(caller: Caller, input: PutObjectInput) {
  const bucket = yield* bucketFor(caller, input.bucket, "write")
  const blobKey = yield* blobKeyOf(bucket, input.key)
  const attributes = yield* toBlobAttributes(input)
  const previous = yield* currentSize(blobKey)
  const store = yield* BlobStore
  const delta = { bytes: input.contentLength - (previous ?? 0), objects: previous === undefined ? 1 : 0 }
  const written: WriteResult = yield* withReservation(
    bucket,
    delta,
    store.put(blobKey, input.body, {
      ...attributes,
      contentLength: input.contentLength,
      ifNoneMatch: input.ifNoneMatch,
      ifMatch: input.ifMatch
    })
  )
  return { etag: written.etag, size: written.size }
})

/** The outcome of a GET: the bytes, or "not modified" (304) when a condition says so. */
export type GetObjectResult =
  | {
    readonly _tag: "Body"
    readonly info: ObjectInfo
    readonly offset: number
    readonly length: number
    readonly body: ReadableStream<Uint8Array>
  }
  | { readonly _tag: "NotModified"; readonly info: ObjectInfo }

const checkConditions = (
  info: ObjectInfo,
  conditions: Preconditions | undefined
): Effect.Effect<"ok" | "not-modified", PreconditionFailed> => {
  const outcome = conditions === undefined ? "ok" : evaluatePreconditions(info, conditions)
  return outcome === "failed" ? Effect.fail(new PreconditionFailed({ key: info.key, reason: "if-match" })) : Effect.succeed(outcome)
}

/** Opens an object (or a range of it), honouring conditional headers. */
export const getObject = Effect.fn("Drive.getObject")(function*(
  caller: Caller,
  input: { readonly bucket: string; readonly key: string; readonly range?: ByteRange | undefined; readonly conditions?: Preconditions | undefined }
) {
  const bucket = yield* bucketFor(caller, input.bucket, "read")
  const blobKey = yield* blobKeyOf(bucket, input.key)
  const store = yield* BlobStore
  const opened = yield* store.get(blobKey, { range: input.range }).pipe(
    Effect.catchTag("BlobNotFound", () => Effect.fail(new NoSuchKey({ key: input.key }))),
    Effect.catchTag("InvalidRange", (error) =>
      input.conditions === undefined
        ? Effect.fail(error)
        : Effect.flatMap(headObject(caller, { bucket: input.bucket, key: input.key, conditions: input.conditions }), (head) =>
          head._tag === "NotModified" ? Effect.succeed(head) : Effect.fail(error)))
  )
  if ("_tag" in opened) return opened satisfies GetObjectResult
  const info = objectInfoOf(bucket, opened.info)
  const outcome = yield* checkConditions(info, input.conditions).pipe(
    Effect.tapError(() => Effect.promise(() => opened.body.cancel().catch(() => undefined)))
  )
  if (outcome === "not-modified") {
    yield* Effect.promise(() => opened.body.cancel().catch(() => undefined))
    return { _tag: "NotModified", info } satisfies GetObjectResult
  }
  return { _tag: "Body", info, offset: opened.offset, length: opened.length, body: opened.body } satisfies GetObjectResult
})

/** An object's attributes, honouring conditional headers. */
export const headObject = Effect.fn("Drive.headObject")(function*(
  caller: Caller,
  input: { readonly bucket: string; readonly key: string; readonly conditions?: Preconditions | undefined }
) {
  const bucket = yield* bucketFor(caller, input.bucket, "read")
  const blobKey = yield* blobKeyOf(bucket, input.key)
  const store = yield* BlobStore
  const blobInfo = yield* store.head(blobKey).pipe(Effect.catchTag("BlobNotFound", () => Effect.fail(new NoSuchKey({ key: input.key }))))
  const info = objectInfoOf(bucket, blobInfo)
  const outcome = yield* checkConditions(info, input.conditions)
  return outcome === "not-modified" ? { _tag: "NotModified" as const, info } : { _tag: "Info" as const, info }
})

const deleteIn = (bucket: Bucket, key: string) =>
  Effect.gen(function*() {
    const blobKey = yield* blobKeyOf(bucket, key)
    const store = yield* BlobStore
    const previous = yield* currentSize(blobKey)
    yield* store.delete(blobKey)
    if (previous !== undefined) {
      yield* (yield* BucketRepository).adjustUsage(bucket.name, { bytes: -previous, objects: -1 }, false).pipe(
        Effect.catchTag(["NotFound", "QuotaExceeded"], () => Effect.void)
      )
    }
  })

/** Deletes an object; deleting an absent key succeeds. */
export const deleteObject = Effect.fn("Drive.deleteObject")(function*(caller: Caller, input: { readonly bucket: string; readonly key: string }) {
  const bucket = yield* bucketFor(caller, input.bucket, "write")
  yield* deleteIn(bucket, input.key)
})

/** The most keys one DeleteObjects request may name (S3's limit). */
export const maxDeleteKeys = 1000

/** The outcome of deleting one key of many. */
export type DeleteOutcome =
  | { readonly key: string; readonly deleted: true }
  | { readonly key: string; readonly deleted: false; readonly error: { readonly _tag: string; readonly message: string } }

/**
 * Deletes up to {@link maxDeleteKeys} objects of one bucket. The caller's right is checked once,
 * for the whole request; each key then succeeds or fails on its own (an invalid key fails alone).
 */
export const deleteObjects = Effect.fn("Drive.deleteObjects")(function*(
  caller: Caller,
  input: { readonly bucket: string; readonly keys: ReadonlyArray<string> }
) {
  if (input.keys.length === 0 || input.keys.length > maxDeleteKeys) {
    return yield* new InvalidInput({ message: `name 1 to ${maxDeleteKeys} keys`, field: "keys" })
  }
  const bucket = yield* bucketFor(caller, input.bucket, "write")
  return yield* Effect.forEach(input.keys, (key) =>
    deleteIn(bucket, key).pipe(
      Effect.as<DeleteOutcome>({ key, deleted: true }),
      Effect.catch((error) => Effect.succeed<DeleteOutcome>({ key, deleted: false, error: { _tag: error._tag, message: error.message } }))
    ), { concurrency: 4 })
})

/** Copies an object (within a bucket or across buckets), keeping or replacing its attributes. */
export const copyObject = Effect.fn("Drive.copyObject")(function*(
  caller: Caller,
  input: {
    readonly source: { readonly bucket: string; readonly key: string }
    readonly destination: { readonly bucket: string; readonly key: string }
    /** Present: replace the source's attributes with these (S3's `REPLACE` directive). */
    readonly replace?: ObjectAttributes | undefined
    readonly conditions?: Preconditions | undefined
  }
) {
  const sourceBucket = yield* bucketFor(caller, input.source.bucket, "read")
  const target = yield* bucketFor(caller, input.destination.bucket, "write")
  const sourceKey = yield* blobKeyOf(sourceBucket, input.source.key)
  const targetKey = yield* blobKeyOf(target, input.destination.key)
  if (sourceKey === targetKey && input.replace === undefined) {
    return yield* new InvalidInput({
      message: "this copy request is illegal because it is trying to copy an object to itself without changing the object's metadata",
      field: "copy-source"
    })
  }
  const store = yield* BlobStore
  const sourceInfo = yield* store.head(sourceKey).pipe(
    Effect.catchTag("BlobNotFound", () => Effect.fail(new NoSuchKey({ key: input.source.key })))
  )
  if (input.conditions !== undefined && evaluatePreconditions(sourceInfo, input.conditions) !== "ok") {
    return yield* new PreconditionFailed({ key: input.source.key, reason: "if-match" })
  }
  const attributes = input.replace === undefined ? undefined : yield* toBlobAttributes(input.replace)
  const previous = yield* currentSize(targetKey)
  const written = yield* withReservation(
    target,
    { bytes: sourceInfo.size - (previous ?? 0), objects: previous === undefined ? 1 : 0 },
    store.copy(sourceKey, targetKey, attributes === undefined ? {} : {
      contentType: attributes.contentType ?? "application/octet-stream",
      metadata: attributes.metadata
    }).pipe(Effect.catchTag("BlobNotFound", () => Effect.fail(new NoSuchKey({ key: input.source.key }))))
  )
  return { etag: written.etag, lastModified: yield* now }
})

const ListToken = Schema.Struct({ c: Schema.String, s: Schema.String, p: Schema.String, d: Schema.String })
const decodeListToken = Schema.decodeUnknownOption(Schema.fromJsonString(ListToken))

const toBase64Url = (text: string) => Base64Url.encode(text)
const fromBase64Url = (text: string): string | undefined => {
  const bytes = Base64Url.decode(text)
  if (Result.isFailure(bytes)) return undefined
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes.success)
  } catch {
    return undefined
  }
}

const forgedToken = new InvalidInput({ message: "the continuation token provided is incorrect", field: "continuation-token" })

/** One page of a listing. */
export interface ObjectPage {
  readonly items: ReadonlyArray<ObjectSummary>
  readonly prefixes: ReadonlyArray<string>
  /** Pass back as `continuationToken` for the next page; absent on the last page. */
  readonly continuationToken?: string | undefined
  /** The last key or common prefix the store returned for this page (S3's V1 `NextMarker`). */
  readonly lastEntry?: string | undefined
}

/**
 * One page of a bucket's objects under `prefix`, keys rolled up into common prefixes at
 * `delimiter`, after `startAfter` (or resuming a `continuationToken` minted here for the same
 * bucket, prefix and delimiter — any other token is `InvalidInput`). Never lists an entry that
 * sorts at or before `startAfter`; a `startAfter` that is a common prefix at `delimiter` (where
 * the previous page stopped) passes over every key rolled up into it.
 */
export const listObjects = Effect.fn("Drive.listObjects")(function*(
  caller: Caller,
  input: {
    readonly bucket: string
    readonly prefix?: string | undefined
    readonly delimiter?: string | undefined
    readonly startAfter?: string | undefined
    readonly continuationToken?: string | undefined
    readonly limit: number
  }
) {
  const bucket = yield* bucketFor(caller, input.bucket, "read")
  const credentials = yield* DriveCredentials
  const store = yield* BlobStore
  const root = bucketPrefix(bucket)
  const prefix = input.prefix ?? ""
  const delimiter = input.delimiter === "" ? undefined : input.delimiter
  let cursor: string | undefined
  if (input.continuationToken !== undefined) {
    const [payload, mac] = input.continuationToken.split(".")
    if (payload === undefined || mac === undefined || input.continuationToken.length > 8192) return yield* forgedToken
    if ((yield* credentials.mac(payload)) !== mac) return yield* forgedToken
    const token = decodeListToken(fromBase64Url(payload) ?? "")
    if (token._tag === "None" || token.value.s !== bucket.storageId || token.value.p !== prefix || token.value.d !== (delimiter ?? "")) {
      return yield* forgedToken
    }
    cursor = token.value.c
  }
  if (input.limit === 0) return { items: [], prefixes: [] } satisfies ObjectPage
  const startAfter = input.startAfter === undefined || input.startAfter === "" ? undefined : input.startAfter
  // A marker that is itself a common prefix (V1's NextMarker after a page ending on one) passes
  // over every key rolled up into it: the store starts after the last key it could hold.
  const isCommonPrefix = startAfter !== undefined && delimiter !== undefined && startAfter.startsWith(prefix) &&
    startAfter.indexOf(delimiter, prefix.length) === startAfter.length - delimiter.length
  const page = yield* store.list({
    prefix: root + prefix,
    delimiter,
    startAfter: startAfter === undefined ? undefined : isCommonPrefix ? pastEveryKeyUnder(root + startAfter) : root + startAfter,
    cursor,
    limit: input.limit
  }).pipe(
    Effect.map((page) => ({ ...page, empty: false })),
    Effect.catchTag("InvalidKey", () => Effect.succeed({ items: [], prefixes: [], next: undefined, empty: true })),
    Effect.catchTag("InvalidArgument", (error) =>
      Effect.fail(new InvalidInput({ message: error.message, field: error.field === "cursor" ? "continuation-token" : error.field })))
  )
  const after = (key: string) => startAfter === undefined || compareKeys(key, startAfter) > 0
  const items = page.items.map((item) => ({ ...item, key: objectKeyOf(bucket, item.key) })).filter((item) => after(item.key))
  const prefixes = page.prefixes.map((p) => objectKeyOf(bucket, p)).filter(after)
  const lastEntry = [page.items.at(-1)?.key, page.prefixes.at(-1)].filter((k): k is string => k !== undefined)
    .map((k) => objectKeyOf(bucket, k)).sort(compareKeys).at(-1)
  let continuationToken: string | undefined
  if (page.next !== undefined) {
    const payload = toBase64Url(JSON.stringify({ c: page.next, s: bucket.storageId, p: prefix, d: delimiter ?? "" }))
    continuationToken = `${payload}.${yield* credentials.mac(payload)}`
  }
  return { items, prefixes, continuationToken, lastEntry } satisfies ObjectPage
})
