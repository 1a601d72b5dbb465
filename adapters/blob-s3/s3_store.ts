// The BlobStore on S3 and S3-compatible servers (MinIO-style servers, Google Cloud Storage's
// XML API) with @aws-sdk/client-s3. Objects map to keys of one bucket one to one. Puts of a
// known length stream as one PutObject; puts of unknown length buffer one part (8 MiB by
// default) and become a multipart upload only when the body is longer. Every SDK error is
// mapped by `mapError`; the SDK's own error is kept as `cause`.
import { someCause } from "@aquifer/core"
import {
  BlobAlreadyExists,
  BlobNotFound,
  BlobStoreError,
  type BlobStoreDriver,
  BlobStoreUnavailable,
  type BodySource,
  decodeListCursor,
  encodeListCursor,
  fromDriver,
  InvalidArgument,
  isBlobError,
  InvalidKey,
  InvalidRange,
  minPartSize,
  PreconditionFailed,
  pooledChunks,
  reservedMetadataPrefix,
  resolveRange,
  unquoteEtag,
  type BlobInfo,
  type BlobStore,
  type ByteRange,
  type GetResult,
  type PartInfo,
  type PartsPage,
  type WriteResult
} from "@aquifer/blob"
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  ListPartsCommand,
  type CompletedPart as S3CompletedPart,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  UploadPartCommand
} from "@aws-sdk/client-s3"
import { Effect, Redacted } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { Readable } from "node:stream"

/** Settings of the S3 store (see docs/adapters/blob.md for the environment variables). */
export interface S3Options {
  readonly bucket: string
  /** Default `us-east-1`; GCS takes `auto`. */
  readonly region?: string | undefined
  /** For anything but AWS: `http://127.0.0.1:9000`, `https://storage.googleapis.com`… */
  readonly endpoint?: string | undefined
  /** Path-style URLs (`endpoint/bucket/key`), as most self-hosted servers want. */
  readonly forcePathStyle?: boolean | undefined
  /** Static credentials; absent: the SDK's default chain (env, profile, web identity, IMDS…). */
  readonly credentials?: {
    readonly accessKeyId: string
    readonly secretAccessKey: Redacted.Redacted<string>
    readonly sessionToken?: Redacted.Redacted<string> | undefined
  } | undefined
  /**
   * `when_supported` (the SDK's default: CRC checksums on every upload, aws-chunked streams) or
   * `when_required` (for servers that do not understand them, like s3rver or GCS).
   */
  readonly checksums?: "when_supported" | "when_required" | undefined
  /** Part size of puts of unknown length, at least 5 MiB. Default 8 MiB. */
  readonly partSize?: number | undefined
  /** Parts uploaded at once by such puts. Default 2. */
  readonly queueSize?: number | undefined
}

const MiB = 1024 * 1024
const maxSinglePut = 5 * 1024 * MiB
const marker = `${reservedMetadataPrefix}upload`

interface S3ErrorShape {
  readonly name?: string
  readonly Code?: string
  readonly code?: string
  readonly message?: string
  readonly $metadata?: { readonly httpStatusCode?: number }
}

const nameOf = (error: unknown): string => {
  const shape = (error ?? {}) as S3ErrorShape
  return String(shape.Code ?? shape.name ?? shape.code ?? "")
}
const statusOf = (error: unknown): number | undefined => ((error ?? {}) as S3ErrorShape).$metadata?.httpStatusCode

const unavailableNames = new Set([
  "SlowDown",
  "ServiceUnavailable",
  "InternalError",
  "RequestTimeout",
  "RequestTimeTooSkewed",
  "TimeoutError",
  "ThrottlingException",
  "ConditionalRequestConflict",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH"
])

/** A connection refused, reset or timed out, however deep the SDK wrapped it. */
const isNetworkError = (error: unknown): boolean =>
  someCause(error, (shape) => unavailableNames.has(String(shape.code)) || unavailableNames.has(String(shape.name)))


