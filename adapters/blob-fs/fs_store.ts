// The BlobStore on a local file system (the embedded default, or a persistent volume).
// Writes stream to a temp file, fsync, and rename into place under a per-key lock, so a reader
// sees the old object or the new one and an open reader keeps its file. See _layout.ts for the
// on-disk layout. One process owns a root: conditional writes are atomic within that process.
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
  listPage,
  minPartSize,
  PreconditionFailed,
  resolveRange,
  type BlobInfo,
  type BlobStore,
  type BlobSummary,
  type PartInfo,
  type PartsPage,
  type WriteResult
} from "@aquifer/blob"
import { Effect, Exit } from "effect"
import { randomBytes } from "node:crypto"
import { constants, type Dirent } from "node:fs"
import { type FileHandle, link, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink } from "node:fs/promises"
import { dirname, join, sep } from "node:path"
import { encodeHeader, type Header, objectDir, objectFile, readHeader, segmentName, segmentOf } from "./_layout.ts"

const chunkSize = 1024 * 1024
const codeOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error ? String((error as { code: unknown }).code) : undefined
const transient = new Set(["ENOSPC", "EMFILE", "ENFILE", "EAGAIN", "EBUSY", "EDQUOT", "ETIMEDOUT"])

const toPortError = (message: string, body?: BodySource) => (cause: unknown) => {
  if (body?.failure !== undefined) return body.failure
  if (isBlobError(cause)) return cause as BlobStoreError
  const code = codeOf(cause)
  return code !== undefined && transient.has(code)
    ? new BlobStoreUnavailable({ message: `${message}: ${code}`, cause })
    : new BlobStoreError({ message, cause })
}

const newEtag = (): string => randomBytes(16).toString("hex")
const uploadIdPattern = /^[0-9a-f]{32}$/

const ignore = (codes: ReadonlyArray<string>) => (error: unknown) => {
  if (!codes.includes(codeOf(error) ?? "")) throw error
}

const fsyncDir = async (dir: string): Promise<void> => {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY)
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

interface Opened {
  readonly handle: FileHandle
  readonly header: Header
  readonly dataOffset: number
  readonly size: number
  readonly lastModified: Date
}

const openBlobFile = async (path: string): Promise<Opened | undefined> => {
  let handle: FileHandle
  try {
    handle = await open(path, constants.O_RDONLY)
  } catch (error) {
    if (codeOf(error) === "ENOENT" || codeOf(error) === "ENOTDIR") return undefined
    throw error
  }
  try {
    const { header, dataOffset } = await readHeader(handle)
    const info = await handle.stat()
    return { handle, header, dataOffset, size: info.size - dataOffset, lastModified: info.mtime }
  } catch (error) {
    await handle.close()
    throw error
  }
}

/**
 * A pull-based byte stream of `length` bytes of an open file from `start`; closes the file at the
 * end. Read in BYOB mode, the file is read straight into the reader's buffers (no allocation per
 * chunk); a default reader gets a fresh buffer of up to `chunkSize` bytes per read.
 */
const fileBody = (handle: FileHandle, start: number, length: number): ReadableStream<Uint8Array> => {
  let position = start
  const end = start + length
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await handle.close()
  }
  return new ReadableStream({
    type: "bytes",
    async pull(controller) {
      try {
        if (position >= end) {
          await close()
          controller.close()
          controller.byobRequest?.respond(0)
          return
        }
        const request = controller.byobRequest
        const view = request?.view
        if (request && view && view.byteLength > 0) {
          const size = Math.min(view.byteLength, end - position)
          const target = new Uint8Array(view.buffer, view.byteOffset, size)
          const { bytesRead } = await handle.read(target, 0, size, position)
          if (bytesRead === 0) throw new Error("the blob file is shorter than its size")
          position += bytesRead
          request.respond(bytesRead)
        } else {
          const size = Math.min(chunkSize, end - position)
          const buffer = Buffer.allocUnsafeSlow(size)
          const { bytesRead } = await handle.read(buffer, 0, size, position)
          if (bytesRead === 0) throw new Error("the blob file is shorter than its size")
          position += bytesRead
          controller.enqueue(bytesRead === size ? buffer : buffer.subarray(0, bytesRead))
        }
        if (position >= end) {
          await close()
          controller.close()
          // A read that arrived meanwhile waits on this: it gets its buffer back, and the end.
          controller.byobRequest?.respond(0)
        }
      } catch (cause) {
        await close().catch(() => undefined)
        controller.error(new BlobStoreError({ message: "reading the blob failed", cause }))
      }
    },
    async cancel() {
      await close()
    }
  }, { highWaterMark: 0 })
}

