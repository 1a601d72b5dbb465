/**
 * The `BlobStore` port: a flat namespace of keys, each holding an immutable object (bytes, a
 * content type, user metadata, an ETag, a size and a modification time), written and read as
 * streams. Modelled on Go CDK's `blob/driver`: callers use {@link BlobStore}; adapters implement
 * a {@link BlobStoreDriver} and wrap it with {@link fromDriver}, which checks every argument
 * first, so every adapter refuses exactly the same inputs with exactly the same errors.
 *
 * ## Promises every adapter keeps (and `testing.ts` checks)
 *
 * - **Strong read-after-write.** Once `put`, `copy`, `completeMultipartUpload` or `delete`
 *   succeeded, every later `head`, `get` and `list` (from any caller of the same store) sees it.
 * - **Whole objects only.** A reader sees a whole object or none: never a partial write, never
 *   the bytes of one version with the ETag, size or metadata of another. A `get` that started
 *   before a write finished keeps streaming the version it opened, to its end.
 * - **Atomic writes.** Two writers racing on one key leave exactly one of their bodies, whole,
 *   with that writer's metadata. A write that fails or is interrupted leaves the key as it was.
 * - **Conditional writes.** `ifNoneMatch: "*"` writes only when the key is absent (otherwise
 *   `BlobAlreadyExists`); `ifMatch: etag` only when the current object has that ETag (otherwise
 *   `PreconditionFailed`, or `BlobNotFound` when there is no object). The check and the write
 *   are one atomic step.
 * - **ETags** are opaque strings without quotes. Two reads returning the same ETag for a key
 *   returned the same bytes; a rewrite changes the ETag unless the backend derives ETags from
 *   content and the content is the same (S3 does).
 * - **Listing** is in Unicode code point order of keys (= byte order of UTF-8), in pages of at
 *   most `limit` entries (keys and common prefixes together), each page strictly after the
 *   previous one. A listing reflects every write that completed before the page was requested.
 * - **Deletion** is idempotent: deleting an absent key succeeds.
 *
 * ## Streams
 *
 * Bodies go in as a Web `ReadableStream<Uint8Array>` or any `AsyncIterable<Uint8Array>` and come
 * out as a Web `ReadableStream<Uint8Array>` (see `body.ts`). A `get` body must be read to its
 * end or cancelled: it may hold a file descriptor or a connection until then. When the backend
 * fails in the middle of a body, the stream errors with a `BlobStoreError` or
 * `BlobStoreUnavailable`; it never ends early as if the object were shorter.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { BlobStore, layerMemory } from "@aquifer/blob"
 *
 * const program = Effect.gen(function*() {
 *   const store = yield* BlobStore
 *   const written = yield* store.put("reports/2026.csv", new Blob(["a,b\n1,2\n"]).stream(), { contentType: "text/csv" })
 *   const { body, info } = yield* store.get("reports/2026.csv", { range: { offset: 4 } })
 *   const text = yield* Effect.promise(() => new Response(body).text()) // "1,2\n"
 *   return { etag: written.etag, size: info.size, text }
 * }).pipe(Effect.provide(layerMemory))
 * ```
 * @module
 */
import { Context, Effect } from "effect"
import { type BlobBody, BodySource, isBlobBody } from "./body.ts"
import {
  type BlobAlreadyExists,
  type BlobNotFound,
  type BlobStoreError,
  type BlobStoreUnavailable,
  InvalidArgument,
  InvalidKey,
  InvalidRange,
  PreconditionFailed
} from "./errors.ts"
import { defaultContentType, keyProblem, prefixProblem, validateAttributes } from "./key.ts"
import { type ByteRange, rangeProblem } from "./range.ts"

/** What a backend fails with on its own: it cannot be reached, or something else went wrong. */
export type BackendError = BlobStoreUnavailable | BlobStoreError

/** What is known of a stored object. */
export interface BlobInfo {
  readonly key: string
  /** Size in bytes. */
  readonly size: number
  /** Opaque version tag, without quotes. */
  readonly etag: string
  /** When this version was written (precision: the backend's, often one second). */
  readonly lastModified: Date
  /** `application/octet-stream` when the writer gave none. */
  readonly contentType: string
  /** User metadata, exactly as written (names lower-case). */
  readonly metadata: Readonly<Record<string, string>>
}

