// The BlobStore on Azure Blob Storage (block blobs) with @azure/storage-blob. Keys are blob
// names in one container. Puts of a known length stream as one Put Blob; puts of unknown length
// buffer one block and, when longer, stage blocks and commit them in one Put Block List, which
// carries the content type, metadata and conditions, so every write is atomic. Copies and
// multipart completions are server-side: Put Block From URL (from a snapshot of the source, or
// from part blobs) then one Put Block List. Multipart uploads live in a second container
// (`uploadsContainer`), apart from the target blob, as `<upload id>/upload.json` and
// `<upload id>/part-<n>`. Metadata names are encoded for Azure (C# identifiers): `m` + the
// name, `_` as `__`, `-` as `_h`.
import { someCause } from "@aquifer/core"
import {
  BlobAlreadyExists,
  BlobNotFound,
  BlobStoreError,
  type BlobStoreDriver,
  BlobStoreUnavailable,
  type BodySource,
  compareKeys,
  decodeListCursor,
  encodeListCursor,
  fromDriver,
  InvalidArgument,
  isBlobError,
  InvalidRange,
  minPartSize,
  PreconditionFailed,
  pooledChunks,
  resolveRange,
  unquoteEtag,
  type BlobInfo,
  type BlobStore,
  type BlobSummary,
  type GetResult,
  type ListPage,
  type PartInfo,
  type PartsPage,
  type WriteResult
} from "@aquifer/blob"
import {
  BlobSASPermissions,
  BlobServiceClient,
  type BlockBlobClient,
  type ContainerClient,
  StorageSharedKeyCredential,
  type StoragePipelineOptions
} from "@azure/storage-blob"
import { Effect, Redacted } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { Readable } from "node:stream"

/** Settings of the Azure store (see docs/adapters/blob.md for the environment variables). */
export interface AzureOptions {
  /** The container holding the objects; it must exist. */
  readonly container: string
  /** The container holding multipart uploads; created when absent. Default `aquifer-uploads`. */
  readonly uploadsContainer?: string | undefined
  /** A connection string (with `AccountKey` or `SharedAccessSignature`), or… */
  readonly connectionString?: Redacted.Redacted<string> | undefined
  /** …the account's blob endpoint (`https://<account>.blob.core.windows.net`) with a key or a SAS. */
  readonly accountUrl?: string | undefined
  readonly accountName?: string | undefined
  readonly accountKey?: Redacted.Redacted<string> | undefined
  readonly sasToken?: Redacted.Redacted<string> | undefined
  /** Block size of puts of unknown length. Default 8 MiB. */
  readonly blockSize?: number | undefined
  /** Blocks staged at once. Default 2. */
  readonly concurrency?: number | undefined
}

const MiB = 1024 * 1024
const maxSinglePut = 5000 * MiB
const maxBlockFromUrl = 100 * MiB

interface RestErrorShape {
  readonly statusCode?: number
  readonly code?: string
  readonly name?: string
  readonly details?: { readonly errorCode?: string }
}

const codeOf = (error: unknown): string => {
  const shape = (error ?? {}) as RestErrorShape
  return String(shape.details?.errorCode ?? shape.code ?? "")
}
const statusOf = (error: unknown): number | undefined => ((error ?? {}) as RestErrorShape).statusCode

const networkCodes = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "REQUEST_SEND_ERROR"])
const isNetworkError = (error: unknown): boolean => someCause(error, (shape) => networkCodes.has(String(shape.code)))


const mapError = (error: unknown, context: { readonly key?: string; readonly uploadId?: string; readonly message: string }) => {
  if (isBlobError(error)) return error as BlobStoreError
  const code = codeOf(error)
  const status = statusOf(error)
  const key = context.key ?? ""
  if (code === "ContainerNotFound") return new BlobStoreError({ message: `${context.message}: the container does not exist`, cause: error })
  if (code === "BlobNotFound" || status === 404) return new BlobNotFound({ key })
  if (code === "InvalidRange" || status === 416) return new InvalidRange({ key, reason: "the range is not satisfiable" })
  if (code === "ServerBusy" || code === "OperationTimedOut" || code === "InternalError" || isNetworkError(error) || (status !== undefined && status >= 500)) {
    return new BlobStoreUnavailable({ message: `${context.message}: ${code || "the service did not answer"}`, cause: error })
  }
  return new BlobStoreError({ message: `${context.message}${code === "" ? "" : `: ${code}`}`, cause: error })
}

