/**
 * Bodies in and out of a {@link BlobStore}.
 *
 * In: a Web `ReadableStream<Uint8Array>` or any `AsyncIterable<Uint8Array>` (a Node `Readable`
 * is one), read once, pulled chunk by chunk, so a writer never needs the whole body in memory.
 * Out: always a Web `ReadableStream<Uint8Array>`, pull-based, which `new Response(body)` (Hono,
 * fetch) and `Readable.fromWeb` take as they are.
 *
 * Adapters receive a {@link BodySource}: the caller's body, checked chunk by chunk (each must be
 * a `Uint8Array`), counted, and held to its declared length. When the body breaks one of these
 * rules or its stream fails, iterating the source throws, and `failure` holds the
 * `InvalidArgument` the operation must fail with; an adapter therefore never commits a write
 * whose body did not end normally.
 *
 * @example
 * ```ts
 * import { BodySource, readChunks } from "@aquifer/blob"
 * const source = BodySource.from(new Blob(["hello"]).stream(), 5)
 * for await (const part of readChunks(source, 8 * 1024 * 1024)) {
 *   // part: up to 8 MiB of bytes, each part exactly 8 MiB except the last
 * }
 * ```
 * @module
 */
import { InvalidArgument } from "./errors.ts"

/** What a caller may hand to `put` or `uploadPart`. */
export type BlobBody = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>

const isReadableStream = (body: unknown): body is ReadableStream<Uint8Array> =>
  typeof body === "object" && body !== null && typeof (body as ReadableStream).getReader === "function"

const isAsyncIterable = (body: unknown): body is AsyncIterable<Uint8Array> =>
  typeof body === "object" && body !== null && typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === "function"

/** True when `body` can be used as a blob body. */
export const isBlobBody = (body: unknown): body is BlobBody => isReadableStream(body) || isAsyncIterable(body)

/**
 * A caller's body as adapters see it: iterable once, every chunk a non-empty `Uint8Array`,
 * `bytes` counting what was read so far. With `expectedLength`, a body yielding more fails on
 * the chunk that overflows and a body ending short fails at its end — in both cases before the
 * iteration completes normally.
 */
export class BodySource implements AsyncIterable<Uint8Array> {
  /** Bytes read from the body so far. */
  bytes = 0
  /** Why the body was refused, once it was. */
  failure: InvalidArgument | undefined = undefined
  private used = false
  private readonly body: BlobBody
  /** The length the caller declared, if any. */
  readonly expectedLength: number | undefined

  private constructor(body: BlobBody, expectedLength: number | undefined) {
    this.body = body
    this.expectedLength = expectedLength
  }

  /** Wraps a caller's body; `expectedLength` is the declared `contentLength`, if any. */
  static from(body: BlobBody, expectedLength?: number): BodySource {
    return new BodySource(body, expectedLength)
  }

  private fail(message: string, cause?: unknown): InvalidArgument {
    this.failure ??= new InvalidArgument({ field: "body", message, cause })
    return this.failure
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.used) throw this.fail("a body can be read only once")
    this.used = true
    const chunks = isReadableStream(this.body) ? fromReadableStream(this.body) : this.body[Symbol.asyncIterator]()
    let done = false
    try {
      for (;;) {
        let next: IteratorResult<Uint8Array>
        try {
          next = await chunks.next()
        } catch (cause) {
          done = true
          throw this.fail("the body stream failed", cause)
        }
        if (next.done === true) {
          done = true
          break
        }
        const chunk: unknown = next.value
        if (!(chunk instanceof Uint8Array)) throw this.fail("every chunk of a body must be a Uint8Array")
        if (chunk.byteLength === 0) continue
        this.bytes += chunk.byteLength
        if (this.expectedLength !== undefined && this.bytes > this.expectedLength) {
          throw this.fail(`the body is longer than its declared length of ${this.expectedLength} bytes`)
        }
        yield chunk
      }
    } finally {
      if (!done) await chunks.return?.().catch(() => undefined)
    }
    if (this.expectedLength !== undefined && this.bytes !== this.expectedLength) {
      throw this.fail(`the body ended after ${this.bytes} of its declared ${this.expectedLength} bytes`)
    }
  }

  /** Tells the caller's stream that nobody will read it any more (after a failure before reading). */
  async cancel(): Promise<void> {
    if (this.used) return
    this.used = true
    try {
      if (isReadableStream(this.body)) await this.body.cancel()
      else await this.body[Symbol.asyncIterator]().return?.()
    } catch {
      // the caller's stream may already be errored; nothing more to release
    }
  }
}