/** Maps whatever the SDK threw to the port's errors; `key` and `uploadId` name what was asked for. */
const mapError = (error: unknown, context: { readonly key?: string; readonly uploadId?: string; readonly message: string }) => {
  if (isBlobError(error)) return error as BlobStoreError
  const name = nameOf(error)
  const status = statusOf(error)
  const key = context.key ?? ""
  const cause = error
  if (name === "NoSuchUpload") return new BlobNotFound({ key, uploadId: context.uploadId ?? "" })
  if (name === "NoSuchKey" || name === "NotFound" || (status === 404 && name !== "NoSuchBucket")) return new BlobNotFound({ key })
  if (name === "NoSuchBucket") return new BlobStoreError({ message: `${context.message}: the bucket does not exist`, cause })
  if (name === "InvalidRange" || status === 416) return new InvalidRange({ key, reason: "the range is not satisfiable" })
  if (name === "InvalidPart") return new PreconditionFailed({ key, reason: "invalid-part" })
  if (name === "InvalidPartOrder") return new PreconditionFailed({ key, reason: "invalid-part-order" })
  if (name === "EntityTooSmall") return new PreconditionFailed({ key, reason: "part-too-small" })
  if (name === "KeyTooLongError") return new InvalidKey({ key, reason: "the key is too long for this bucket" })
  if (name === "InvalidArgument" || name === "InvalidToken") return new InvalidArgument({ field: "request", message: `${context.message}: ${String((error as Error)?.message)}`, cause })
  if (unavailableNames.has(name) || isNetworkError(error) || status === 503 || status === 500 || status === 502 || status === 504) {
    return new BlobStoreUnavailable({ message: `${context.message}: ${name || "the server did not answer"}`, cause })
  }
  return new BlobStoreError({ message: `${context.message}${name === "" ? "" : `: ${name}`}`, cause })
}

const isNotImplemented = (error: unknown) => {
  const status = statusOf(error)
  return status === 405 || status === 501 || nameOf(error) === "NotImplemented" || nameOf(error) === "MethodNotAllowed"
}

const userMetadata = (metadata: Record<string, string> | undefined): Record<string, string> => {
  const result: Record<string, string> = {}
  for (const [name, value] of Object.entries(metadata ?? {})) {
    const lower = name.toLowerCase()
    if (!lower.startsWith(reservedMetadataPrefix)) result[lower] = value
  }
  return result
}

const rangeHeader = (range: ByteRange): string =>
  "suffix" in range
    ? `bytes=-${range.suffix}`
    : range.length === undefined
    ? `bytes=${range.offset}-`
    : `bytes=${range.offset}-${range.offset + range.length - 1}`

const parseContentRange = (header: string | undefined) => {
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header ?? "")
  return match === null ? undefined : { offset: Number(match[1]), length: Number(match[2]) - Number(match[1]) + 1, size: Number(match[3]) }
}

/**
 * A Web stream over the SDK's response body, taking `length` bytes after skipping `skip`, whose
 * errors are the port's (a body cut short fails; it never ends early as if complete).
 */
const bodyStream = (body: unknown, skip: number, length: number): ReadableStream<Uint8Array> => {
  const source = body as AsyncIterable<Uint8Array> & { destroy?: () => void }
  const iterator = source[Symbol.asyncIterator]()
  let toSkip = skip
  let left = length
  const finish = () => {
    source.destroy?.()
  }
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        for (;;) {
          if (left === 0) {
            finish()
            controller.close()
            return
          }
          const next = await iterator.next()
          if (next.done === true) throw new Error(`the object ended ${left} bytes early`)
          let chunk = next.value
          if (toSkip > 0) {
            const dropped = Math.min(toSkip, chunk.byteLength)
            chunk = chunk.subarray(dropped)
            toSkip -= dropped
          }
          if (chunk.byteLength === 0) continue
          if (chunk.byteLength > left) chunk = chunk.subarray(0, left)
          left -= chunk.byteLength
          controller.enqueue(chunk)
          return
        }
      } catch (cause) {
        finish()
        controller.error(new BlobStoreUnavailable({ message: "reading the object failed", cause }))
      }
    },
    cancel() {
      finish()
    }
  }, { highWaterMark: 0 })
}

/** Builds the S3 store; the client is destroyed when the returned effect's scope closes. */
export const makeS3 = (options: S3Options) =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => new S3Client(clientConfig(options))),
      (client) => Effect.sync(() => client.destroy())
    ),
    (client) => storeOver(client, options)
  )