/** Port metadata names to Azure's (C# identifiers) and back. */
export const encodeMetadataName = (name: string): string => `m${name.replaceAll("_", "__").replaceAll("-", "_h")}`
export const decodeMetadataName = (name: string): string | undefined => {
  const lower = name.toLowerCase()
  if (!lower.startsWith("m")) return undefined
  return lower.slice(1).replace(/_(_|h)/g, (_, kind: string) => (kind === "_" ? "_" : "-"))
}
const encodeMetadata = (metadata: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(Object.entries(metadata).map(([name, value]) => [encodeMetadataName(name), value]))
const decodeMetadata = (metadata: Record<string, string> | undefined): Record<string, string> => {
  const result: Record<string, string> = {}
  for (const [name, value] of Object.entries(metadata ?? {})) {
    const decoded = decodeMetadataName(name)
    if (decoded !== undefined) result[decoded] = value
  }
  return result
}

/** A Web stream over the SDK's (retrying) download body whose errors are the port's. */
const bodyStream = (body: NodeJS.ReadableStream | undefined, length: number): ReadableStream<Uint8Array> => {
  if (body === undefined || length === 0) {
    ;(body as { destroy?: () => void } | undefined)?.destroy?.()
    return new ReadableStream({ start: (controller) => controller.close() })
  }
  const source = body as AsyncIterable<Uint8Array> & { destroy?: () => void }
  const iterator = source[Symbol.asyncIterator]()
  let left = length
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await iterator.next()
        if (next.done === true) {
          if (left > 0) throw new Error(`the blob ended ${left} bytes early`)
          controller.close()
          return
        }
        left -= next.value.byteLength
        controller.enqueue(next.value)
        if (left <= 0) {
          source.destroy?.()
          controller.close()
        }
      } catch (cause) {
        source.destroy?.()
        controller.error(new BlobStoreUnavailable({ message: "reading the blob failed", cause }))
      }
    },
    cancel() {
      source.destroy?.()
    }
  }, { highWaterMark: 0 })
}

/** Block ids of one blob must all have the same length: 32 hex digits of a token and 16 of an index. */
const blockId = (token: string, index: number): string => Buffer.from(`${token}${String(index).padStart(16, "0")}`).toString("base64")
const newToken = (): string => randomBytes(16).toString("hex")

// Requests a caller waits on retry briefly (the SDK's default backs off for half a minute);
// streamed uploads cannot be replayed, so they are tried once.
const retrying: StoragePipelineOptions = { retryOptions: { maxTries: 3, retryDelayInMs: 300, maxRetryDelayInMs: 3000 } }
const once: StoragePipelineOptions = { retryOptions: { maxTries: 1 } }

const serviceClients = (options: AzureOptions) => {
  if (options.connectionString !== undefined) {
    const text = Redacted.value(options.connectionString)
    return { main: BlobServiceClient.fromConnectionString(text, retrying), streaming: BlobServiceClient.fromConnectionString(text, once) }
  }
  if (options.accountUrl === undefined) throw new Error("an Azure store needs a connection string or an account URL")
  if (options.accountName !== undefined && options.accountKey !== undefined) {
    const credential = new StorageSharedKeyCredential(options.accountName, Redacted.value(options.accountKey))
    return { main: new BlobServiceClient(options.accountUrl, credential, retrying), streaming: new BlobServiceClient(options.accountUrl, credential, once) }
  }
  const sas = options.sasToken === undefined ? "" : `?${Redacted.value(options.sasToken).replace(/^\?/, "")}`
  return { main: new BlobServiceClient(`${options.accountUrl}${sas}`, undefined, retrying), streaming: new BlobServiceClient(`${options.accountUrl}${sas}`, undefined, once) }
}

/**
 * Builds the Azure store. Nothing is asked of the service until the first call (a store whose
 * account is unreachable still starts; its calls fail with `BlobStoreUnavailable`).
 */
export const makeAzure = (options: AzureOptions): Effect.Effect<BlobStore["Service"], BlobStoreError> =>
  Effect.try({
    try: () => {
      const clients = serviceClients(options)
      const uploads = clients.main.getContainerClient(options.uploadsContainer ?? "aquifer-uploads")
      return storeOver(clients.main, clients.streaming, options, uploads)
    },
    catch: (error) => new BlobStoreError({ message: "the Azure store is misconfigured", cause: error })
  })