/** One entry of a listing. */
export interface BlobSummary {
  readonly key: string
  readonly size: number
  readonly etag: string
  readonly lastModified: Date
}

/** The outcome of a write. */
export interface WriteResult {
  readonly key: string
  /** Bytes stored. */
  readonly size: number
  /** The ETag of the version just written. */
  readonly etag: string
}

/** Options of `put`. */
export interface PutOptions {
  /** Stored and returned as is; `application/octet-stream` when absent. */
  readonly contentType?: string | undefined
  /** User metadata; see `metadataProblem` for the rules. */
  readonly metadata?: Readonly<Record<string, string>> | undefined
  /**
   * The body's length when the caller knows it. Adapters may then stream it straight through
   * (S3 needs it to avoid a multipart upload). A body of another length fails with
   * `InvalidArgument` and writes nothing.
   */
  readonly contentLength?: number | undefined
  /** `"*"`: write only if no object exists under the key, else `BlobAlreadyExists`. */
  readonly ifNoneMatch?: "*" | undefined
  /** Write only if the current object has this ETag, else `PreconditionFailed` (`BlobNotFound` when absent). */
  readonly ifMatch?: string | undefined
}

/** Options of `get`. */
export interface GetOptions {
  /** Only these bytes; see `range.ts` for what is satisfiable. */
  readonly range?: ByteRange | undefined
}

/** An open read: the object's attributes and a stream of the requested bytes of that same version. */
export interface GetResult {
  readonly info: BlobInfo
  /** The first byte `body` yields (0 without a range). */
  readonly offset: number
  /** How many bytes `body` yields (`info.size` without a range). */
  readonly length: number
  /** The bytes; read it to the end or cancel it. */
  readonly body: ReadableStream<Uint8Array>
}

/** Options of `copy`. Given attributes replace the source's; absent ones are copied. */
export interface CopyOptions {
  readonly contentType?: string | undefined
  readonly metadata?: Readonly<Record<string, string>> | undefined
}

/** Options of `list`. */
export interface ListOptions {
  /** Only keys starting with this (default: all keys). */
  readonly prefix?: string | undefined
  /**
   * Keys containing `delimiter` after the prefix are rolled up into one common prefix (the key
   * up to and including the first such delimiter), listed once in `prefixes`.
   */
  readonly delimiter?: string | undefined
  /** Only keys (and prefixes) sorting strictly after this. Ignored when `cursor` is given. */
  readonly startAfter?: string | undefined
  /** The `next` of the previous page, with the same `prefix` and `delimiter`. */
  readonly cursor?: string | undefined
  /** Most entries (keys plus prefixes) in the page: 1 to 1000, default 1000. */
  readonly limit?: number | undefined
}

/** One page of a listing. */
export interface ListPage {
  /** Objects, in key order. */
  readonly items: ReadonlyArray<BlobSummary>
  /** Common prefixes (with a delimiter only), in order, each ending with the delimiter. */
  readonly prefixes: ReadonlyArray<string>
  /** Present when more may follow: pass it as `cursor`. */
  readonly next?: string | undefined
}

/** Options of `createMultipartUpload`: the attributes the completed object will have. */
export interface MultipartOptions {
  readonly contentType?: string | undefined
  readonly metadata?: Readonly<Record<string, string>> | undefined
}

/** A part as uploaded. */
export interface PartInfo {
  readonly partNumber: number
  readonly etag: string
  readonly size: number
}

/** A part named in `completeMultipartUpload`. */
export interface CompletedPart {
  readonly partNumber: number
  readonly etag: string
}

/** One page of `listParts`. */
export interface PartsPage {
  /** Parts in ascending part number. */
  readonly parts: ReadonlyArray<PartInfo>
  readonly next?: string | undefined
}

/** Options of `completeMultipartUpload`: the same conditions as `put`. */
export interface CompleteOptions {
  readonly ifNoneMatch?: "*" | undefined
  readonly ifMatch?: string | undefined
}