const clientConfig = (options: S3Options): S3ClientConfig => ({
  region: options.region ?? "us-east-1",
  ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
  forcePathStyle: options.forcePathStyle ?? false,
  ...(options.credentials === undefined ? {} : {
    credentials: {
      accessKeyId: options.credentials.accessKeyId,
      secretAccessKey: Redacted.value(options.credentials.secretAccessKey),
      ...(options.credentials.sessionToken === undefined ? {} : { sessionToken: Redacted.value(options.credentials.sessionToken) })
    }
  }),
  requestChecksumCalculation: options.checksums === "when_required" ? "WHEN_REQUIRED" : "WHEN_SUPPORTED",
  responseChecksumValidation: options.checksums === "when_required" ? "WHEN_REQUIRED" : "WHEN_SUPPORTED",
  requestHandler: { connectionTimeout: 10_000 }
})

/**
 * A Node stream over a caller's body for the SDK, and a signal that aborts the request when the
 * effect is interrupted or the body fails. The stream itself never errors: the SDK wraps it
 * (aws-chunked encoding) in streams nobody listens to for errors, and would otherwise wait for
 * bytes that never come. A failed body aborts the request first, so no object is written.
 * Destroying the stream once the request is over releases the caller's stream if it was not
 * read to its end.
 */
const streamed = (body: BodySource, signal: AbortSignal) => {
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
  return { stream: Readable.from(guarded(), { objectMode: false }), signal: controller.signal }
}

