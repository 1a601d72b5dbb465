/**
 * The in-memory `BlobStore`: for unit tests of code that uses the port, and as the reference the
 * conformance kit is written against. Objects live in this process only and are buffered whole
 * (the one adapter that does); every other promise of the port holds.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { BlobStore, layerMemory } from "@aquifer/blob"
 * const program = Effect.gen(function*() {
 *   const store = yield* BlobStore
 *   yield* store.put("a.txt", new Blob(["hi"]).stream())
 *   return (yield* store.head("a.txt")).size // 2
 * }).pipe(Effect.provide(layerMemory))
 * ```
 * @module
 */
import { Clock, Effect, Layer } from "effect"
import {
  BlobStore,
  type BlobInfo,
  type BlobStoreDriver,
  type CompletedPart,
  fromDriver,
  minPartSize,
  type PartInfo,
  type WriteResult
} from "./blob_store.ts"
import { type BodySource, streamOfBytes } from "./body.ts"
import {
  BlobAlreadyExists,
  BlobNotFound,
  BlobStoreError,
  type InvalidArgument,
  PreconditionFailed
} from "./errors.ts"
import { compareKeys } from "./key.ts"
import { decodeListCursor, encodeListCursor, listPage } from "./listing.ts"
import { resolveRange } from "./range.ts"

interface Stored {
  readonly bytes: Uint8Array
  readonly info: BlobInfo
}

interface Upload {
  readonly key: string
  readonly contentType: string
  readonly metadata: Readonly<Record<string, string>>
  readonly parts: Map<number, { readonly bytes: Uint8Array; readonly etag: string }>
}

const newEtag = (): string => crypto.randomUUID().replaceAll("-", "")

const collect = (body: BodySource): Effect.Effect<Uint8Array, InvalidArgument | BlobStoreError> =>
  Effect.tryPromise({
    try: async (signal) => {
      const chunks: Array<Uint8Array> = []
      let size = 0
      for await (const chunk of body) {
        if (signal.aborted) break
        chunks.push(chunk.slice())
        size += chunk.byteLength
      }
      const bytes = new Uint8Array(size)
      let offset = 0
      for (const chunk of chunks) {
        bytes.set(chunk, offset)
        offset += chunk.byteLength
      }
      return bytes
    },
    catch: (cause) => body.failure ?? new BlobStoreError({ message: "reading the body failed", cause })
  })