/** Every part but the last must hold at least this many bytes (S3's rule, kept by every adapter). */
export const minPartSize = 5 * 1024 * 1024
/** A part may hold at most this many bytes. */
export const maxPartSize = 5 * 1024 * 1024 * 1024
/** Part numbers run from 1 to this. */
export const maxPartNumber = 10_000
/** The default and largest page of `list` and `listParts`. */
export const maxListLimit = 1000

/**
 * The port. Every method first checks its arguments (`InvalidKey`, `InvalidArgument`,
 * `InvalidRange` for a malformed range) and touches nothing when they are wrong; every method
 * may also fail with `BlobStoreUnavailable` or `BlobStoreError`.
 */
export class BlobStore extends Context.Service<BlobStore, {
  /**
   * Writes `body` under `key`, replacing any object there, atomically (temp + rename, a single
   * PUT, or a committed block list): until it succeeds readers see the previous object or none.
   * Conditional with `ifNoneMatch` / `ifMatch` (see {@link PutOptions}). If the body's stream
   * fails, or ends before / runs past `contentLength`, fails with `InvalidArgument` (field
   * `body`) and writes nothing; so does interrupting the effect before the body has ended.
   */
  readonly put: (
    key: string,
    body: BlobBody,
    options?: PutOptions
  ) => Effect.Effect<WriteResult, InvalidKey | InvalidArgument | BlobAlreadyExists | PreconditionFailed | BlobNotFound | BackendError>

  /**
   * Opens the object under `key` (or `range` of it): `BlobNotFound` when absent, `InvalidRange`
   * (with the object's size) when the range is unsatisfiable. `info` describes exactly the
   * version whose bytes `body` streams.
   */
  readonly get: (
    key: string,
    options?: GetOptions
  ) => Effect.Effect<GetResult, InvalidKey | InvalidRange | BlobNotFound | BackendError>

  /** The attributes of the object under `key`; `BlobNotFound` when absent. */
  readonly head: (key: string) => Effect.Effect<BlobInfo, InvalidKey | BlobNotFound | BackendError>

  /** Removes the object under `key`; succeeds when there is none. */
  readonly delete: (key: string) => Effect.Effect<void, InvalidKey | BackendError>

  /**
   * Copies the object under `source` to `destination` (which may be the same key, to change its
   * attributes), atomically like `put`; `BlobNotFound` (for `source`) when absent. The copy has
   * a new ETag and the source's bytes, content type and metadata unless `options` replaces them.
   */
  readonly copy: (
    source: string,
    destination: string,
    options?: CopyOptions
  ) => Effect.Effect<WriteResult, InvalidKey | InvalidArgument | BlobNotFound | BackendError>

  /**
   * One page of the keys under `prefix`, in code point order, with common prefixes when a
   * `delimiter` is given. `InvalidKey` for a prefix no valid key can start with (`../`),
   * `InvalidArgument` for a cursor this store did not issue or an empty delimiter.
   */
  readonly list: (options?: ListOptions) => Effect.Effect<ListPage, InvalidKey | InvalidArgument | BackendError>

  /**
   * Starts a multipart upload to `key` and returns its upload id. Parts live apart from the key
   * until completion: the key's current object stays readable, and other writes to it do not
   * disturb the upload (the azure adapter documents one exception).
   */
  readonly createMultipartUpload: (
    key: string,
    options?: MultipartOptions
  ) => Effect.Effect<string, InvalidKey | InvalidArgument | BackendError>

  /**
   * Stores part `partNumber` (1 to 10 000) of an upload, streamed; `contentLength` is required
   * (every backend needs it up front). Uploading a part number again replaces that part.
   * `BlobNotFound` (with `uploadId`) for an unknown, completed or aborted upload.
   */
  readonly uploadPart: (
    key: string,
    uploadId: string,
    partNumber: number,
    body: BlobBody,
    options: { readonly contentLength: number }
  ) => Effect.Effect<PartInfo, InvalidKey | InvalidArgument | BlobNotFound | BackendError>

  /** The parts uploaded so far, by ascending part number, in pages of at most `limit` (default 1000). */
  readonly listParts: (
    key: string,
    uploadId: string,
    options?: { readonly cursor?: string | undefined; readonly limit?: number | undefined }
  ) => Effect.Effect<PartsPage, InvalidKey | InvalidArgument | BlobNotFound | BackendError>