/** Options of the fs store. */
export interface FsOptions {
  /** The directory holding everything; created when absent. */
  readonly root: string
}

/** Builds the store over `root`: creates its folders, checks the file system, sweeps stale temp files. */
export const makeFs = (options: FsOptions): Effect.Effect<BlobStore["Service"], BlobStoreError> =>
  Effect.tryPromise({
    try: () => start(options.root),
    catch: (cause) => new BlobStoreError({ message: `cannot use ${options.root} as a blob store root`, cause })
  })

const start = async (root: string): Promise<BlobStore["Service"]> => {
  const objects = join(root, "objects")
  const tmp = join(root, "tmp")
  const uploads = join(root, "uploads")
  for (const dir of [objects, tmp, uploads]) await mkdir(dir, { recursive: true })
  await probeCaseSensitivity(tmp)
  await sweep(tmp, uploads)

  const locks = new Map<string, Promise<void>>()
  const withLock = async <A>(name: string, run: () => Promise<A>): Promise<A> => {
    const previous = locks.get(name) ?? Promise.resolve()
    let release!: () => void
    const mine = new Promise<void>((resolve) => {
      release = resolve
    })
    const chained = previous.then(() => mine)
    locks.set(name, chained)
    await previous
    try {
      return await run()
    } finally {
      release()
      if (locks.get(name) === chained) locks.delete(name)
    }
  }

  const tempPath = () => join(tmp, `${Date.now()}-${randomBytes(8).toString("hex")}`)

  /** Streams `body` after `header` into a fresh temp file, fsynced; returns its path and data size. */
  const writeTemp = async (header: Header, body: AsyncIterable<Uint8Array>, signal: AbortSignal) => {
    const path = tempPath()
    const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644)
    let size = 0
    try {
      const head = encodeHeader(header)
      await handle.write(head, 0, head.byteLength, 0)
      let position = head.byteLength
      let batch: Array<Uint8Array> = []
      let batchBytes = 0
      let pending: Promise<void> = Promise.resolve()
      let failure: unknown
      const flush = () => {
        const buffers = batch
        const at = position
        position += batchBytes
        batch = []
        batchBytes = 0
        pending = pending.then(() => handle.writev(buffers, at)).then(() => undefined, (error: unknown) => {
          failure ??= error
        })
      }
      for await (const chunk of body) {
        if (signal.aborted) throw signal.reason
        if (failure !== undefined) throw failure
        batch.push(chunk)
        batchBytes += chunk.byteLength
        size += chunk.byteLength
        if (batchBytes >= chunkSize) {
          await pending
          flush()
        }
      }
      if (batchBytes > 0) flush()
      await pending
      if (failure !== undefined) throw failure
      if (signal.aborted) throw signal.reason
      await handle.datasync()
      await handle.close()
      return { path, size }
    } catch (error) {
      await handle.close().catch(() => undefined)
      await unlink(path).catch(() => undefined)
      throw error
    }
  }

  /** Copies `length` bytes of an open file from `from` into a temp file after `header`. */
  const copyTemp = async (header: Header, sources: ReadonlyArray<{ handle: FileHandle; from: number; length: number }>, signal: AbortSignal) => {
    async function* read() {
      for (const source of sources) {
        let position = source.from
        const end = source.from + source.length
        while (position < end) {
          const size = Math.min(chunkSize, end - position)
          const buffer = Buffer.allocUnsafeSlow(size)
          const { bytesRead } = await source.handle.read(buffer, 0, size, position)
          if (bytesRead === 0) throw new Error("a source file is shorter than its size")
          position += bytesRead
          yield buffer.subarray(0, bytesRead)
        }
      }
    }
    return await writeTemp(header, read(), signal)
  }

  const currentEtag = async (target: string): Promise<string | undefined> => {
    const opened = await openBlobFile(target)
    if (opened === undefined) return undefined
    await opened.handle.close()
    return opened.header.etag
  }

  /** Publishes a temp file as the object under `key`, checking the conditions under the key's lock. */
  const commit = async (
    key: string,
    path: string,
    conditions: { readonly ifNoneMatch?: "*" | undefined; readonly ifMatch?: string | undefined }
  ): Promise<void> => {
    const dir = objectDir(objects, key)
    const target = join(dir, objectFile)
    let created: string | undefined
    try {
      await withLock(key, async () => {
        if (conditions.ifMatch !== undefined) {
          const current = await currentEtag(target)
          if (current === undefined) throw new BlobNotFound({ key })
          if (current !== conditions.ifMatch) throw new PreconditionFailed({ key, reason: "if-match" })
        }
        for (let attempt = 0;; attempt++) {
          const made = await mkdir(dir, { recursive: true })
          created ??= made
          try {
            if (conditions.ifNoneMatch === "*") {
              await link(path, target)
              await unlink(path)
            } else {
              await rename(path, target)
            }
            return
          } catch (error) {
            if (codeOf(error) === "EEXIST" && conditions.ifNoneMatch === "*") throw new BlobAlreadyExists({ key })
            // A delete may have pruned the directory between mkdir and rename.
            if (codeOf(error) !== "ENOENT" || attempt >= 20) throw error
          }
        }
      })
    } catch (error) {
      await unlink(path).catch(() => undefined)
      throw error
    }
    await fsyncDir(dir)
    if (created !== undefined) {
      for (let at = dirname(dir);; at = dirname(at)) {
        await fsyncDir(at)
        if (at === dirname(created) || at === objects || !at.startsWith(objects)) break
      }
    }
  }

  const prune = async (dir: string): Promise<void> => {
    for (let at = dir; at !== objects && at.startsWith(objects + sep); at = dirname(at)) {
      try {
        await rmdir(at)
      } catch {
        return
      }
    }
  }

  const run = <A, E>(message: string, task: (signal: AbortSignal) => Promise<A>, body?: BodySource) =>
    Effect.tryPromise({ try: task, catch: toPortError(message, body) }) as Effect.Effect<A, E>

  const summaryOf = (key: string, opened: Opened): BlobSummary => ({
    key,
    size: opened.size,
    etag: opened.header.etag,
    lastModified: opened.lastModified
  })

  /** Keys under `prefix` after `after`, in code point order, walking only the directories that can hold them. */
  async function* keysUnder(prefix: string, after: string | undefined): AsyncGenerator<BlobSummary> {
    const segments = prefix.split("/")
    const partial = segments.pop()!
    const base = segments.length === 0 ? "" : `${segments.join("/")}/`
    yield* walk(segments.length === 0 ? objects : join(objects, ...segments.map(segmentName)), base, partial, after)
  }

  async function* walk(dir: string, keyPrefix: string, partial: string, after: string | undefined): AsyncGenerator<BlobSummary> {
    let entries: Array<Dirent>
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch (error) {
      if (codeOf(error) === "ENOENT" || codeOf(error) === "ENOTDIR") return
      throw error
    }
    const children: Array<{ readonly sort: string; readonly path: string; readonly subtree: boolean }> = []
    for (const entry of entries) {
      if (!entry.isDirectory()) continue
      const segment = segmentOf(entry.name)
      if (segment === undefined || !segment.startsWith(partial)) continue
      const path = join(dir, entry.name)
      children.push({ sort: keyPrefix + segment, path, subtree: false }, { sort: `${keyPrefix}${segment}/`, path, subtree: true })
    }
    children.sort((a, b) => compareKeys(a.sort, b.sort))
    for (const child of children) {
      if (!child.subtree) {
        if (after !== undefined && compareKeys(child.sort, after) <= 0) continue
        const opened = await openBlobFile(join(child.path, objectFile))
        if (opened === undefined) continue
        await opened.handle.close()
        yield summaryOf(child.sort, opened)
      } else {
        if (after !== undefined && compareKeys(child.sort, after) < 0 && !after.startsWith(child.sort)) continue
        yield* walk(child.path, child.sort, "", after)
      }
    }
  }

  const driver: BlobStoreDriver = {
    put: (key, body, options) =>
      run("writing the blob failed", async (signal) => {
        const etag = newEtag()
        const written = await writeTemp({ etag, contentType: options.contentType, metadata: options.metadata }, body, signal)
        await commit(key, written.path, options)
        return { key, size: written.size, etag } satisfies WriteResult
      }, body),
    get: (key, options) =>
      Effect.gen(function*() {
        const opened = yield* run<Opened | undefined, BlobStoreError>("opening the blob failed", () => openBlobFile(join(objectDir(objects, key), objectFile)))
        if (opened === undefined) return yield* new BlobNotFound({ key })
        const range = options.range === undefined
          ? { offset: 0, length: opened.size }
          : yield* resolveRange(key, options.range, opened.size).pipe(
            Effect.onExit((exit) => Exit.isFailure(exit) ? Effect.promise(() => opened.handle.close()) : Effect.void)
          )
        const info: BlobInfo = { key, size: opened.size, etag: opened.header.etag, lastModified: opened.lastModified, contentType: opened.header.contentType, metadata: opened.header.metadata }
        return { info, offset: range.offset, length: range.length, body: fileBody(opened.handle, opened.dataOffset + range.offset, range.length) }
      }),
    head: (key) =>
      run("reading the blob failed", async () => {
        const opened = await openBlobFile(join(objectDir(objects, key), objectFile))
        if (opened === undefined) throw new BlobNotFound({ key })
        await opened.handle.close()
        return { key, size: opened.size, etag: opened.header.etag, lastModified: opened.lastModified, contentType: opened.header.contentType, metadata: opened.header.metadata } satisfies BlobInfo
      }),
    delete: (key) =>
      run("deleting the blob failed", async () => {
        const dir = objectDir(objects, key)
        const removed = await withLock(key, () => unlink(join(dir, objectFile)).then(() => true, (error: unknown) => {
          ignore(["ENOENT", "ENOTDIR"])(error)
          return false
        }))
        if (removed) {
          await prune(dir)
          await fsyncDir(dirname(dir)).catch(() => undefined)
        }
      }),
    copy: (source, destination, options) =>
      run("copying the blob failed", async (signal) => {
        const opened = await openBlobFile(join(objectDir(objects, source), objectFile))
        if (opened === undefined) throw new BlobNotFound({ key: source })
        const etag = newEtag()
        try {
          const written = await copyTemp(
            { etag, contentType: options.contentType ?? opened.header.contentType, metadata: options.metadata ?? opened.header.metadata },
            [{ handle: opened.handle, from: opened.dataOffset, length: opened.size }],
            signal
          )
          await commit(destination, written.path, {})
          return { key: destination, size: written.size, etag } satisfies WriteResult
        } finally {
          await opened.handle.close()
        }
      }),
    list: (options) => listPage(keysUnder, options),
    createMultipartUpload: (key, options) =>
      run("creating the upload failed", async () => {
        const uploadId = randomBytes(16).toString("hex")
        const dir = join(uploads, uploadId)
        await mkdir(dir)
        await writeJson(join(dir, "upload.json"), { key, contentType: options.contentType, metadata: options.metadata })
        return uploadId
      }),
    uploadPart: (key, uploadId, partNumber, body) =>
      run("uploading the part failed", async (signal) => {
        const dir = await openUpload(uploads, key, uploadId)
        const etag = newEtag()
        const written = await writeTemp({ etag, contentType: "", metadata: {} }, body, signal)
        try {
          await rename(written.path, join(dir, `part-${partNumber}`))
        } catch (error) {
          await unlink(written.path).catch(() => undefined)
          if (codeOf(error) === "ENOENT") throw new BlobNotFound({ key, uploadId })
          throw error
        }
        return { partNumber, etag, size: written.size } satisfies PartInfo
      }, body),
    listParts: (key, uploadId, options) =>
      Effect.gen(function*() {
        const after = options.cursor === undefined ? 0 : Number(yield* decodeListCursor(options.cursor))
        if (!Number.isInteger(after)) return yield* new InvalidArgument({ field: "cursor", message: "the cursor is not one this store issued" })
        return yield* run<PartsPage, BlobNotFound | BlobStoreError>("listing the parts failed", async () => {
          const dir = await openUpload(uploads, key, uploadId)
          const numbers = (await readdir(dir))
            .flatMap((name) => /^part-(\d+)$/.exec(name)?.[1] ?? [])
            .map(Number)
            .filter((number) => number > after)
            .sort((a, b) => a - b)
          const parts: Array<PartInfo> = []
          for (const partNumber of numbers.slice(0, options.limit)) {
            const opened = await openBlobFile(join(dir, `part-${partNumber}`))
            if (opened === undefined) continue
            await opened.handle.close()
            parts.push({ partNumber, etag: opened.header.etag, size: opened.size })
          }
          return { parts, next: numbers.length > options.limit ? encodeListCursor(String(numbers[options.limit - 1])) : undefined }
        })
      }),
    completeMultipartUpload: (key, uploadId, parts, options) =>
      run("completing the upload failed", (signal) =>
        withLock(`upload:${uploadId}`, async () => {
          if (!uploadIdPattern.test(uploadId)) throw new BlobNotFound({ key, uploadId })
          const dir = join(uploads, uploadId)
          const done = await readJson<WriteResult>(join(dir, "completed.json"))
          if (done !== undefined) {
            if (done.key === key && (await currentEtag(join(objectDir(objects, key), objectFile))) === done.etag) return done
            throw new BlobNotFound({ key, uploadId })
          }
          const upload = await readUpload(uploads, key, uploadId)
          const opened: Array<Opened> = []
          try {
            for (const [index, part] of parts.entries()) {
              const file = await openBlobFile(join(dir, `part-${part.partNumber}`))
              if (file === undefined) throw new PreconditionFailed({ key, reason: "invalid-part" })
              opened.push(file)
              if (file.header.etag !== part.etag) throw new PreconditionFailed({ key, reason: "invalid-part" })
              if (index < parts.length - 1 && file.size < minPartSize) throw new PreconditionFailed({ key, reason: "part-too-small" })
            }
            const etag = newEtag()
            const written = await copyTemp(
              { etag, contentType: upload.contentType, metadata: upload.metadata },
              opened.map((file) => ({ handle: file.handle, from: file.dataOffset, length: file.size })),
              signal
            )
            await commit(key, written.path, options)
            const result: WriteResult = { key, size: written.size, etag }
            await writeJson(join(dir, "completed.json"), result)
            for (const name of await readdir(dir)) {
              if (name !== "completed.json") await rm(join(dir, name), { force: true })
            }
            return result
          } finally {
            for (const file of opened) await file.handle.close().catch(() => undefined)
          }
        })),
    abortMultipartUpload: (key, uploadId) =>
      run("aborting the upload failed", async () => {
        const dir = await openUpload(uploads, key, uploadId)
        await rm(dir, { recursive: true, force: true })
      })
  }
  return fromDriver(driver)
}