const storeOver = (
  service: BlobServiceClient,
  streamingService: BlobServiceClient,
  options: AzureOptions,
  uploads: ContainerClient
): BlobStore["Service"] => {
  const container = service.getContainerClient(options.container)
  const streamingContainer = streamingService.getContainerClient(options.container)
  const blockSize = Math.max(MiB, options.blockSize ?? 8 * MiB)
  const concurrency = Math.max(1, options.concurrency ?? 2)

  // The error type is the calling method's: `mapError` only yields the port's errors.
  const call = <A, E = BlobStoreError>(
    context: { readonly key?: string; readonly uploadId?: string; readonly message: string },
    task: (signal: AbortSignal) => Promise<A>,
    body?: BodySource
  ) =>
    Effect.tryPromise({ try: task, catch: (error) => body?.failure ?? mapError(error, context) }) as unknown as Effect.Effect<A, E>

  const conditionsOf = (conditions: { readonly ifNoneMatch?: "*" | undefined; readonly ifMatch?: string | undefined }) =>
    conditions.ifNoneMatch === "*" ? { ifNoneMatch: "*" } : conditions.ifMatch !== undefined ? { ifMatch: `"${conditions.ifMatch}"` } : {}

  /** Turns a refused condition into the port's error (Azure answers 409 or 412 depending on the call). */
  const conditionFailure = async (
    key: string,
    conditions: { readonly ifNoneMatch?: "*" | undefined; readonly ifMatch?: string | undefined },
    error: unknown
  ): Promise<never> => {
    const status = statusOf(error)
    const code = codeOf(error)
    if (conditions.ifNoneMatch === "*" && (status === 409 || status === 412 || code === "BlobAlreadyExists" || code === "ConditionNotMet")) {
      throw new BlobAlreadyExists({ key })
    }
    if (conditions.ifMatch !== undefined && (status === 412 || status === 404 || code === "ConditionNotMet")) {
      const exists = await container.getBlobClient(key).exists()
      throw exists ? new PreconditionFailed({ key, reason: "if-match" }) : new BlobNotFound({ key })
    }
    throw error
  }

  const attributes = (contentType: string, metadata: Readonly<Record<string, string>>) => ({
    blobHTTPHeaders: { blobContentType: contentType },
    metadata: encodeMetadata(metadata)
  })

  /** Writes a body to `client` atomically: one Put Blob when it fits a block or its length is known, else blocks + commit. */
  const writeBody = async (
    client: BlockBlobClient,
    streamingClient: BlockBlobClient,
    body: BodySource,
    attrs: ReturnType<typeof attributes>,
    conditions: { readonly ifNoneMatch?: "*" | undefined; readonly ifMatch?: string | undefined },
    signal: AbortSignal,
    key: string
  ): Promise<string> => {
    try {
      if (body.expectedLength !== undefined && body.expectedLength <= maxSinglePut) {
        const controller = new AbortController()
        const abort = () => controller.abort()
        signal.addEventListener("abort", abort, { once: true })
        async function* guarded() {
          try {
            yield* body
          } catch {
            abort()
          }
        }
        const response = await streamingClient.upload(Readable.from(guarded(), { objectMode: false }), body.expectedLength, {
          ...attrs,
          conditions: conditionsOf(conditions),
          abortSignal: controller.signal
        })
        return unquoteEtag(response.etag ?? "")
      }
      const pool = pooledChunks(body, blockSize, concurrency + 1)
      const chunks = pool[Symbol.asyncIterator]()
      const first = await chunks.next()
      const firstBlock = first.done === true ? new Uint8Array(0) : first.value
      const second = first.done === true ? { done: true as const, value: undefined } : await chunks.next()
      if (second.done === true) {
        const response = await client.upload(firstBlock, firstBlock.byteLength, { ...attrs, conditions: conditionsOf(conditions), abortSignal: signal })
        return unquoteEtag(response.etag ?? "")
      }
      try {
        const token = newToken()
        const ids: Array<string> = []
        const inFlight = new Set<Promise<void>>()
        let failure: unknown
        const stage = (block: Uint8Array) => {
          const id = blockId(token, ids.length)
          ids.push(id)
          const task: Promise<void> = client.stageBlock(id, block, block.byteLength, { abortSignal: signal })
            .then(() => undefined, (error: unknown) => {
              failure ??= error
            })
            .finally(() => {
              inFlight.delete(task)
              pool.release(block)
            })
          inFlight.add(task)
        }
        stage(firstBlock)
        let next: IteratorResult<Uint8Array> = second
        while (next.done !== true) {
          while (inFlight.size >= concurrency) await Promise.race(inFlight)
          if (failure !== undefined) throw failure
          stage(next.value)
          next = await chunks.next()
        }
        await Promise.all(inFlight)
        if (failure !== undefined) throw failure
        if (signal.aborted) throw signal.reason
        const response = await client.commitBlockList(ids, { ...attrs, conditions: conditionsOf(conditions), abortSignal: signal })
        return unquoteEtag(response.etag ?? "")
      } finally {
        // On failure, let go of the caller's stream too (not awaited: a block may still be in flight).
        void chunks.return?.(undefined)?.catch(() => undefined)
      }
    } catch (error) {
      if (body.failure !== undefined) throw body.failure
      return await conditionFailure(key, conditions, error)
    }
  }

  /** A URL the service itself may read `client` through (a short-lived SAS when we hold the key). */
  const readableUrl = async (client: { url: string; generateSasUrl: (options: { permissions: BlobSASPermissions; expiresOn: Date }) => Promise<string> }) => {
    if (new URL(client.url).searchParams.has("sig")) return client.url
    return await client.generateSasUrl({ permissions: BlobSASPermissions.parse("r"), expiresOn: new Date(Date.now() + 60 * 60 * 1000) })
  }

  /** Stages `sources` (byte ranges of readable URLs) as blocks of `target` and commits them in one step. */
  const compose = async (
    target: BlockBlobClient,
    sources: ReadonlyArray<{ readonly url: string; readonly offset: number; readonly length: number }>,
    attrs: ReturnType<typeof attributes>,
    conditions: { readonly ifNoneMatch?: "*" | undefined; readonly ifMatch?: string | undefined },
    signal: AbortSignal
  ): Promise<string> => {
    const token = newToken()
    const blocks: Array<{ id: string; url: string; offset: number; length: number }> = []
    for (const source of sources) {
      for (let offset = 0; offset < source.length; offset += maxBlockFromUrl) {
        blocks.push({ id: blockId(token, blocks.length), url: source.url, offset: source.offset + offset, length: Math.min(maxBlockFromUrl, source.length - offset) })
      }
    }
    for (let start = 0; start < blocks.length; start += 4) {
      await Promise.all(blocks.slice(start, start + 4).map((block) => target.stageBlockFromURL(block.id, block.url, block.offset, block.length, { abortSignal: signal })))
    }
    const response = await target.commitBlockList(blocks.map((block) => block.id), { ...attrs, conditions: conditionsOf(conditions), abortSignal: signal })
    return unquoteEtag(response.etag ?? "")
  }

  const infoOf = (key: string, properties: {
    contentLength?: number
    etag?: string
    lastModified?: Date
    contentType?: string
    metadata?: Record<string, string>
  }): BlobInfo => ({
    key,
    size: properties.contentLength ?? 0,
    etag: unquoteEtag(properties.etag ?? ""),
    lastModified: properties.lastModified ?? new Date(0),
    contentType: properties.contentType ?? "application/octet-stream",
    metadata: decodeMetadata(properties.metadata)
  })

  // The uploads container is created on the first multipart upload (once; again after a failure).
  let uploadsReady: Promise<unknown> | undefined
  const ensureUploads = () => {
    uploadsReady ??= uploads.createIfNotExists().catch((error: unknown) => {
      uploadsReady = undefined
      throw error
    })
    return uploadsReady
  }

  const keyTag = (key: string) => createHash("sha256").update(key).digest("hex").slice(0, 16)
  interface UploadRecord {
    readonly key: string
    readonly contentType: string
    readonly metadata: Readonly<Record<string, string>>
  }
  const readJson = async <A>(name: string): Promise<A | undefined> => {
    try {
      const buffer = await uploads.getBlobClient(name).downloadToBuffer()
      return JSON.parse(buffer.toString("utf8")) as A
    } catch (error) {
      if (statusOf(error) === 404) return undefined
      throw error
    }
  }
  const writeJson = async (name: string, value: unknown) => {
    const text = Buffer.from(JSON.stringify(value))
    await uploads.getBlockBlobClient(name).upload(text, text.byteLength, { blobHTTPHeaders: { blobContentType: "application/json" } })
  }
  const openUpload = async (key: string, uploadId: string): Promise<UploadRecord> => {
    if (!/^[0-9a-f]{48}$/.test(uploadId) || uploadId.slice(32) !== keyTag(key)) throw new BlobNotFound({ key, uploadId })
    const record = await readJson<UploadRecord>(`${uploadId}/upload.json`)
    if (record === undefined || record.key !== key) throw new BlobNotFound({ key, uploadId })
    return record
  }
  const partsOf = async (uploadId: string) => {
    const parts = new Map<number, { etag: string; size: number }>()
    for await (const item of uploads.listBlobsFlat({ prefix: `${uploadId}/part-` })) {
      const number = Number(item.name.slice(`${uploadId}/part-`.length))
      if (Number.isInteger(number)) parts.set(number, { etag: unquoteEtag(item.properties.etag ?? ""), size: item.properties.contentLength ?? 0 })
    }
    return parts
  }
  const removeUpload = async (uploadId: string, keep?: string) => {
    for await (const item of uploads.listBlobsFlat({ prefix: `${uploadId}/` })) {
      if (item.name !== keep) await uploads.getBlobClient(item.name).deleteIfExists()
    }
  }

  const driver: BlobStoreDriver = {
    put: (key, body, options) =>
      call({ key, message: "writing the blob failed" }, async (signal) => {
        const etag = await writeBody(
          container.getBlockBlobClient(key),
          streamingContainer.getBlockBlobClient(key),
          body,
          attributes(options.contentType, options.metadata),
          options,
          signal,
          key
        )
        return { key, size: body.bytes, etag } satisfies WriteResult
      }, body),

    get: (key, options) =>
      call<GetResult, InvalidRange | BlobNotFound | BlobStoreError>({ key, message: "reading the blob failed" }, async (signal) => {
        const client = container.getBlobClient(key)
        const range = options.range
        for (let attempt = 0;; attempt++) {
          // Azure has no suffix ranges: resolve them against the current size, pinned by ETag.
          let pinned: BlobInfo | undefined
          let offset = 0
          let count: number | undefined
          if (range !== undefined) {
            if ("suffix" in range) {
              pinned = infoOf(key, await client.getProperties({ abortSignal: signal }))
              const resolved = Effect.runSync(Effect.result(resolveRange(key, range, pinned.size)))
              if (resolved._tag === "Failure") throw resolved.failure
              offset = resolved.success.offset
              count = resolved.success.length
            } else {
              offset = range.offset
              count = range.length
            }
          }
          let response
          try {
            response = await client.download(offset, count, {
              abortSignal: signal,
              maxRetryRequests: 3,
              ...(pinned === undefined ? {} : { conditions: { ifMatch: `"${pinned.etag}"` } })
            })
          } catch (error) {
            if (pinned !== undefined && statusOf(error) === 412 && attempt < 3) continue
            if (codeOf(error) === "InvalidRange" || statusOf(error) === 416) {
              const size = (await client.getProperties({ abortSignal: signal })).contentLength ?? 0
              throw new InvalidRange({ key, size, reason: "the range is not satisfiable" })
            }
            throw error
          }
          const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.contentRange ?? "")
          const size = match === null ? response.contentLength ?? 0 : Number(match[3])
          const info = infoOf(key, {
            contentLength: size,
            etag: response.etag,
            lastModified: response.lastModified,
            contentType: response.contentType,
            metadata: response.metadata
          })
          let served = { offset: 0, length: size }
          if (range !== undefined) {
            const resolved = Effect.runSync(Effect.result(resolveRange(key, range, size)))
            if (resolved._tag === "Failure") {
              ;(response.readableStreamBody as { destroy?: () => void } | undefined)?.destroy?.()
              throw resolved.failure
            }
            served = resolved.success
          }
          return { info, offset: served.offset, length: served.length, body: bodyStream(response.readableStreamBody, served.length) } satisfies GetResult
        }
      }),

    head: (key) =>
      call({ key, message: "reading the blob failed" }, async (signal) => infoOf(key, await container.getBlobClient(key).getProperties({ abortSignal: signal }))),

    delete: (key) =>
      call({ key, message: "deleting the blob failed" }, async (signal) => {
        await container.getBlobClient(key).deleteIfExists({ deleteSnapshots: "include", abortSignal: signal })
      }),

    copy: (source, destination, options) =>
      call({ key: source, message: "copying the blob failed" }, async (signal) => {
        const from = container.getBlobClient(source)
        // A snapshot pins the source: every block is read from the same version.
        const snapshot = await from.createSnapshot({ abortSignal: signal })
        const pinned = from.withSnapshot(snapshot.snapshot!)
        try {
          const properties = await pinned.getProperties({ abortSignal: signal })
          const info = infoOf(source, properties)
          const etag = await compose(
            container.getBlockBlobClient(destination),
            info.size === 0 ? [] : [{ url: await readableUrl(pinned), offset: 0, length: info.size }],
            attributes(options.contentType ?? info.contentType, options.metadata ?? info.metadata),
            {},
            signal
          )
          return { key: destination, size: info.size, etag } satisfies WriteResult
        } finally {
          await pinned.deleteIfExists().catch(() => undefined)
        }
      }),

    list: (options) =>
      Effect.gen(function*() {
        const state = options.cursor === undefined
          ? { marker: undefined, after: options.startAfter, resuming: false }
          : yield* decodeListCursor(options.cursor).pipe(
            Effect.flatMap((text) =>
              Effect.try({
                try: () => {
                  const parsed = JSON.parse(text) as { m?: unknown; a?: unknown }
                  if ((parsed.m !== undefined && typeof parsed.m !== "string") || typeof parsed.a !== "string") throw new Error("bad cursor")
                  return { marker: parsed.m as string | undefined, after: parsed.a, resuming: true }
                },
                catch: () => new InvalidArgument({ field: "cursor", message: "the cursor is not one this store issued" })
              })
            )
          )
        return yield* call<ListPage, InvalidArgument | BlobStoreError>({ message: "listing failed" }, async (signal) => {
          const items: Array<BlobSummary> = []
          const prefixes: Array<string> = []
          let marker = state.marker
          const keep = (name: string, isPrefix: boolean) => {
            if (state.after === undefined || compareKeys(name, state.after) > 0) return true
            return isPrefix && !state.resuming && state.after.startsWith(name)
          }
          for (;;) {
            const listing = options.delimiter === undefined
              ? container.listBlobsFlat({ prefix: options.prefix === "" ? undefined : options.prefix, abortSignal: signal })
              : container.listBlobsByHierarchy(options.delimiter, { prefix: options.prefix === "" ? undefined : options.prefix, abortSignal: signal })
            const page = (await listing.byPage({ maxPageSize: options.limit, ...(marker === undefined ? {} : { continuationToken: marker }) }).next()).value
            const segment = page?.segment as {
              blobItems?: Array<{ name: string; properties: { contentLength?: number; etag?: string; lastModified?: Date } }>
              blobPrefixes?: Array<{ name: string }>
            } | undefined
            const entries = [
              ...(segment?.blobItems ?? []).map((item) => ({ name: item.name, item })),
              ...(segment?.blobPrefixes ?? []).map((prefix) => ({ name: prefix.name, item: undefined }))
            ].sort((a, b) => compareKeys(a.name, b.name))
            for (const entry of entries) {
              if (!keep(entry.name, entry.item === undefined)) continue
              if (items.length + prefixes.length === options.limit) {
                return { items, prefixes, next: encodeListCursor(JSON.stringify({ m: marker, a: items.length + prefixes.length === 0 ? state.after : lastOf(items, prefixes) })) }
              }
              if (entry.item === undefined) prefixes.push(entry.name)
              else {
                items.push({
                  key: entry.name,
                  size: entry.item.properties.contentLength ?? 0,
                  etag: unquoteEtag(entry.item.properties.etag ?? ""),
                  lastModified: entry.item.properties.lastModified ?? new Date(0)
                })
              }
            }
            const continuation = page?.continuationToken
            if (continuation === undefined || continuation === "") return { items, prefixes }
            if (items.length + prefixes.length === options.limit) {
              return { items, prefixes, next: encodeListCursor(JSON.stringify({ m: continuation, a: lastOf(items, prefixes) })) }
            }
            marker = continuation
          }
        })
      }),

    createMultipartUpload: (key, options) =>
      call({ key, message: "creating the upload failed" }, async () => {
        await ensureUploads()
        const uploadId = `${newToken()}${keyTag(key)}`
        await writeJson(`${uploadId}/upload.json`, { key, contentType: options.contentType, metadata: options.metadata } satisfies UploadRecord)
        return uploadId
      }),

    uploadPart: (key, uploadId, partNumber, body) =>
      call({ key, uploadId, message: "uploading the part failed" }, async (signal) => {
        await openUpload(key, uploadId)
        const name = `${uploadId}/part-${partNumber}`
        const etag = await writeBody(uploads.getBlockBlobClient(name), streamingService.getContainerClient(uploads.containerName).getBlockBlobClient(name), body, attributes("application/octet-stream", {}), {}, signal, name)
        // An abort that ran meanwhile removed the record: do not leave the part behind.
        if ((await readJson<UploadRecord>(`${uploadId}/upload.json`)) === undefined) {
          await uploads.getBlobClient(name).deleteIfExists()
          throw new BlobNotFound({ key, uploadId })
        }
        return { partNumber, etag, size: body.bytes } satisfies PartInfo
      }, body),

    listParts: (key, uploadId, options) =>
      Effect.gen(function*() {
        const after = options.cursor === undefined ? 0 : Number(yield* decodeListCursor(options.cursor))
        if (!Number.isInteger(after)) return yield* new InvalidArgument({ field: "cursor", message: "the cursor is not one this store issued" })
        return yield* call<PartsPage, BlobNotFound | BlobStoreError>({ key, uploadId, message: "listing the parts failed" }, async () => {
          await openUpload(key, uploadId)
          const parts = [...(await partsOf(uploadId)).entries()]
            .filter(([number]) => number > after)
            .sort(([a], [b]) => a - b)
            .map(([partNumber, part]): PartInfo => ({ partNumber, etag: part.etag, size: part.size }))
          const page = parts.slice(0, options.limit)
          return { parts: page, next: parts.length > options.limit ? encodeListCursor(String(page.at(-1)!.partNumber)) : undefined }
        })
      }),

    completeMultipartUpload: (key, uploadId, parts, options) =>
      call({ key, uploadId, message: "completing the upload failed" }, async (signal) => {
        const done = /^[0-9a-f]{48}$/.test(uploadId) ? await readJson<WriteResult>(`${uploadId}/completed.json`) : undefined
        if (done !== undefined) {
          const current = await container.getBlobClient(key).getProperties().catch(() => undefined)
          if (done.key === key && current !== undefined && unquoteEtag(current.etag ?? "") === done.etag) return done
          throw new BlobNotFound({ key, uploadId })
        }
        const record = await openUpload(key, uploadId)
        const stored = await partsOf(uploadId)
        const sources: Array<{ url: string; offset: number; length: number }> = []
        for (const [index, part] of parts.entries()) {
          const found = stored.get(part.partNumber)
          if (found === undefined || found.etag !== part.etag) throw new PreconditionFailed({ key, reason: "invalid-part" })
          if (index < parts.length - 1 && found.size < minPartSize) throw new PreconditionFailed({ key, reason: "part-too-small" })
          if (found.size > 0) sources.push({ url: await readableUrl(uploads.getBlobClient(`${uploadId}/part-${part.partNumber}`)), offset: 0, length: found.size })
        }
        let etag: string
        try {
          etag = await compose(container.getBlockBlobClient(key), sources, attributes(record.contentType, record.metadata), options, signal)
        } catch (error) {
          return await conditionFailure(key, options, error)
        }
        const result: WriteResult = { key, size: sources.reduce((sum, source) => sum + source.length, 0), etag }
        await writeJson(`${uploadId}/completed.json`, result)
        await removeUpload(uploadId, `${uploadId}/completed.json`)
        return result
      }),

    abortMultipartUpload: (key, uploadId) =>
      call({ key, uploadId, message: "aborting the upload failed" }, async () => {
        await openUpload(key, uploadId)
        await removeUpload(uploadId)
      })
  }
  return fromDriver(driver)
}

const lastOf = (items: ReadonlyArray<BlobSummary>, prefixes: ReadonlyArray<string>): string => {
  const item = items.at(-1)?.key
  const prefix = prefixes.at(-1)
  if (item === undefined) return prefix!
  if (prefix === undefined) return item
  return compareKeys(item, prefix) > 0 ? item : prefix
}