  /**
   * Assembles the listed parts, in the order given (strictly ascending part numbers, else
   * `PreconditionFailed` `invalid-part-order`), into the object under `key`, atomically like
   * `put` and with the same conditions. Each listed part must exist with the given ETag
   * (`invalid-part`) and hold at least `minPartSize` bytes unless it is the last
   * (`part-too-small`); parts uploaded but not listed are discarded. Idempotent: completing an
   * upload that already completed returns the same result, as long as the object it created is
   * still the key's current one (otherwise `BlobNotFound` with `uploadId`).
   */
  readonly completeMultipartUpload: (
    key: string,
    uploadId: string,
    parts: ReadonlyArray<CompletedPart>,
    options?: CompleteOptions
  ) => Effect.Effect<
    WriteResult,
    InvalidKey | InvalidArgument | BlobNotFound | BlobAlreadyExists | PreconditionFailed | BackendError
  >

  /** Discards an upload and its parts; `BlobNotFound` (with `uploadId`) when it is unknown. */
  readonly abortMultipartUpload: (
    key: string,
    uploadId: string
  ) => Effect.Effect<void, InvalidKey | InvalidArgument | BlobNotFound | BackendError>
}>()("@aquifer/blob/BlobStore") {}

/** The methods of the port, as a value (what `yield* BlobStore` gives). */
export type BlobStoreService = BlobStore["Service"]

/**
 * What an adapter implements. It has the port's shape, but {@link fromDriver} has already
 * checked every argument: keys, prefixes and metadata are valid, `contentType` is set, `limit`
 * is within 1–1000, ranges are well-formed (not yet resolved against a size), part lists are
 * strictly ascending with unquoted ETags, and bodies are {@link BodySource}s. A driver must still
 * resolve ranges, decode its own cursors, and map every backend failure to the port's errors.
 */
export interface BlobStoreDriver {
  readonly put: (
    key: string,
    body: BodySource,
    options: PutOptions & { readonly contentType: string; readonly metadata: Readonly<Record<string, string>> }
  ) => ReturnType<BlobStoreService["put"]>
  readonly get: (key: string, options: GetOptions) => ReturnType<BlobStoreService["get"]>
  readonly head: BlobStoreService["head"]
  readonly delete: BlobStoreService["delete"]
  readonly copy: (source: string, destination: string, options: CopyOptions) => ReturnType<BlobStoreService["copy"]>
  readonly list: (
    options: ListOptions & { readonly prefix: string; readonly limit: number }
  ) => ReturnType<BlobStoreService["list"]>
  readonly createMultipartUpload: (
    key: string,
    options: { readonly contentType: string; readonly metadata: Readonly<Record<string, string>> }
  ) => ReturnType<BlobStoreService["createMultipartUpload"]>
  readonly uploadPart: (
    key: string,
    uploadId: string,
    partNumber: number,
    body: BodySource
  ) => ReturnType<BlobStoreService["uploadPart"]>
  readonly listParts: (
    key: string,
    uploadId: string,
    options: { readonly cursor?: string | undefined; readonly limit: number }
  ) => ReturnType<BlobStoreService["listParts"]>
  readonly completeMultipartUpload: (
    key: string,
    uploadId: string,
    parts: ReadonlyArray<CompletedPart>,
    options: CompleteOptions
  ) => ReturnType<BlobStoreService["completeMultipartUpload"]>
  readonly abortMultipartUpload: BlobStoreService["abortMultipartUpload"]
}

const checkKey = (key: string): Effect.Effect<void, InvalidKey> => {
  const reason = keyProblem(key)
  return reason === undefined ? Effect.void : Effect.fail(new InvalidKey({ key: String(key), reason }))
}

const invalid = (field: string, message: string) => Effect.fail(new InvalidArgument({ field, message }))

/** Strips the quotes HTTP puts around ETags (`"abc"`, `W/"abc"`), so either form may be passed. */
export const unquoteEtag = (etag: string): string => {
  const weak = etag.startsWith("W/") ? etag.slice(2) : etag
  return weak.length >= 2 && weak.startsWith("\"") && weak.endsWith("\"") ? weak.slice(1, -1) : weak
}