const fromReadableStream = (stream: ReadableStream<Uint8Array>): AsyncIterator<Uint8Array> => {
  const reader = stream.getReader()
  return {
    next: async () => {
      const { done, value } = await reader.read()
      return done ? { done: true, value: undefined } : { done: false, value }
    },
    return: async () => {
      await reader.cancel().catch(() => undefined)
      reader.releaseLock()
      return { done: true, value: undefined }
    }
  }
}

/**
 * Re-chunks a body into parts of exactly `size` bytes (the last may be shorter, and an empty
 * body yields nothing). Each part is a fresh buffer the consumer may keep.
 */
export async function* readChunks(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  yield* cut(source, size, () => new Uint8Array(size), () => {})
}

/** Cuts `source` into parts of `size` bytes, each filled into a buffer from `acquire`. */
async function* cut(
  source: AsyncIterable<Uint8Array>,
  size: number,
  acquire: () => Uint8Array | Promise<Uint8Array>,
  unused: (part: Uint8Array) => void
): AsyncGenerator<Uint8Array> {
  let part = await acquire()
  let filled = 0
  for await (const chunk of source) {
    let offset = 0
    while (offset < chunk.byteLength) {
      const take = Math.min(size - filled, chunk.byteLength - offset)
      part.set(chunk.subarray(offset, offset + take), filled)
      filled += take
      offset += take
      if (filled === size) {
        yield part
        part = await acquire()
        filled = 0
      }
    }
  }
  if (filled > 0) yield part.subarray(0, filled)
  else unused(part)
}

/** Parts of a body cut by {@link pooledChunks}: give each part back with `release` once sent. */
export interface PooledParts extends AsyncIterable<Uint8Array> {
  /** Returns a part's buffer to the pool (the part must not be used afterwards). */
  readonly release: (part: Uint8Array) => void
}

/**
 * Like {@link readChunks}, but over at most `buffers` buffers of `size` bytes, recycled through
 * `release`: a multipart upload holding parts in flight keeps a flat memory footprint and makes
 * no garbage. The iteration waits for a released buffer when all are in use, so every part taken
 * must eventually be released (or the iteration abandoned).
 */
export const pooledChunks = (source: AsyncIterable<Uint8Array>, size: number, buffers: number): PooledParts => {
  const free: Array<ArrayBuffer> = []
  const waiting: Array<(buffer: ArrayBuffer) => void> = []
  let allocated = 0
  const acquire = async (): Promise<Uint8Array> => {
    const recycled = free.pop()
    if (recycled !== undefined) return new Uint8Array(recycled)
    if (allocated < buffers) {
      allocated++
      return new Uint8Array(size)
    }
    return new Uint8Array(await new Promise<ArrayBuffer>((resolve) => waiting.push(resolve)))
  }
  const release = (part: Uint8Array) => {
    const buffer = part.buffer as ArrayBuffer
    const next = waiting.shift()
    if (next !== undefined) next(buffer)
    else free.push(buffer)
  }
  const parts = () => cut(source, size, acquire, release)
  return { [Symbol.asyncIterator]: parts, release }
}

/**
 * A pull-based `ReadableStream` over `bytes`, in chunks of `chunkSize` (64 KiB by default).
 * Each chunk is a copy, so a consumer that writes into it cannot change `bytes`.
 */
export const streamOfBytes = (bytes: Uint8Array, chunkSize = 64 * 1024): ReadableStream<Uint8Array> => {
  let offset = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) {
        controller.close()
        return
      }
      const end = Math.min(offset + chunkSize, bytes.byteLength)
      controller.enqueue(bytes.slice(offset, end))
      offset = end
    }
  }, { highWaterMark: 0 })
}