const writeJson = async (path: string, value: unknown): Promise<void> => {
  const temp = `${path}.${randomBytes(6).toString("hex")}`
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644)
  try {
    await handle.writeFile(JSON.stringify(value))
    await handle.datasync()
  } finally {
    await handle.close()
  }
  await rename(temp, path)
}

const readJson = async <A>(path: string): Promise<A | undefined> => {
  try {
    return JSON.parse(await readFile(path, "utf8")) as A
  } catch (error) {
    if (codeOf(error) === "ENOENT" || codeOf(error) === "ENOTDIR") return undefined
    throw error
  }
}

interface UploadRecord {
  readonly key: string
  readonly contentType: string
  readonly metadata: Readonly<Record<string, string>>
}

const readUpload = async (uploads: string, key: string, uploadId: string): Promise<UploadRecord> => {
  if (!uploadIdPattern.test(uploadId)) throw new BlobNotFound({ key, uploadId })
  const record = await readJson<UploadRecord>(join(uploads, uploadId, "upload.json"))
  if (record === undefined || record.key !== key) throw new BlobNotFound({ key, uploadId })
  return record
}

const openUpload = async (uploads: string, key: string, uploadId: string): Promise<string> => {
  await readUpload(uploads, key, uploadId)
  return join(uploads, uploadId)
}

const probeCaseSensitivity = async (tmp: string): Promise<void> => {
  const name = `case-${randomBytes(6).toString("hex")}`
  const upper = join(tmp, `${name}-A`)
  await (await open(upper, "w")).close()
  try {
    const folded = await stat(join(tmp, `${name}-a`)).then(() => true, () => false)
    if (folded) throw new Error("the file system is case-insensitive: keys differing only in case would collide")
  } finally {
    await unlink(upper)
  }
}

const staleAfter = 60 * 60 * 1000

const sweep = async (tmp: string, uploads: string): Promise<void> => {
  const now = Date.now()
  for (const name of await readdir(tmp)) {
    const info = await stat(join(tmp, name)).catch(() => undefined)
    if (info !== undefined && now - info.mtimeMs > staleAfter) await rm(join(tmp, name), { force: true, recursive: true })
  }
  for (const name of await readdir(uploads)) {
    const info = await stat(join(uploads, name, "completed.json")).catch(() => undefined)
    if (info !== undefined && now - info.mtimeMs > 24 * staleAfter) await rm(join(uploads, name), { force: true, recursive: true })
  }
}