const checkEtag = (field: string, etag: unknown): Effect.Effect<string, InvalidArgument> =>
  typeof etag === "string" && unquoteEtag(etag).length > 0 && unquoteEtag(etag).length <= 1024
    ? Effect.succeed(unquoteEtag(etag))
    : invalid(field, "an ETag must be a non-empty string")

const checkConditions = (options: { readonly ifNoneMatch?: unknown; readonly ifMatch?: unknown }) =>
  Effect.gen(function*() {
    if (options.ifNoneMatch !== undefined && options.ifNoneMatch !== "*") {
      return yield* invalid("ifNoneMatch", "ifNoneMatch may only be \"*\"")
    }
    if (options.ifMatch !== undefined && options.ifNoneMatch !== undefined) {
      return yield* invalid("ifMatch", "ifMatch and ifNoneMatch exclude each other")
    }
    return options.ifMatch === undefined ? undefined : yield* checkEtag("ifMatch", options.ifMatch)
  })

const checkUploadId = (uploadId: unknown) =>
  typeof uploadId === "string" && uploadId.length > 0 && uploadId.length <= 1024
    ? Effect.void
    : invalid("uploadId", "an upload id must be a non-empty string")

const checkLimit = (limit: unknown): Effect.Effect<number, InvalidArgument> =>
  limit === undefined
    ? Effect.succeed(maxListLimit)
    : typeof limit === "number" && Number.isInteger(limit) && limit >= 1 && limit <= maxListLimit
    ? Effect.succeed(limit)
    : invalid("limit", `a limit must be an integer from 1 to ${maxListLimit}`)

const checkCursor = (cursor: unknown) =>
  cursor === undefined || (typeof cursor === "string" && cursor.length > 0 && cursor.length <= 8192)
    ? Effect.void
    : invalid("cursor", "the cursor is not one this store issued")

const checkLength = (field: string, length: unknown, maximum: number) =>
  typeof length === "number" && Number.isSafeInteger(length) && length >= 0 && length <= maximum
    ? Effect.void
    : invalid(field, `a length must be an integer from 0 to ${maximum}`)

const checkPartNumber = (partNumber: unknown) =>
  typeof partNumber === "number" && Number.isInteger(partNumber) && partNumber >= 1 && partNumber <= maxPartNumber
    ? Effect.void
    : invalid("partNumber", `a part number must be an integer from 1 to ${maxPartNumber}`)

const checkBody = (body: unknown) => isBlobBody(body) ? Effect.void : invalid("body", "a body must be a ReadableStream or an AsyncIterable of Uint8Array")

/** When a driver fails before reading a body (a backend that is down), the caller's stream is released. */
const releaseUnread = (source: BodySource) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.onError(effect, () => Effect.promise(() => source.cancel()))

/**
 * Builds the port from a driver: every argument is checked here, once, for all adapters, and a
 * body refused by these checks is cancelled so the caller's stream is released.
 */