const storeOver = (client: S3Client, options: S3Options): BlobStore["Service"] => {
  const Bucket = options.bucket
  const partSize = Math.max(minPartSize, options.partSize ?? 8 * MiB)
  const queueSize = Math.max(1, options.queueSize ?? 2)

  // The error type is the calling method's: `mapError` only yields the port's errors, and which
  // of them a request can produce follows from the request.
  const call = <A, E = BlobStoreError>(
    context: { readonly key?: string; readonly uploadId?: string; readonly message: string },
    task: (signal: AbortSignal) => Promise<A>,
    body?: BodySource
  ) =>
    Effect.tryPromise({
      try: task,
      catch: (error) => body?.failure ?? mapError(error, context)
    }) as unknown as Effect.Effect<A, E>

  const head = async (key: string, signal?: AbortSignal) => {
    const response = await client.send(new HeadObjectCommand({ Bucket, Key: key }), { abortSignal: signal })
    return {
      response,
      info: {
        key,
        size: response.ContentLength ?? 0,
        etag: unquoteEtag(response.ETag ?? ""),
        lastModified: response.LastModified ?? new Date(0),
        contentType: response.ContentType ?? "application/octet-stream",
        metadata: userMetadata(response.Metadata)
      } satisfies BlobInfo
    }
  }

  /** The condition headers of a write, and how a 412 answer to them is reported. */
  const conditionsOf = (options: { readonly ifNoneMatch?: "*" | undefined; readonly ifMatch?: string | undefined }) => ({
    ...(options.ifNoneMatch === undefined ? {} : { IfNoneMatch: "*" }),
    ...(options.ifMatch === undefined ? {} : { IfMatch: `"${options.ifMatch}"` })
  })

  const conditionFailure = async (
    key: string,
    options: { readonly ifNoneMatch?: "*" | undefined; readonly ifMatch?: string | undefined },
    error: unknown
  ): Promise<never> => {
    if (statusOf(error) === 412 || nameOf(error) === "PreconditionFailed") {
      if (options.ifNoneMatch === "*") throw new BlobAlreadyExists({ key })
      if (options.ifMatch !== undefined) {
        const exists = await head(key).then(() => true, () => false)
        throw exists ? new PreconditionFailed({ key, reason: "if-match" }) : new BlobNotFound({ key })
      }
    }
    throw error
  }

  const putSingle = async (
    key: string,
    body: Uint8Array | Readable,
    length: number,
    attributes: { readonly contentType: string; readonly metadata: Readonly<Record<string, string>> },
    conditions: { readonly ifNoneMatch?: "*" | undefined; readonly ifMatch?: string | undefined },
    signal: AbortSignal
  ) => {
    try {
      const response = await client.send(new PutObjectCommand({
        Bucket,
        Key: key,
        Body: body,
        ContentLength: length,
        ContentType: attributes.contentType,
        Metadata: { ...attributes.metadata },
        ...conditionsOf(conditions)
      }), { abortSignal: signal })
      return unquoteEtag(response.ETag ?? "")
    } catch (error) {
      return await conditionFailure(key, conditions, error)
    }
  }

  /** A multipart upload of pooled parts, `queueSize` at a time (each released once sent), aborted on any failure. */
  const putMultipart = async (
    key: string,
    first: Uint8Array,
    rest: AsyncIterator<Uint8Array>,
    release: (part: Uint8Array) => void,
    attributes: { readonly contentType: string; readonly metadata: Readonly<Record<string, string>> },
    conditions: { readonly ifNoneMatch?: "*" | undefined; readonly ifMatch?: string | undefined },
    signal: AbortSignal
  ) => {
    const created = await client.send(new CreateMultipartUploadCommand({
      Bucket,
      Key: key,
      ContentType: attributes.contentType,
      Metadata: { ...attributes.metadata }
    }), { abortSignal: signal })
    const UploadId = created.UploadId!
    try {
      const completed: Array<S3CompletedPart> = []
      const inFlight = new Set<Promise<void>>()
      let failure: unknown
      const upload = (PartNumber: number, Body: Uint8Array) => {
        const task: Promise<void> = client.send(new UploadPartCommand({ Bucket, Key: key, UploadId, PartNumber, Body, ContentLength: Body.byteLength }), { abortSignal: signal })
          .then((response) => {
            completed.push({
              PartNumber,
              ETag: response.ETag,
              ...(response.ChecksumCRC32 === undefined ? {} : { ChecksumCRC32: response.ChecksumCRC32 }),
              ...(response.ChecksumCRC32C === undefined ? {} : { ChecksumCRC32C: response.ChecksumCRC32C }),
              ...(response.ChecksumCRC64NVME === undefined ? {} : { ChecksumCRC64NVME: response.ChecksumCRC64NVME })
            })
          }, (error: unknown) => {
            failure ??= error
          })
          .finally(() => {
            inFlight.delete(task)
            release(Body)
          })
        inFlight.add(task)
      }
      let number = 1
      upload(number++, first)
      for (;;) {
        while (inFlight.size >= queueSize) await Promise.race(inFlight)
        if (failure !== undefined) throw failure
        const next = await rest.next()
        if (next.done === true) break
        upload(number++, next.value)
      }
      await Promise.all(inFlight)
      if (failure !== undefined) throw failure
      completed.sort((a, b) => a.PartNumber! - b.PartNumber!)
      try {
        const response = await client.send(new CompleteMultipartUploadCommand({
          Bucket,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: completed },
          ...conditionsOf(conditions)
        }), { abortSignal: signal })
        return unquoteEtag(response.ETag ?? "")
      } catch (error) {
        return await conditionFailure(key, conditions, error)
      }
    } catch (error) {
      await client.send(new AbortMultipartUploadCommand({ Bucket, Key: key, UploadId })).catch(() => undefined)
      throw error
    }
  }

  /**
   * A port upload id is `<token><key tag>.<S3 upload id>`: the token is also stored on the
   * completed object (for idempotent completion), the key tag binds the id to its key (not every
   * server checks that an upload belongs to the key it is addressed with).
   */
  const keyTag = (key: string) => createHash("sha256").update(key).digest("hex").slice(0, 16)
  const parseUploadId = (key: string, uploadId: string) => {
    const dot = uploadId.indexOf(".")
    const token = uploadId.slice(0, 32)
    if (dot !== 48 || !/^[0-9a-f]{48}$/.test(uploadId.slice(0, 48)) || uploadId.slice(32, 48) !== keyTag(key) || dot === uploadId.length - 1) {
      throw new BlobNotFound({ key, uploadId })
    }
    return { token, UploadId: uploadId.slice(dot + 1) }
  }

  const allParts = async (key: string, uploadId: string, UploadId: string, signal: AbortSignal) => {
    const parts = new Map<number, { size: number; etag: string; checksums: Record<string, string> }>()
    let PartNumberMarker: string | undefined
    for (;;) {
      const page = await client.send(new ListPartsCommand({ Bucket, Key: key, UploadId, PartNumberMarker }), { abortSignal: signal })
        .catch((error: unknown) => {
          throw mapError(error, { key, uploadId, message: "listing the parts failed" })
        })
      for (const part of page.Parts ?? []) {
        const checksums: Record<string, string> = {}
        if (part.ChecksumCRC32 !== undefined) checksums.ChecksumCRC32 = part.ChecksumCRC32
        if (part.ChecksumCRC32C !== undefined) checksums.ChecksumCRC32C = part.ChecksumCRC32C
        if (part.ChecksumCRC64NVME !== undefined) checksums.ChecksumCRC64NVME = part.ChecksumCRC64NVME
        if (part.ChecksumSHA1 !== undefined) checksums.ChecksumSHA1 = part.ChecksumSHA1
        if (part.ChecksumSHA256 !== undefined) checksums.ChecksumSHA256 = part.ChecksumSHA256
        parts.set(part.PartNumber!, { size: part.Size ?? 0, etag: unquoteEtag(part.ETag ?? ""), checksums })
      }
      if (page.IsTruncated !== true || page.NextPartNumberMarker === undefined) return parts
      PartNumberMarker = page.NextPartNumberMarker
    }
  }

  const driver: BlobStoreDriver = {
    put: (key, body, options) =>
      call({ key, message: "writing the object failed" }, async (signal) => {
        const attributes = { contentType: options.contentType, metadata: options.metadata }
        if (options.contentLength !== undefined && options.contentLength <= maxSinglePut) {
          const request = streamed(body, signal)
          try {
            const etag = await putSingle(key, request.stream, options.contentLength, attributes, options, request.signal)
            return { key, size: body.bytes, etag } satisfies WriteResult
          } finally {
            request.stream.destroy()
          }
        }
        const size = options.contentLength === undefined ? partSize : Math.max(partSize, Math.ceil(options.contentLength / 10_000))
        const pool = pooledChunks(body, size, queueSize + 1)
        const parts = pool[Symbol.asyncIterator]()
        const first = await parts.next()
        const firstPart = first.done === true ? new Uint8Array(0) : first.value
        const second = first.done === true ? { done: true as const, value: undefined } : await parts.next()
        if (second.done === true) {
          const etag = await putSingle(key, firstPart, firstPart.byteLength, attributes, options, signal)
          return { key, size: body.bytes, etag } satisfies WriteResult
        }
        let pending: IteratorResult<Uint8Array> | undefined = second
        const rest: AsyncIterator<Uint8Array> = {
          next: async () => {
            if (pending !== undefined) {
              const value = pending
              pending = undefined
              return value
            }
            return await parts.next()
          }
        }
        try {
          const etag = await putMultipart(key, firstPart, rest, pool.release, attributes, options, signal)
          return { key, size: body.bytes, etag } satisfies WriteResult
        } finally {
          // On failure, let go of the caller's stream too (not awaited: a part may still be in flight).
          void parts.return?.(undefined)?.catch(() => undefined)
        }
      }, body),

    get: (key, options) =>
      call<GetResult, InvalidRange | BlobNotFound | BlobStoreError>({ key, message: "reading the object failed" }, async (signal) => {
        for (let attempt = 0;; attempt++) {
          const response = await client.send(
            new GetObjectCommand({ Bucket, Key: key, ...(options.range === undefined ? {} : { Range: rangeHeader(options.range) }) }),
            { abortSignal: signal }
          ).catch(async (error: unknown) => {
            if (nameOf(error) !== "InvalidRange" && statusOf(error) !== 416) throw error
            const { info } = await head(key, signal)
            throw new InvalidRange({ key, size: info.size, reason: "the range is not satisfiable" })
          })
          const served = parseContentRange(response.ContentRange)
          const size = served?.size ?? response.ContentLength ?? 0
          const info: BlobInfo = {
            key,
            size,
            etag: unquoteEtag(response.ETag ?? ""),
            lastModified: response.LastModified ?? new Date(0),
            contentType: response.ContentType ?? "application/octet-stream",
            metadata: userMetadata(response.Metadata)
          }
          const drop = () => (response.Body as { destroy?: () => void } | undefined)?.destroy?.()
          let wanted = { offset: 0, length: size }
          if (options.range !== undefined) {
            const resolved = Effect.runSync(Effect.result(resolveRange(key, options.range, size)))
            if (resolved._tag === "Failure") {
              drop()
              throw resolved.failure
            }
            wanted = resolved.success
          }
          if (served === undefined || (served.offset === wanted.offset && served.length === wanted.length)) {
            // Without Content-Range the server sent the whole object (some ignore ranges on empty objects).
            const skip = served === undefined ? wanted.offset : 0
            return { info, offset: wanted.offset, length: wanted.length, body: bodyStream(response.Body ?? [], skip, wanted.length) } satisfies GetResult
          }
          // The server answered another range (some cannot do suffixes): ask for the resolved one, of this version.
          drop()
          const exact = await client.send(new GetObjectCommand({
            Bucket,
            Key: key,
            Range: `bytes=${wanted.offset}-${wanted.offset + wanted.length - 1}`,
            IfMatch: `"${info.etag}"`
          }), { abortSignal: signal }).catch((error: unknown) => {
            if ((statusOf(error) === 412 || nameOf(error) === "PreconditionFailed") && attempt < 3) return undefined
            throw error
          })
          if (exact === undefined) continue
          const again = parseContentRange(exact.ContentRange)
          return {
            info,
            offset: wanted.offset,
            length: wanted.length,
            body: bodyStream(exact.Body ?? [], again === undefined ? wanted.offset : wanted.offset - again.offset, wanted.length)
          } satisfies GetResult
        }
      }),

    head: (key) => call({ key, message: "reading the object failed" }, async (signal) => (await head(key, signal)).info),

    delete: (key) =>
      call({ key, message: "deleting the object failed" }, async (signal) => {
        await client.send(new DeleteObjectCommand({ Bucket, Key: key }), { abortSignal: signal }).catch((error: unknown) => {
          if (statusOf(error) !== 404) throw error
        })
      }),

    copy: (source, destination, options) =>
      call({ key: source, message: "copying the object failed" }, async (signal) => {
        for (let attempt = 0;; attempt++) {
          const { info } = await head(source, signal)
          try {
            const response = await client.send(new CopyObjectCommand({
              Bucket,
              Key: destination,
              CopySource: `${Bucket}/${source.split("/").map(encodeURIComponent).join("/")}`,
              CopySourceIfMatch: `"${info.etag}"`,
              MetadataDirective: "REPLACE",
              ContentType: options.contentType ?? info.contentType,
              Metadata: { ...(options.metadata ?? info.metadata) }
            }), { abortSignal: signal })
            return { key: destination, size: info.size, etag: unquoteEtag(response.CopyObjectResult?.ETag ?? "") } satisfies WriteResult
          } catch (error) {
            // The source changed between head and copy: look again.
            if ((statusOf(error) === 412 || nameOf(error) === "PreconditionFailed") && attempt < 3) continue
            throw error
          }
        }
      }),

    list: (options) =>
      Effect.gen(function*() {
        const ContinuationToken = options.cursor === undefined ? undefined : yield* decodeListCursor(options.cursor)
        const page = yield* call<ListObjectsV2CommandOutput, InvalidArgument | BlobStoreError>({ message: "listing failed" }, (signal) =>
          client.send(new ListObjectsV2Command({
            Bucket,
            Prefix: options.prefix === "" ? undefined : options.prefix,
            Delimiter: options.delimiter,
            MaxKeys: options.limit,
            ContinuationToken,
            StartAfter: ContinuationToken === undefined ? options.startAfter : undefined
          }), { abortSignal: signal }))
        return {
          items: (page.Contents ?? []).map((item) => ({
            key: item.Key!,
            size: item.Size ?? 0,
            etag: unquoteEtag(item.ETag ?? ""),
            lastModified: item.LastModified ?? new Date(0)
          })),
          prefixes: (page.CommonPrefixes ?? []).map((prefix) => prefix.Prefix!),
          next: page.IsTruncated === true && page.NextContinuationToken !== undefined ? encodeListCursor(page.NextContinuationToken) : undefined
        }
      }),

    createMultipartUpload: (key, options) =>
      call({ key, message: "creating the upload failed" }, async (signal) => {
        const token = randomBytes(16).toString("hex")
        const response = await client.send(new CreateMultipartUploadCommand({
          Bucket,
          Key: key,
          ContentType: options.contentType,
          Metadata: { ...options.metadata, [marker]: token }
        }), { abortSignal: signal })
        return `${token}${keyTag(key)}.${response.UploadId}`
      }),

    uploadPart: (key, uploadId, partNumber, body) =>
      call({ key, uploadId, message: "uploading the part failed" }, async (signal) => {
        const { UploadId } = parseUploadId(key, uploadId)
        const request = streamed(body, signal)
        const response = await client.send(new UploadPartCommand({
          Bucket,
          Key: key,
          UploadId,
          PartNumber: partNumber,
          Body: request.stream,
          ContentLength: body.expectedLength
        }), { abortSignal: request.signal }).catch(async (error: unknown) => {
          request.stream.destroy()
          // Some servers answer a part for a finished upload with an error of their own: ask.
          if (body.failure === undefined && nameOf(error) !== "NoSuchUpload") {
            await client.send(new ListPartsCommand({ Bucket, Key: key, UploadId, MaxParts: 1 })).catch((probe: unknown) => {
              if (nameOf(probe) === "NoSuchUpload") throw probe
            })
          }
          throw error
        })
        return { partNumber, etag: unquoteEtag(response.ETag ?? ""), size: body.bytes } satisfies PartInfo
      }, body),

    listParts: (key, uploadId, options) =>
      Effect.gen(function*() {
        const PartNumberMarker = options.cursor === undefined ? undefined : yield* decodeListCursor(options.cursor)
        return yield* call<PartsPage, BlobNotFound | BlobStoreError>({ key, uploadId, message: "listing the parts failed" }, async (signal) => {
          const { UploadId } = parseUploadId(key, uploadId)
          const page = await client.send(new ListPartsCommand({ Bucket, Key: key, UploadId, MaxParts: options.limit, PartNumberMarker }), { abortSignal: signal })
          return {
            parts: (page.Parts ?? []).map((part): PartInfo => ({ partNumber: part.PartNumber!, etag: unquoteEtag(part.ETag ?? ""), size: part.Size ?? 0 })),
            next: page.IsTruncated === true && page.NextPartNumberMarker !== undefined ? encodeListCursor(page.NextPartNumberMarker) : undefined
          }
        })
      }),

    completeMultipartUpload: (key, uploadId, parts, options) =>
      call({ key, uploadId, message: "completing the upload failed" }, async (signal) => {
        const { token, UploadId } = parseUploadId(key, uploadId)
        const idempotent = async (): Promise<WriteResult> => {
          const current = await head(key, signal).catch(() => undefined)
          if (current !== undefined && current.response.Metadata?.[marker] === token) {
            return { key, size: current.info.size, etag: current.info.etag }
          }
          throw new BlobNotFound({ key, uploadId })
        }
        let known: Awaited<ReturnType<typeof allParts>> | undefined
        try {
          known = await allParts(key, uploadId, UploadId, signal)
        } catch (error) {
          if (error instanceof BlobNotFound) return await idempotent()
          if (!(error instanceof BlobStoreError) || !isNotImplemented(error.cause)) throw error
        }
        if (known !== undefined) {
          for (const [index, part] of parts.entries()) {
            const stored = known.get(part.partNumber)
            if (stored === undefined || stored.etag !== part.etag) throw new PreconditionFailed({ key, reason: "invalid-part" })
            if (index < parts.length - 1 && stored.size < minPartSize) throw new PreconditionFailed({ key, reason: "part-too-small" })
          }
        }
        let etag: string
        try {
          const response = await client.send(new CompleteMultipartUploadCommand({
            Bucket,
            Key: key,
            UploadId,
            MultipartUpload: {
              Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: `"${part.etag}"`, ...known?.get(part.partNumber)?.checksums }))
            },
            ...conditionsOf(options)
          }), { abortSignal: signal })
          etag = unquoteEtag(response.ETag ?? "")
        } catch (error) {
          if (nameOf(error) === "NoSuchUpload") return await idempotent()
          return await conditionFailure(key, options, error)
        }
        const size = known !== undefined
          ? parts.reduce((sum, part) => sum + known.get(part.partNumber)!.size, 0)
          : (await head(key, signal)).info.size
        return { key, size, etag }
      }),

    abortMultipartUpload: (key, uploadId) =>
      call({ key, uploadId, message: "aborting the upload failed" }, async (signal) => {
        const { UploadId } = parseUploadId(key, uploadId)
        await client.send(new AbortMultipartUploadCommand({ Bucket, Key: key, UploadId }), { abortSignal: signal })
      })
  }
  return fromDriver(driver)
}