/** A fresh, empty in-memory store (each call gives its own). */
export const makeMemory = (): Effect.Effect<BlobStore["Service"]> =>
  Effect.sync(() => {
    const objects = new Map<string, Stored>()
    const sorted: Array<string> = []
    const uploads = new Map<string, Upload>()
    const completed = new Map<string, WriteResult>()

    const indexOf = (key: string): number => {
      let low = 0
      let high = sorted.length
      while (low < high) {
        const middle = (low + high) >>> 1
        if (compareKeys(sorted[middle]!, key) < 0) low = middle + 1
        else high = middle
      }
      return low
    }

    const store = (key: string, bytes: Uint8Array, contentType: string, metadata: Readonly<Record<string, string>>) =>
      Effect.map(Clock.currentTimeMillis, (millis): WriteResult => {
        if (!objects.has(key)) sorted.splice(indexOf(key), 0, key)
        const info: BlobInfo = {
          key,
          size: bytes.byteLength,
          etag: newEtag(),
          lastModified: new Date(millis),
          contentType,
          metadata: { ...metadata }
        }
        objects.set(key, { bytes, info })
        return { key, size: info.size, etag: info.etag }
      })

    const check = (
      key: string,
      options: { readonly ifNoneMatch?: "*" | undefined; readonly ifMatch?: string | undefined }
    ): Effect.Effect<void, BlobAlreadyExists | BlobNotFound | PreconditionFailed> => {
      const current = objects.get(key)
      if (options.ifNoneMatch === "*" && current !== undefined) return Effect.fail(new BlobAlreadyExists({ key }))
      if (options.ifMatch !== undefined) {
        if (current === undefined) return Effect.fail(new BlobNotFound({ key }))
        if (current.info.etag !== options.ifMatch) return Effect.fail(new PreconditionFailed({ key, reason: "if-match" }))
      }
      return Effect.void
    }

    const found = (key: string) => {
      const current = objects.get(key)
      return current === undefined ? Effect.fail(new BlobNotFound({ key })) : Effect.succeed(current)
    }

    const upload = (key: string, uploadId: string) => {
      const current = uploads.get(uploadId)
      return current === undefined || current.key !== key
        ? Effect.fail(new BlobNotFound({ key, uploadId }))
        : Effect.succeed(current)
    }

    const driver: BlobStoreDriver = {
      put: (key, body, options) =>
        collect(body).pipe(
          Effect.andThen((bytes) =>
            check(key, options).pipe(Effect.andThen(store(key, bytes, options.contentType, options.metadata)))
          )
        ),
      get: (key, options) =>
        Effect.gen(function*() {
          const { bytes, info } = yield* found(key)
          const { offset, length } = options.range === undefined
            ? { offset: 0, length: info.size }
            : yield* resolveRange(key, options.range, info.size)
          return { info, offset, length, body: streamOfBytes(bytes.subarray(offset, offset + length)) }
        }),
      head: (key) => Effect.map(found(key), (stored) => stored.info),
      delete: (key) =>
        Effect.sync(() => {
          if (objects.delete(key)) sorted.splice(indexOf(key), 1)
        }),
      copy: (source, destination, options) =>
        Effect.gen(function*() {
          const { bytes, info } = yield* found(source)
          return yield* store(destination, bytes, options.contentType ?? info.contentType, options.metadata ?? info.metadata)
        }),
      list: (options) =>
        listPage(
          (prefix, after) => {
            const start = indexOf(after === undefined || compareKeys(after, prefix) < 0 ? prefix : after)
            return (function*() {
              for (let i = start; i < sorted.length && sorted[i]!.startsWith(prefix); i++) {
                const { info } = objects.get(sorted[i]!)!
                yield { key: info.key, size: info.size, etag: info.etag, lastModified: info.lastModified }
              }
            })()
          },
          options
        ),
      createMultipartUpload: (key, options) =>
        Effect.sync(() => {
          const uploadId = crypto.randomUUID()
          uploads.set(uploadId, { key, contentType: options.contentType, metadata: { ...options.metadata }, parts: new Map() })
          return uploadId
        }),
      uploadPart: (key, uploadId, partNumber, body) =>
        Effect.gen(function*() {
          yield* upload(key, uploadId)
          const bytes = yield* collect(body)
          const current = yield* upload(key, uploadId)
          const etag = newEtag()
          current.parts.set(partNumber, { bytes, etag })
          return { partNumber, etag, size: bytes.byteLength } satisfies PartInfo
        }),
      listParts: (key, uploadId, options) =>
        Effect.gen(function*() {
          const current = yield* upload(key, uploadId)
          const after = options.cursor === undefined ? 0 : Number(yield* decodeListCursor(options.cursor))
          const parts = [...current.parts.entries()]
            .filter(([number]) => number > after)
            .sort(([a], [b]) => a - b)
            .map(([partNumber, part]): PartInfo => ({ partNumber, etag: part.etag, size: part.bytes.byteLength }))
          const page = parts.slice(0, options.limit)
          return {
            parts: page,
            next: parts.length > options.limit ? encodeListCursor(String(page.at(-1)!.partNumber)) : undefined
          }
        }),
      completeMultipartUpload: (key, uploadId, parts, options) =>
        Effect.gen(function*() {
          const done = completed.get(uploadId)
          if (done !== undefined && done.key === key) {
            if (objects.get(key)?.info.etag === done.etag) return done
            return yield* new BlobNotFound({ key, uploadId })
          }
          const current = yield* upload(key, uploadId)
          const chosen = yield* assemble(key, current, parts)
          yield* check(key, options)
          const result = yield* store(key, chosen, current.contentType, current.metadata)
          uploads.delete(uploadId)
          completed.set(uploadId, result)
          return result
        }),
      abortMultipartUpload: (key, uploadId) =>
        Effect.gen(function*() {
          yield* upload(key, uploadId)
          uploads.delete(uploadId)
        })
    }
    return fromDriver(driver)
  })

const assemble = (key: string, upload: Upload, parts: ReadonlyArray<CompletedPart>) =>
  Effect.gen(function*() {
    const chosen: Array<Uint8Array> = []
    for (const [index, part] of parts.entries()) {
      const stored = upload.parts.get(part.partNumber)
      if (stored === undefined || stored.etag !== part.etag) return yield* new PreconditionFailed({ key, reason: "invalid-part" })
      if (index < parts.length - 1 && stored.bytes.byteLength < minPartSize) {
        return yield* new PreconditionFailed({ key, reason: "part-too-small" })
      }
      chosen.push(stored.bytes)
    }
    const bytes = new Uint8Array(chosen.reduce((sum, part) => sum + part.byteLength, 0))
    let offset = 0
    for (const part of chosen) {
      bytes.set(part, offset)
      offset += part.byteLength
    }
    return bytes
  })

/** The in-memory store as a Layer; each build of the Layer starts empty. */
export const layerMemory: Layer.Layer<BlobStore> = Layer.effect(BlobStore, makeMemory())