export const fromDriver = (driver: BlobStoreDriver): BlobStoreService => {
  const withBody = <A, E, R>(body: BlobBody, check: Effect.Effect<void, E, R>, run: Effect.Effect<A, E, R>) =>
    check.pipe(
      Effect.tapError(() => isBlobBody(body) ? Effect.promise(() => BodySource.from(body).cancel()) : Effect.void),
      Effect.andThen(run)
    )
  return BlobStore.of({
    put: (key, body, options = {}) => {
      let ifMatch: string | undefined
      return withBody(
        body,
        Effect.gen(function*() {
          yield* checkKey(key)
          yield* checkBody(body)
          yield* validateAttributes(options)
          if (options.contentLength !== undefined) yield* checkLength("contentLength", options.contentLength, Number.MAX_SAFE_INTEGER)
          ifMatch = yield* checkConditions(options)
        }),
        Effect.suspend(() => {
          const source = BodySource.from(body, options.contentLength)
          return driver.put(key, source, {
            contentType: options.contentType ?? defaultContentType,
            metadata: options.metadata ?? {},
            contentLength: options.contentLength,
            ifNoneMatch: options.ifNoneMatch,
            ifMatch
          }).pipe(releaseUnread(source))
        })
      )
    },
    get: (key, options = {}) =>
      Effect.gen(function*() {
        yield* checkKey(key)
        if (options.range !== undefined) {
          const reason = typeof options.range === "object" && options.range !== null ? rangeProblem(options.range) : "a range must be an object"
          if (reason !== undefined) return yield* new InvalidRange({ key, reason })
        }
        return yield* driver.get(key, options)
      }),
    head: (key) => checkKey(key).pipe(Effect.andThen(driver.head(key))),
    delete: (key) => checkKey(key).pipe(Effect.andThen(driver.delete(key))),
    copy: (source, destination, options = {}) =>
      Effect.gen(function*() {
        yield* checkKey(source)
        yield* checkKey(destination)
        yield* validateAttributes(options)
        return yield* driver.copy(source, destination, options)
      }),
    list: (options = {}) =>
      Effect.gen(function*() {
        const prefix = options.prefix ?? ""
        const reason = prefixProblem(prefix)
        if (reason !== undefined) return yield* new InvalidKey({ key: String(prefix), reason: `prefix: ${reason}` })
        if (options.delimiter !== undefined) {
          const delimiter: unknown = options.delimiter
          if (typeof delimiter !== "string" || delimiter.length === 0 || delimiter.length > 64 || !delimiter.isWellFormed() || delimiter.includes("\u0000")) {
            return yield* invalid("delimiter", "a delimiter must be 1 to 64 characters, without NUL")
          }
        }
        if (options.startAfter !== undefined) {
          const startAfter: unknown = options.startAfter
          if (typeof startAfter !== "string" || !startAfter.isWellFormed() || startAfter.length > 2048) {
            return yield* invalid("startAfter", "startAfter must be a well-formed string")
          }
        }
        yield* checkCursor(options.cursor)
        const limit = yield* checkLimit(options.limit)
        return yield* driver.list({ ...options, prefix, limit })
      }),
    createMultipartUpload: (key, options = {}) =>
      Effect.gen(function*() {
        yield* checkKey(key)
        yield* validateAttributes(options)
        return yield* driver.createMultipartUpload(key, {
          contentType: options.contentType ?? defaultContentType,
          metadata: options.metadata ?? {}
        })
      }),
    uploadPart: (key, uploadId, partNumber, body, options) =>
      withBody(
        body,
        Effect.gen(function*() {
          yield* checkKey(key)
          yield* checkUploadId(uploadId)
          yield* checkPartNumber(partNumber)
          yield* checkBody(body)
          yield* checkLength("contentLength", options?.contentLength, maxPartSize)
        }),
        Effect.suspend(() => {
          const source = BodySource.from(body, options.contentLength)
          return driver.uploadPart(key, uploadId, partNumber, source).pipe(releaseUnread(source))
        })
      ),
    listParts: (key, uploadId, options = {}) =>
      Effect.gen(function*() {
        yield* checkKey(key)
        yield* checkUploadId(uploadId)
        yield* checkCursor(options.cursor)
        const limit = yield* checkLimit(options.limit)
        return yield* driver.listParts(key, uploadId, { cursor: options.cursor, limit })
      }),
    completeMultipartUpload: (key, uploadId, parts, options = {}) =>
      Effect.gen(function*() {
        yield* checkKey(key)
        yield* checkUploadId(uploadId)
        const ifMatch = yield* checkConditions(options)
        if (!Array.isArray(parts) || parts.length === 0 || parts.length > maxPartNumber) {
          return yield* invalid("parts", `a completion lists 1 to ${maxPartNumber} parts`)
        }
        const checked: Array<CompletedPart> = []
        for (const part of parts as ReadonlyArray<CompletedPart>) {
          yield* checkPartNumber(part?.partNumber)
          const etag = yield* checkEtag("parts", part.etag)
          const previous = checked.at(-1)
          if (previous !== undefined && previous.partNumber >= part.partNumber) {
            return yield* new PreconditionFailed({ key, reason: "invalid-part-order" })
          }
          checked.push({ partNumber: part.partNumber, etag })
        }
        return yield* driver.completeMultipartUpload(key, uploadId, checked, { ifNoneMatch: options.ifNoneMatch, ifMatch })
      }),
    abortMultipartUpload: (key, uploadId) =>
      Effect.gen(function*() {
        yield* checkKey(key)
        yield* checkUploadId(uploadId)
        return yield* driver.abortMultipartUpload(key, uploadId)
      })
  })
}
