/**
 * The conformance kit of the `BlobStore` port, after Go CDK's `drivertest`: one suite, written
 * once against the port's promises, that every adapter runs in one line — and that anyone who
 * writes an adapter of their own runs against it before trusting it.
 *
 * It covers reads and writes with attributes, overwrites, empty and large objects streamed
 * without buffering, byte ranges at the edges, every hostile key (which must fail with
 * `InvalidKey` and touch nothing), unicode keys in code point order, listing with prefixes,
 * delimiters, `startAfter` and pagination across thousands of keys, read-after-write,
 * concurrent writers, readers during a slow writer, failed and interrupted writes, conditional
 * writes (with racing creators), copy, and multipart uploads.
 *
 * The suite builds the layer once (in a `beforeAll`, so a layer may read the address of a
 * server an earlier `beforeAll` started) and runs every case with live services; each case
 * works under its own random key prefix, so one store serves the whole suite and the adapter's
 * own tests.
 *
 * @example
 * ```ts
 * // adapters/blob-custom/custom_test.ts
 * import { suite } from "@aquifer/blob/testing"
 * import { layer } from "./mod.ts"
 *
 * suite("blob-custom", layer({ root: "/tmp/x" }), { largeObjectBytes: 32 * 1024 * 1024 })
 * ```
 * @module
 */
import { describe, layer } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber, type Layer } from "effect"
import {
  block,
  deepEqual,
  equal,
  fail,
  failsWith,
  gate,
  isTrue,
  pattern,
  readAll,
  sameBytes,
  split,
  streamOf,
  text,
  tick
} from "./_kit_support.ts"
import { BlobStore, type BlobStoreService, minPartSize } from "./blob_store.ts"
import { compareKeys, maxKeyBytes, maxSegmentBytes } from "./key.ts"

/** What a backend cannot do, and how big the heavy cases are. Defaults suit a real backend. */
export interface KitOptions {
  /** The backend enforces `ifNoneMatch` / `ifMatch` atomically (s3rver ignores them). Default true. */
  readonly conditionalWrites?: boolean
  /** The backend refuses parts under `minPartSize` at completion (s3rver does not). Default true. */
  readonly enforcesMinPartSize?: boolean
  /**
   * The backend publishes writes atomically, so racing writers and readers during a write see
   * whole objects (s3rver writes in place and does not). Default true.
   */
  readonly atomicWrites?: boolean
  /** A `get` opened before an overwrite keeps streaming the old version to its end. Default true. */
  readonly snapshotReads?: boolean
  /**
   * The backend keeps track of multipart uploads: lists and aborts them, checks part ETags at
   * completion and reports unknown uploads (s3rver does none of these; then only the basic
   * multipart flow runs). Default true.
   */
  readonly multipartListing?: boolean
  /**
   * The backend's listings are complete, ordered and paged (s3rver walks its directories: it
   * lists in file-system order, loses keys two levels below a common prefix, and fails on a
   * truncated page). When false, single-page listings are compared as sets, and the delimiter
   * and pagination cases are not run. Default true.
   */
  readonly faithfulListing?: boolean
  /**
   * Keys of every valid shape round-trip: empty segments (`a//b`) and segments of the maximum
   * length (s3rver joins paths, losing `//`, and appends a suffix to file names). When false,
   * those two shapes are left out. Default true.
   */
  readonly allKeyShapes?: boolean
  /**
   * `get` bodies are byte streams (`type: "bytes"`): a reader in BYOB mode gets the bytes in its
   * own buffers, so a server can send any object through a few reused buffers (blob-fs). Default
   * false: other adapters' bodies are plain streams, and readers must not ask for BYOB mode.
   */
  readonly byteStreams?: boolean
  /** Bytes of the large object streamed through put and get. Default 96 MiB. */
  readonly largeObjectBytes?: number
  /** Keys written for the pagination cases. Default 2000. */
  readonly paginationKeys?: number
  /** Parallel writes when seeding the pagination keys. Default 8. */
  readonly seedConcurrency?: number
  /**
   * Live memory in bytes (e.g. `heapUsed + external` from `process.memoryUsage()`). When given
   * (and `buffersObjects` is not set), the large-object case checks that neither put nor get
   * holds more than half the object in memory at once. Calls `globalThis.gc` first when present.
   */
  readonly memoryUsage?: () => number
  /** The adapter keeps objects in memory by design (the memory adapter); skips the bound. */
  readonly buffersObjects?: boolean
  /** Per-test timeout in ms. Default 60 000 (the large-object case gets three times as much). */
  readonly timeout?: number
}

const MiB = 1024 * 1024

const slug = (title: string) => title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40)

type Case = (store: BlobStoreService, ns: string) => Effect.Effect<void, unknown>

/** Registers the conformance suite for the store built by `storeLayer`. */
export const suite = (name: string, storeLayer: Layer.Layer<BlobStore, unknown>, options: KitOptions = {}): void => {
  const timeout = options.timeout ?? 60_000
  const run = crypto.randomUUID().slice(0, 8)
  describe(`BlobStore conformance: ${name}`, () => {
    layer(storeLayer, { timeout: Duration.millis(timeout), excludeTestServices: true })((it) => {
      for (const [title, body, factor] of cases(options)) {
        it.effect(title, () => Effect.flatMap(BlobStore, (store) => body(store, `kit-${run}/${slug(title)}/`)), timeout * (factor ?? 1))
      }
    })
  })
}

const cases = (options: KitOptions): Array<readonly [string, Case, number?]> => {
  const all: Array<readonly [string, Case, number?]> = [
    ["put then get returns the bytes, content type and metadata", putGet],
    ["put defaults the content type and metadata", defaults],
    ["overwriting replaces bytes, attributes and ETag", overwrite],
    ["bodies may be async iterables of odd chunks, with or without a length", iterables],
    ["an empty object", emptyObject],
    ["missing keys: get and head fail with BlobNotFound, delete succeeds twice", missing],
    ["byte ranges, including the edges", ranges],
    ["every hostile key fails with InvalidKey and touches nothing", hostile],
    ["unusual but valid keys round-trip and list in code point order", (store, ns) => unusualKeys(store, ns, options)],
    ["list: prefixes, delimiters and startAfter", (store, ns) => listBasics(store, ns, options)],
    ["read-after-write: head, get and list see every completed write", readAfterWrite],
    ["a failing or mis-sized body writes nothing", (store, ns) => failedBodies(store, ns, options)],
    ["an interrupted put writes nothing", interruptedPut],
    ["copy", copy],
    ["multipart upload: parts, listing, completion, idempotence", (store, ns) => multipart(store, ns, options), 2],
    ["a large object streams through put and get without buffering", (store, ns) => largeObject(store, ns, options), 3]
  ]
  if (options.faithfulListing !== false) {
    all.push(["list: pagination across thousands of keys", (store, ns) => pagination(store, ns, options), 2])
  }
  if (options.atomicWrites !== false) {
    all.push(
      ["concurrent writers leave exactly one whole body", concurrentWriters],
      ["a reader during a slow writer sees the previous object, whole", (store, ns) => slowWriter(store, ns, options)]
    )
  }
  if (options.multipartListing !== false) {
    all.push(["multipart upload: abort, unknown uploads and bad part lists", (store, ns) => multipartErrors(store, ns, options)])
  }
  if (options.conditionalWrites !== false) {
    all.push(["conditional writes: ifNoneMatch and ifMatch, racing creators", conditional])
  }
  if (options.byteStreams === true) {
    all.push(["get bodies read in BYOB mode into the reader's own buffers, whole, ranged and cancelled", byobReads])
  }
  return all
}

const put = (store: BlobStoreService, key: string, bytes: Uint8Array, extra?: Parameters<BlobStoreService["put"]>[2]) =>
  store.put(key, streamOf(split(bytes, 64 * 1024)), extra)

const getBytes = (store: BlobStoreService, key: string) =>
  Effect.gen(function*() {
    const result = yield* store.get(key)
    return { ...result, bytes: yield* readAll(result.body) }
  })

const putGet: Case = (store, ns) =>
  Effect.gen(function*() {
    const key = `${ns}doc.txt`
    const bytes = pattern(1, 300_000)
    const written = yield* put(store, key, bytes, { contentType: "text/plain; charset=utf-8", metadata: { owner: "alice", "x-trace_id": "42" } })
    equal(written.key, key, "put key")
    equal(written.size, bytes.byteLength, "put size")
    isTrue(typeof written.etag === "string" && written.etag.length > 0 && !written.etag.startsWith("\""), "put returns an unquoted ETag")
    const got = yield* getBytes(store, key)
    sameBytes(got.bytes, bytes, "get body")
    equal(got.offset, 0, "get offset")
    equal(got.length, bytes.byteLength, "get length")
    equal(got.info.etag, written.etag, "get ETag")
    equal(got.info.size, bytes.byteLength, "get size")
    equal(got.info.contentType, "text/plain; charset=utf-8", "get content type")
    deepEqual(got.info.metadata, { owner: "alice", "x-trace_id": "42" }, "get metadata")
    const head = yield* store.head(key)
    deepEqual({ ...head, lastModified: head.lastModified.getTime() }, { ...got.info, lastModified: got.info.lastModified.getTime() }, "head equals get's info")
    const now = yield* Clock.currentTimeMillis
    isTrue(Math.abs(head.lastModified.getTime() - now) < 10 * 60_000, "lastModified is about now")
  })

const defaults: Case = (store, ns) =>
  Effect.gen(function*() {
    yield* put(store, `${ns}plain`, text("x"))
    const head = yield* store.head(`${ns}plain`)
    equal(head.contentType, "application/octet-stream", "default content type")
    deepEqual(head.metadata, {}, "default metadata")
  })

const overwrite: Case = (store, ns) =>
  Effect.gen(function*() {
    const key = `${ns}k`
    const first = yield* put(store, key, pattern(1, 1000), { contentType: "a/b", metadata: { v: "1", only: "first" } })
    const second = yield* put(store, key, pattern(2, 500), { contentType: "c/d", metadata: { v: "2" } })
    isTrue(first.etag !== second.etag, "different content gets a different ETag")
    const got = yield* getBytes(store, key)
    sameBytes(got.bytes, pattern(2, 500), "body after overwrite")
    equal(got.info.etag, second.etag, "ETag after overwrite")
    equal(got.info.contentType, "c/d", "content type after overwrite")
    deepEqual(got.info.metadata, { v: "2" }, "metadata after overwrite (not merged)")
  })

const iterables: Case = (store, ns) =>
  Effect.gen(function*() {
    const bytes = pattern(3, 100_003)
    async function* odd() {
      let offset = 0
      let size = 1
      while (offset < bytes.byteLength) {
        yield bytes.slice(offset, offset + size)
        offset += size
        size = (size * 7 + 3) % 9001 + 1
        await tick()
      }
    }
    yield* store.put(`${ns}a`, odd())
    sameBytes((yield* getBytes(store, `${ns}a`)).bytes, bytes, "async iterable body")
    const known = yield* store.put(`${ns}b`, odd(), { contentLength: bytes.byteLength })
    equal(known.size, bytes.byteLength, "size with contentLength")
    sameBytes((yield* getBytes(store, `${ns}b`)).bytes, bytes, "async iterable body with contentLength")
    async function* empties() {
      yield new Uint8Array(0)
      yield text("ab")
      yield new Uint8Array(0)
      yield text("c")
    }
    yield* store.put(`${ns}c`, empties())
    sameBytes((yield* getBytes(store, `${ns}c`)).bytes, text("abc"), "empty chunks are skipped")
  })

const emptyObject: Case = (store, ns) =>
  Effect.gen(function*() {
    const key = `${ns}empty`
    const written = yield* store.put(key, streamOf([]), { contentLength: 0 })
    equal(written.size, 0, "size of an empty object")
    const got = yield* getBytes(store, key)
    equal(got.bytes.byteLength, 0, "empty body")
    equal(got.info.size, 0, "empty info size")
    equal((yield* store.head(key)).size, 0, "empty head size")
    const listed = yield* store.list({ prefix: ns })
    deepEqual(listed.items.map((item) => [item.key, item.size]), [[key, 0]], "empty object is listed")
    yield* store.put(`${ns}empty2`, streamOf([]))
    equal((yield* store.head(`${ns}empty2`)).size, 0, "empty object without a length")
  })

const missing: Case = (store, ns) =>
  Effect.gen(function*() {
    const key = `${ns}nothing`
    const notFound = yield* failsWith(store.get(key), "BlobNotFound", "get of a missing key")
    equal((notFound as { key: string }).key, key, "BlobNotFound names the key")
    yield* failsWith(store.get(key, { range: { offset: 0 } }), "BlobNotFound", "ranged get of a missing key")
    yield* failsWith(store.head(key), "BlobNotFound", "head of a missing key")
    yield* store.delete(key)
    yield* put(store, key, text("here"))
    yield* store.delete(key)
    yield* store.delete(key)
    yield* failsWith(store.head(key), "BlobNotFound", "head after delete")
    yield* failsWith(store.copy(key, `${ns}other`), "BlobNotFound", "copy of a missing key")
  })

const ranges: Case = (store, ns) =>
  Effect.gen(function*() {
    const key = `${ns}ten`
    const bytes = pattern(4, 10)
    yield* put(store, key, bytes)
    const read = (range: { offset: number; length?: number } | { suffix: number }) =>
      Effect.gen(function*() {
        const result = yield* store.get(key, { range })
        const body = yield* readAll(result.body)
        equal(result.length, body.byteLength, `length of ${JSON.stringify(range)}`)
        equal(result.info.size, 10, `info.size with ${JSON.stringify(range)}`)
        return { offset: result.offset, body }
      })
    const expect = (range: { offset: number; length?: number } | { suffix: number }, from: number, to: number) =>
      Effect.gen(function*() {
        const { offset, body } = yield* read(range)
        equal(offset, from, `offset of ${JSON.stringify(range)}`)
        sameBytes(body, bytes.subarray(from, to), `bytes of ${JSON.stringify(range)}`)
      })
    yield* expect({ offset: 0 }, 0, 10)
    yield* expect({ offset: 2, length: 3 }, 2, 5)
    yield* expect({ offset: 9 }, 9, 10)
    yield* expect({ offset: 9, length: 1 }, 9, 10)
    yield* expect({ offset: 9, length: 1000 }, 9, 10)
    yield* expect({ offset: 0, length: 10 }, 0, 10)
    yield* expect({ offset: 0, length: 11 }, 0, 10)
    yield* expect({ suffix: 3 }, 7, 10)
    yield* expect({ suffix: 10 }, 0, 10)
    yield* expect({ suffix: 25 }, 0, 10)
    const past = yield* failsWith(store.get(key, { range: { offset: 10 } }), "InvalidRange", "offset at the end")
    equal((past as { size?: number }).size, 10, "InvalidRange carries the size")
    yield* failsWith(store.get(key, { range: { offset: 11, length: 2 } }), "InvalidRange", "offset past the end")
    for (const bad of [{ offset: -1 }, { offset: 0, length: 0 }, { suffix: 0 }, { offset: 1.5 }, { suffix: -2 }]) {
      yield* failsWith(store.get(key, { range: bad }), "InvalidRange", `malformed range ${JSON.stringify(bad)}`)
    }
    yield* put(store, `${ns}empty`, new Uint8Array(0))
    yield* failsWith(store.get(`${ns}empty`, { range: { offset: 0 } }), "InvalidRange", "any range of an empty object")
    yield* failsWith(store.get(`${ns}empty`, { range: { suffix: 1 } }), "InvalidRange", "a suffix of an empty object")
    const whole = yield* store.get(`${ns}empty`)
    equal((yield* readAll(whole.body)).byteLength, 0, "an empty object reads whole without a range")
  })

/** Keys that must never be accepted: they could escape a root, or mean different things on different backends. */
export const hostileKeys: ReadonlyArray<string> = [
  "",
  "/",
  "/etc/passwd",
  "//x",
  "..",
  ".",
  "../x",
  "./x",
  "a/../../x",
  "a/..",
  "a/.",
  "a/./b",
  "a/../b",
  "../../../../../../../../tmp/aquifer-escape",
  "a\\b",
  "..\\..\\x",
  "C:\\Windows",
  "\\\\server\\share",
  "a\u0000b",
  "\u0000",
  "a/\u0000/..",
  "line\nbreak",
  "tab\there",
  "bell\u0007",
  "del\u007f",
  "lone\ud800surrogate",
  "x".repeat(maxKeyBytes + 1),
  "é".repeat(513),
  `a/${"s".repeat(maxSegmentBytes + 1)}/b`
]

const hostile: Case = (store, ns) =>
  Effect.gen(function*() {
    for (const bad of hostileKeys) {
      const what = JSON.stringify(bad.slice(0, 40))
      let cancelled = false
      const body = new ReadableStream<Uint8Array>({
        pull: (controller) => controller.enqueue(text("evil")),
        cancel: () => {
          cancelled = true
        }
      })
      yield* failsWith(store.put(bad, body), "InvalidKey", `put ${what}`)
      isTrue(cancelled, `the body of a refused put is cancelled (${what})`)
      yield* failsWith(store.get(bad), "InvalidKey", `get ${what}`)
      yield* failsWith(store.head(bad), "InvalidKey", `head ${what}`)
      yield* failsWith(store.delete(bad), "InvalidKey", `delete ${what}`)
      yield* failsWith(store.copy(bad, `${ns}copy`), "InvalidKey", `copy from ${what}`)
      yield* failsWith(store.copy(`${ns}copy`, bad), "InvalidKey", `copy to ${what}`)
      yield* failsWith(store.createMultipartUpload(bad), "InvalidKey", `createMultipartUpload ${what}`)
    }
    for (const bad of ["../", "/abs", "a/../", "..\\", "a\u0000"]) {
      yield* failsWith(store.list({ prefix: bad }), "InvalidKey", `list prefix ${JSON.stringify(bad)}`)
    }
    // A relative key must not be normalised into a sibling.
    yield* failsWith(store.put(`${ns}a/../b`, streamOf([text("x")])), "InvalidKey", "dot-dot inside the namespace")
    yield* failsWith(store.head(`${ns}b`), "BlobNotFound", "nothing was written at the normalised key")
    const listed = yield* store.list({ prefix: ns })
    deepEqual(listed.items.map((item) => item.key), [], "nothing was written under the namespace")
  })

/** Valid keys that break naive implementations (escapes, unicode, lengths at the limits). */
const unusualSuffixes = (ns: string, longest: number): Array<string> => {
  const base = [
    "plain",
    "with space",
    "folder/",
    "a//b",
    "..x",
    ".hidden",
    "x.",
    "x..",
    "%2e%2e/x",
    "%00",
    "a+b=c&d?e#f;g,h@i",
    "~tilde/'quote'/\"dq\"",
    "日本語/ファイル.txt",
    "ключ",
    "é-nfc",
    "e\u0301-nfd",
    "\u05e9\u05dc\u05d5\u05dd-rtl",
    "order-😀",
    "order-\uff21",
    "z-\ufffd",
    "s".repeat(longest)
  ]
  // A key of exactly the maximum length, in segments of at most the maximum length.
  const segments: Array<string> = []
  let left = maxKeyBytes - new TextEncoder().encode(ns).byteLength
  while (left > 0) {
    if (left <= longest) {
      segments.push("m".repeat(left))
      left = 0
    } else {
      const size = Math.min(longest, left - 2)
      segments.push("m".repeat(size))
      left -= size + 1
    }
  }
  base.push(segments.join("/"))
  return base
}

const unusualKeys = (store: BlobStoreService, ns: string, options: KitOptions) =>
  Effect.gen(function*() {
    const keys = unusualSuffixes(ns, options.allKeyShapes === false ? 200 : maxSegmentBytes)
      .filter((suffix) => options.allKeyShapes !== false || !suffix.includes("//"))
      .map((suffix) => `${ns}${suffix}`)
    equal(new TextEncoder().encode(keys.at(-1)!).byteLength, maxKeyBytes, "the longest key is exactly at the limit")
    yield* Effect.forEach(keys, (key, index) => put(store, key, text(`body ${index}`), { metadata: { index: String(index) } }), { concurrency: 4 })
    for (const [index, key] of keys.entries()) {
      const got = yield* getBytes(store, key)
      sameBytes(got.bytes, text(`body ${index}`), `body of ${JSON.stringify(key.slice(ns.length, ns.length + 40))}`)
      equal(got.info.key, key, "info.key")
    }
    const listed: Array<string> = []
    let cursor: string | undefined
    do {
      const page = yield* store.list({ prefix: ns, cursor })
      listed.push(...page.items.map((item) => item.key))
      cursor = page.next
    } while (cursor !== undefined)
    deepEqual(options.faithfulListing === false ? listed.sort(compareKeys) : listed, [...keys].sort(compareKeys), "keys list in code point order")
  })

const listBasics = (store: BlobStoreService, ns: string, options: KitOptions) =>
  Effect.gen(function*() {
    const keys = ["a", "a/b", "a/c/d", "a/c/e", "a-b", "a0", "b", "b/x/y", "c/"]
    yield* Effect.forEach(keys, (key) => put(store, `${ns}${key}`, text(key)), { concurrency: 4 })
    const ordered = (names: Array<string>) => (options.faithfulListing === false ? names.sort(compareKeys) : names)
    const names = (page: { items: ReadonlyArray<{ key: string }>; prefixes: ReadonlyArray<string> }) => ({
      items: ordered(page.items.map((item) => item.key.slice(ns.length))),
      prefixes: ordered(page.prefixes.map((prefix) => prefix.slice(ns.length)))
    })
    deepEqual(names(yield* store.list({ prefix: ns })), { items: ["a", "a-b", "a/b", "a/c/d", "a/c/e", "a0", "b", "b/x/y", "c/"], prefixes: [] }, "no delimiter")
    deepEqual(names(yield* store.list({ prefix: `${ns}a` })), { items: ["a", "a-b", "a/b", "a/c/d", "a/c/e", "a0"], prefixes: [] }, "partial prefix a")
    deepEqual(names(yield* store.list({ prefix: `${ns}a/c/` })), { items: ["a/c/d", "a/c/e"], prefixes: [] }, "deep prefix")
    deepEqual(names(yield* store.list({ prefix: `${ns}zz` })), { items: [], prefixes: [] }, "a prefix matching nothing")
    if (options.faithfulListing !== false) {
      deepEqual(names(yield* store.list({ prefix: ns, delimiter: "/" })), { items: ["a", "a-b", "a0", "b"], prefixes: ["a/", "b/", "c/"] }, "delimiter /")
      deepEqual(names(yield* store.list({ prefix: `${ns}a/`, delimiter: "/" })), { items: ["a/b"], prefixes: ["a/c/"] }, "prefix a/ with delimiter")
      deepEqual(names(yield* store.list({ prefix: `${ns}c/`, delimiter: "/" })), { items: ["c/"], prefixes: [] }, "a folder marker under its own prefix")
      deepEqual(names(yield* store.list({ prefix: ns, delimiter: "-" })), { items: ["a", "a/b", "a/c/d", "a/c/e", "a0", "b", "b/x/y", "c/"], prefixes: ["a-"] }, "delimiter -")
      deepEqual(names(yield* store.list({ prefix: ns, startAfter: `${ns}a/b` })), { items: ["a/c/d", "a/c/e", "a0", "b", "b/x/y", "c/"], prefixes: [] }, "startAfter")
      deepEqual(names(yield* store.list({ prefix: ns, startAfter: `${ns}a0`, delimiter: "/" })), { items: ["b"], prefixes: ["b/", "c/"] }, "startAfter with delimiter")
      deepEqual(names(yield* store.list({ prefix: ns, startAfter: `${ns}zzz` })), { items: [], prefixes: [] }, "startAfter past everything")
    }
    if (options.faithfulListing !== false) {
      const page = yield* store.list({ prefix: ns, limit: 3 })
      equal(page.items.length, 3, "limit")
      isTrue(page.next !== undefined, "a truncated page has a cursor")
      const last = yield* store.list({ prefix: ns, limit: 9 })
      equal(last.next, undefined, "a page holding everything has no cursor")
    }
    const summary = (yield* store.list({ prefix: `${ns}a/b` })).items[0]!
    const head = yield* store.head(`${ns}a/b`)
    deepEqual([summary.size, summary.etag], [head.size, head.etag], "listing agrees with head")
    yield* failsWith(store.list({ prefix: ns, limit: 0 }), "InvalidArgument", "limit 0")
    yield* failsWith(store.list({ prefix: ns, limit: 1001 }), "InvalidArgument", "limit over 1000")
    yield* failsWith(store.list({ prefix: ns, delimiter: "" }), "InvalidArgument", "empty delimiter")
    yield* failsWith(store.list({ prefix: ns, cursor: "not a cursor!" }), "InvalidArgument", "a forged cursor")
    yield* failsWith(store.list({ prefix: ns, cursor: "eyJ4IjoxfQ" }), "InvalidArgument", "a well-formed cursor of the wrong shape")
  })

const pagination = (store: BlobStoreService, ns: string, options: KitOptions) =>
  Effect.gen(function*() {
    const count = options.paginationKeys ?? 2000
    const groups = 25
    const keys = Array.from({ length: count }, (_, i) => `${ns}d${String(i % groups).padStart(2, "0")}/${String(i).padStart(5, "0")}`)
    const flat = Array.from({ length: 10 }, (_, i) => `${ns}f${i}`)
    yield* Effect.forEach([...keys, ...flat], (key) => store.put(key, streamOf([]), { contentLength: 0 }), {
      concurrency: options.seedConcurrency ?? 8,
      discard: true
    })
    const walk = (request: { prefix: string; delimiter?: string; limit?: number; startAfter?: string }) =>
      Effect.gen(function*() {
        const entries: Array<string> = []
        const sizes: Array<number> = []
        let cursor: string | undefined
        let pages = 0
        do {
          const page = yield* store.list({ ...request, cursor })
          pages++
          const limit = request.limit ?? 1000
          isTrue(page.items.length + page.prefixes.length <= limit, "a page holds at most limit entries")
          if (page.next !== undefined) equal(page.items.length + page.prefixes.length, limit, "a page with a cursor is full")
          const merged = [...page.items.map((item) => item.key), ...page.prefixes].sort(compareKeys)
          entries.push(...merged)
          sizes.push(merged.length)
          cursor = page.next
          isTrue(pages < 10_000, "pagination ends")
        } while (cursor !== undefined)
        return { entries, pages, sizes }
      })
    const sorted = [...keys, ...flat].sort(compareKeys)
    const everything = yield* walk({ prefix: ns })
    deepEqual(everything.entries.length, sorted.length, "every key listed once")
    deepEqual(everything.entries, sorted, "all keys, in order, across pages of 1000")
    equal(everything.pages, Math.ceil(sorted.length / 1000), "pages of 1000")
    const grouped = yield* walk({ prefix: ns, delimiter: "/", limit: 7 })
    const expectedGroups = [...Array.from({ length: groups }, (_, g) => `${ns}d${String(g).padStart(2, "0")}/`), ...flat]
    deepEqual(grouped.entries, expectedGroups, "common prefixes and keys together, pages of 7")
    equal(grouped.pages, Math.ceil(expectedGroups.length / 7), "pages of 7 count prefixes and keys together")
    const group3 = keys.filter((key) => key.startsWith(`${ns}d03/`)).sort(compareKeys)
    const inGroup = yield* walk({ prefix: `${ns}d03/`, limit: 13 })
    deepEqual(inGroup.entries, group3, "one prefix, pages of 13")
    const middle = group3[Math.floor(group3.length / 2)]!
    const after = yield* walk({ prefix: `${ns}d03/`, startAfter: middle, limit: 11 })
    deepEqual(after.entries, group3.filter((key) => compareKeys(key, middle) > 0), "startAfter, then cursors")
  })

const readAfterWrite: Case = (store, ns) =>
  Effect.gen(function*() {
    for (let round = 0; round < 5; round++) {
      const key = `${ns}k${round % 2}`
      const bytes = pattern(round, 1000 + round)
      const written = yield* put(store, key, bytes)
      equal((yield* store.head(key)).etag, written.etag, "head right after put")
      sameBytes((yield* getBytes(store, key)).bytes, bytes, "get right after put")
      const listed = (yield* store.list({ prefix: key })).items.find((item) => item.key === key)
      equal(listed?.size, bytes.byteLength, "list right after put")
      if (round % 2 === 1) {
        yield* store.delete(key)
        yield* failsWith(store.head(key), "BlobNotFound", "head right after delete")
        equal((yield* store.list({ prefix: key })).items.length, 0, "list right after delete")
      }
    }
  })

const concurrentWriters: Case = (store, ns) =>
  Effect.gen(function*() {
    const key = `${ns}contended`
    const writers = 6
    const size = 512 * 1024
    const write = (writer: number) =>
      store.put(
        key,
        (async function*() {
          for (let offset = 0; offset < size; offset += 32 * 1024) {
            yield new Uint8Array(32 * 1024).fill(writer + 1)
            await tick()
          }
        })(),
        { metadata: { writer: String(writer) }, contentType: `test/writer-${writer}` }
      )
    const results = yield* Effect.forEach(Array.from({ length: writers }, (_, i) => i), write, { concurrency: "unbounded" })
    const got = yield* getBytes(store, key)
    const writer = Number(got.info.metadata.writer)
    isTrue(Number.isInteger(writer) && writer >= 0 && writer < writers, "the winner's metadata is there")
    equal(got.info.contentType, `test/writer-${writer}`, "content type of the same writer")
    equal(got.bytes.byteLength, size, "a whole body")
    isTrue(got.bytes.every((byte) => byte === writer + 1), "every byte from the writer named in the metadata")
    equal(got.info.etag, results[writer]!.etag, "the ETag of that writer's put")
  })

const slowWriter = (store: BlobStoreService, ns: string, options: KitOptions) =>
  Effect.gen(function*() {
    const key = `${ns}object`
    const before = pattern(7, 2 * MiB)
    const old = yield* put(store, key, before, { metadata: { version: "1" } })
    // A reader that opened the old version before the overwrite finishes keeps reading it.
    const early = yield* store.get(key)
    const earlyReader = early.body.getReader()
    const firstChunk = yield* Effect.promise(() => earlyReader.read())

    const halfway = gate()
    const release = gate()
    const after = pattern(8, 2 * MiB)
    let step = 0
    const writer = yield* Effect.forkChild(store.put(
      key,
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (step === 0) {
            controller.enqueue(after.slice(0, MiB))
            halfway.open()
          } else if (step === 1) {
            await release.opened
            controller.enqueue(after.slice(MiB))
          } else controller.close()
          step++
        }
      }, { highWaterMark: 0 }),
      { metadata: { version: "2" } }
    ))
    yield* Effect.promise(() => halfway.opened)
    for (let i = 0; i < 3; i++) {
      const got = yield* getBytes(store, key)
      equal(got.info.etag, old.etag, "ETag while the writer is paused")
      deepEqual(got.info.metadata, { version: "1" }, "metadata while the writer is paused")
      sameBytes(got.bytes, before, "body while the writer is paused")
      equal((yield* store.head(key)).size, before.byteLength, "head while the writer is paused")
      yield* Effect.promise(tick)
    }
    release.open()
    const written = yield* Fiber.join(writer)
    const now = yield* getBytes(store, key)
    equal(now.info.etag, written.etag, "ETag once the writer finished")
    sameBytes(now.bytes, after, "body once the writer finished")

    const rest: Array<Uint8Array> = [firstChunk.value ?? new Uint8Array(0)]
    for (;;) {
      const next = yield* Effect.promise(() => earlyReader.read())
      if (next.done) break
      rest.push(next.value)
    }
    const total = new Uint8Array(rest.reduce((sum, chunk) => sum + chunk.byteLength, 0))
    let offset = 0
    for (const chunk of rest) {
      total.set(chunk, offset)
      offset += chunk.byteLength
    }
    equal(early.info.etag, old.etag, "an early reader's ETag")
    if (options.snapshotReads !== false) sameBytes(total, before, "an early reader streams the old version to its end")
  })

const failedBodies = (store: BlobStoreService, ns: string, options: KitOptions) =>
  Effect.gen(function*() {
    const key = `${ns}stable`
    const original = pattern(9, 70_000)
    const old = yield* put(store, key, original)
    const breaking = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(pattern(10, 40_000))
          controller.enqueue(pattern(11, 40_000))
        },
        pull(controller) {
          controller.error(new Error("client went away"))
        }
      })
    const error = yield* failsWith(store.put(key, breaking()), "InvalidArgument", "a body that fails")
    equal((error as { field: string }).field, "body", "the failing field")
    yield* failsWith(store.put(key, streamOf([pattern(12, 100)]), { contentLength: 101 }), "InvalidArgument", "a body shorter than its length")
    yield* failsWith(store.put(key, streamOf([pattern(12, 100)]), { contentLength: 99 }), "InvalidArgument", "a body longer than its length")
    yield* failsWith(store.put(key, (async function*() {
      yield "not bytes" as unknown as Uint8Array
    })()), "InvalidArgument", "a body of strings")
    yield* failsWith(store.put(key, "text" as unknown as ReadableStream<Uint8Array>), "InvalidArgument", "a body that is not a stream")
    if (options.atomicWrites !== false) {
      const still = yield* getBytes(store, key)
      equal(still.info.etag, old.etag, "the ETag is unchanged after failed writes")
      sameBytes(still.bytes, original, "the body is unchanged after failed writes")
    }
    yield* failsWith(store.put(`${ns}new`, breaking()), "InvalidArgument", "a failing body for a new key")
    yield* failsWith(store.put(`${ns}new`, streamOf([pattern(13, 10)]), { contentLength: 11 }), "InvalidArgument", "short body for a new key")
    if (options.atomicWrites !== false) yield* failsWith(store.head(`${ns}new`), "BlobNotFound", "a failed write creates nothing")
    yield* failsWith(store.put(`${ns}m`, streamOf([]), { metadata: { "Bad Name": "x" } }), "InvalidArgument", "a bad metadata name")
    yield* failsWith(store.put(`${ns}m`, streamOf([]), { metadata: { ok: "caf\u00e9" } }), "InvalidArgument", "a non-ASCII metadata value")
    yield* failsWith(store.put(`${ns}m`, streamOf([]), { contentType: "" }), "InvalidArgument", "an empty content type")
    yield* failsWith(store.head(`${ns}m`), "BlobNotFound", "refused attributes write nothing")
  })

const interruptedPut: Case = (store, ns) =>
  Effect.gen(function*() {
    const key = `${ns}never`
    const started = gate()
    let pulled = 0
    const endless = new ReadableStream<Uint8Array>({
      async pull(controller) {
        pulled++
        if (pulled === 4) started.open()
        await tick()
        controller.enqueue(pattern(pulled, 256 * 1024))
      }
    }, { highWaterMark: 0 })
    const fiber = yield* Effect.forkChild(store.put(key, endless))
    yield* Effect.promise(() => started.opened)
    yield* Fiber.interrupt(fiber)
    yield* failsWith(store.head(key), "BlobNotFound", "an interrupted put leaves nothing")
    const listed = yield* store.list({ prefix: ns })
    equal(listed.items.length, 0, "an interrupted put lists nothing")
  })

const conditional: Case = (store, ns) =>
  Effect.gen(function*() {
    const key = `${ns}guarded`
    const first = yield* put(store, key, text("one"), { ifNoneMatch: "*" })
    yield* failsWith(put(store, key, text("two"), { ifNoneMatch: "*" }), "BlobAlreadyExists", "ifNoneMatch on an existing key")
    sameBytes((yield* getBytes(store, key)).bytes, text("one"), "unchanged after a refused create")
    const second = yield* put(store, key, text("three"), { ifMatch: first.etag })
    yield* failsWith(put(store, key, text("four"), { ifMatch: first.etag }), "PreconditionFailed", "ifMatch with a stale ETag")
    const third = yield* put(store, key, text("five"), { ifMatch: `"${second.etag}"` })
    sameBytes((yield* getBytes(store, key)).bytes, text("five"), "a quoted ETag is accepted")
    equal((yield* store.head(key)).etag, third.etag, "ETag after conditional writes")
    yield* failsWith(put(store, `${ns}absent`, text("x"), { ifMatch: first.etag }), "BlobNotFound", "ifMatch on a missing key")
    yield* failsWith(put(store, key, text("x"), { ifMatch: "x", ifNoneMatch: "*" }), "InvalidArgument", "both conditions at once")

    const racing = `${ns}race`
    const attempts = yield* Effect.forEach(
      Array.from({ length: 5 }, (_, i) => i),
      (i) => Effect.result(store.put(racing, (async function*() {
        for (let c = 0; c < 4; c++) {
          yield new Uint8Array(16 * 1024).fill(i + 1)
          await tick()
        }
      })(), { ifNoneMatch: "*", metadata: { writer: String(i) } })),
      { concurrency: "unbounded" }
    )
    const winners = attempts.flatMap((attempt, i) => attempt._tag === "Success" ? [i] : [])
    equal(winners.length, 1, "exactly one racing creator wins")
    for (const attempt of attempts) {
      if (attempt._tag === "Failure") equal((attempt.failure as { _tag: string })._tag, "BlobAlreadyExists", "the losers fail with BlobAlreadyExists")
    }
    const stored = yield* getBytes(store, racing)
    equal(stored.info.metadata.writer, String(winners[0]), "the winner's metadata")
    isTrue(stored.bytes.every((byte) => byte === winners[0]! + 1), "the winner's body")
  })

const copy: Case = (store, ns) =>
  Effect.gen(function*() {
    const source = `${ns}source`
    const bytes = pattern(14, 200_000)
    yield* put(store, source, bytes, { contentType: "image/png", metadata: { a: "1" } })
    const copied = yield* store.copy(source, `${ns}dest`)
    equal(copied.size, bytes.byteLength, "copy size")
    const dest = yield* getBytes(store, `${ns}dest`)
    sameBytes(dest.bytes, bytes, "copied body")
    equal(dest.info.contentType, "image/png", "copied content type")
    deepEqual(dest.info.metadata, { a: "1" }, "copied metadata")
    equal(dest.info.etag, copied.etag, "copy returns the new ETag")
    const replaced = yield* store.copy(source, `${ns}dest`, { metadata: { b: "2" } })
    const head = yield* store.head(`${ns}dest`)
    deepEqual(head.metadata, { b: "2" }, "replaced metadata")
    equal(head.contentType, "image/png", "content type kept when only metadata is replaced")
    equal(head.etag, replaced.etag, "ETag of the replacing copy")
    yield* store.copy(source, source, { contentType: "image/webp" })
    const self = yield* getBytes(store, source)
    equal(self.info.contentType, "image/webp", "a copy onto itself changes attributes")
    deepEqual(self.info.metadata, { a: "1" }, "and keeps what was not replaced")
    sameBytes(self.bytes, bytes, "and keeps the body")
    yield* put(store, `${ns}empty`, new Uint8Array(0))
    yield* store.copy(`${ns}empty`, `${ns}empty-copy`)
    equal((yield* store.head(`${ns}empty-copy`)).size, 0, "copy of an empty object")
    yield* failsWith(store.copy(`${ns}missing`, `${ns}dest`), "BlobNotFound", "copy of a missing source")
    yield* failsWith(store.copy(source, `${ns}x`, { metadata: { "NO": "x" } }), "InvalidArgument", "copy with bad metadata")
    sameBytes((yield* getBytes(store, `${ns}dest`)).bytes, bytes, "a failed copy leaves the destination alone")
  })

const multipart = (store: BlobStoreService, ns: string, options: KitOptions) =>
  Effect.gen(function*() {
    const key = `${ns}assembled.bin`
    const existing = yield* put(store, key, text("old"))
    const uploadId = yield* store.createMultipartUpload(key, { contentType: "application/x-test", metadata: { kind: "multi" } })
    isTrue(typeof uploadId === "string" && uploadId.length > 0, "an upload id")
    const sizes = [minPartSize, minPartSize + 3, 1234]
    const data = sizes.map((size, i) => pattern(20 + i, size))
    const uploadOne = (partNumber: number, bytes: Uint8Array) =>
      store.uploadPart(key, uploadId, partNumber, streamOf(split(bytes, 256 * 1024)), { contentLength: bytes.byteLength })
    const parts = yield* Effect.forEach([0, 1, 2], (i) => uploadOne(i + 1, data[i]!), { concurrency: 2 })
    deepEqual(parts.map((part) => [part.partNumber, part.size]), sizes.map((size, i) => [i + 1, size]), "uploadPart returns number and size")
    const unlisted = yield* uploadOne(4, pattern(99, 10))
    const head = yield* store.head(key)
    equal(head.etag, existing.etag, "the current object is untouched until completion")

    const full = options.multipartListing !== false
    const listedParts: Array<{ partNumber: number; etag: string; size: number }> = []
    let cursor: string | undefined
    if (full) {
      do {
        const page = yield* store.listParts(key, uploadId, { cursor, limit: 2 })
        isTrue(page.parts.length <= 2, "listParts limit")
        listedParts.push(...page.parts)
        cursor = page.next
      } while (cursor !== undefined)
      deepEqual(
        listedParts.map((part) => [part.partNumber, part.etag, part.size]),
        [...parts, unlisted].map((part) => [part.partNumber, part.etag, part.size]),
        "listParts pages through every part in order"
      )
    }

    // Re-uploading a part replaces it; the old ETag no longer completes.
    const replaced = yield* uploadOne(3, pattern(30, 2000))
    isTrue(replaced.etag !== parts[2]!.etag, "a replaced part has a new ETag")
    if (full) {
      yield* failsWith(
        store.completeMultipartUpload(key, uploadId, parts.map(({ etag, partNumber }) => ({ etag, partNumber }))),
        "PreconditionFailed",
        "completing with a replaced part's old ETag"
      )
    }
    const chosen = [parts[0]!, parts[1]!, replaced].map(({ etag, partNumber }) => ({ etag, partNumber }))
    const completed = yield* store.completeMultipartUpload(key, uploadId, chosen)
    const expected = new Uint8Array(sizes[0]! + sizes[1]! + 2000)
    expected.set(data[0]!, 0)
    expected.set(data[1]!, sizes[0]!)
    expected.set(pattern(30, 2000), sizes[0]! + sizes[1]!)
    equal(completed.size, expected.byteLength, "completed size")
    const got = yield* getBytes(store, key)
    sameBytes(got.bytes, expected, "the completed object is the listed parts in order (part 4 discarded)")
    equal(got.info.contentType, "application/x-test", "content type from createMultipartUpload")
    deepEqual(got.info.metadata, { kind: "multi" }, "metadata from createMultipartUpload")
    equal(got.info.etag, completed.etag, "ETag of the completed object")
    const ranged = yield* store.get(key, { range: { offset: minPartSize - 2, length: 4 } })
    sameBytes(yield* readAll(ranged.body), expected.subarray(minPartSize - 2, minPartSize + 2), "a range across a part boundary")

    if (full) {
      const again = yield* store.completeMultipartUpload(key, uploadId, chosen)
      deepEqual(again, completed, "completing again returns the same result")
      yield* failsWith(uploadOne(5, pattern(1, 10)), "BlobNotFound", "uploadPart after completion")
      yield* put(store, key, text("newer"))
      yield* failsWith(store.completeMultipartUpload(key, uploadId, chosen), "BlobNotFound", "completing again after the object was replaced")
    }
  })

const multipartErrors = (store: BlobStoreService, ns: string, options: KitOptions) =>
  Effect.gen(function*() {
    const key = `${ns}m`
    const uploadId = yield* store.createMultipartUpload(key)
    const small = yield* store.uploadPart(key, uploadId, 1, streamOf([pattern(1, 100)]), { contentLength: 100 })
    const big = yield* store.uploadPart(key, uploadId, 2, streamOf(split(pattern(2, minPartSize), MiB)), { contentLength: minPartSize })
    yield* failsWith(store.uploadPart(key, uploadId, 0, streamOf([]), { contentLength: 0 }), "InvalidArgument", "part number 0")
    yield* failsWith(store.uploadPart(key, uploadId, 10_001, streamOf([]), { contentLength: 0 }), "InvalidArgument", "part number 10001")
    yield* failsWith(store.uploadPart(key, uploadId, 3, streamOf([pattern(1, 10)]), { contentLength: 11 }), "InvalidArgument", "a part shorter than its length")
    yield* failsWith(
      store.completeMultipartUpload(key, uploadId, [{ partNumber: 2, etag: big.etag }, { partNumber: 1, etag: small.etag }]),
      "PreconditionFailed",
      "parts out of order"
    )
    yield* failsWith(store.completeMultipartUpload(key, uploadId, []), "InvalidArgument", "no parts")
    yield* failsWith(
      store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: small.etag }, { partNumber: 7, etag: big.etag }]),
      "PreconditionFailed",
      "a part that was never uploaded"
    )
    if (options.enforcesMinPartSize !== false) {
      const tooSmall = yield* failsWith(
        store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: small.etag }, { partNumber: 2, etag: big.etag }]),
        "PreconditionFailed",
        "a small part that is not the last"
      )
      equal((tooSmall as { reason: string }).reason, "part-too-small", "the reason of a small part")
    }
    yield* failsWith(store.head(key), "BlobNotFound", "failed completions create nothing")
    yield* failsWith(store.listParts(`${ns}other`, uploadId), "BlobNotFound", "an upload id under another key")
    yield* store.abortMultipartUpload(key, uploadId)
    yield* failsWith(store.listParts(key, uploadId), "BlobNotFound", "listParts after abort")
    yield* failsWith(store.uploadPart(key, uploadId, 1, streamOf([text("x")]), { contentLength: 1 }), "BlobNotFound", "uploadPart after abort")
    yield* failsWith(store.completeMultipartUpload(key, uploadId, [{ partNumber: 2, etag: big.etag }]), "BlobNotFound", "complete after abort")
    yield* failsWith(store.abortMultipartUpload(key, uploadId), "BlobNotFound", "abort twice")
    yield* failsWith(store.listParts(key, "no-such-upload"), "BlobNotFound", "an unknown upload id")
    yield* failsWith(store.head(key), "BlobNotFound", "an aborted upload creates nothing")

    // A single-part upload of an empty body, with conditions.
    const lone = yield* store.createMultipartUpload(`${ns}lone`)
    const part = yield* store.uploadPart(`${ns}lone`, lone, 1, streamOf([]), { contentLength: 0 })
    const done = yield* store.completeMultipartUpload(`${ns}lone`, lone, [{ partNumber: 1, etag: part.etag }], options.conditionalWrites === false ? {} : { ifNoneMatch: "*" })
    equal(done.size, 0, "an empty single-part upload")
    if (options.conditionalWrites !== false) {
      const late = yield* store.createMultipartUpload(`${ns}lone`)
      const latePart = yield* store.uploadPart(`${ns}lone`, late, 1, streamOf([text("x")]), { contentLength: 1 })
      yield* failsWith(
        store.completeMultipartUpload(`${ns}lone`, late, [{ partNumber: 1, etag: latePart.etag }], { ifNoneMatch: "*" }),
        "BlobAlreadyExists",
        "a conditional completion over an existing object"
      )
      equal((yield* store.head(`${ns}lone`)).size, 0, "the existing object stays")
    }
  })

/** Reads `body` in BYOB mode through one reused buffer of `size` bytes; returns a copy of everything read. */
const readByob = async (body: ReadableStream<Uint8Array>, size: number): Promise<Uint8Array> => {
  const reader = body.getReader({ mode: "byob" })
  const parts: Array<Uint8Array> = []
  let buffer = new ArrayBuffer(size)
  for (;;) {
    const { done, value } = await reader.read(new Uint8Array(buffer))
    if (value === undefined) fail("a BYOB read gave no view back")
    buffer = value!.buffer as ArrayBuffer
    isTrue(buffer.byteLength === size, "the reader's buffer came back whole (same size), to be read into again")
    if (done) break
    parts.push(value!.slice())
  }
  reader.releaseLock()
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.byteLength
  }
  return out
}

const byobReads: Case = (store, ns) =>
  Effect.gen(function*() {
    const key = `${ns}byob.bin`
    const bytes = pattern(31, 3 * MiB + 13)
    yield* put(store, key, bytes)
    const whole = yield* store.get(key)
    sameBytes(yield* Effect.promise(() => readByob(whole.body, 100_003)), bytes, "the whole object read through one odd-sized buffer")
    const ranged = yield* store.get(key, { range: { offset: MiB + 5, length: 2 * MiB } })
    sameBytes(yield* Effect.promise(() => readByob(ranged.body, 64 * 1024)), bytes.subarray(MiB + 5, 3 * MiB + 5), "a range")
    const empty = `${ns}byob-empty.bin`
    yield* put(store, empty, new Uint8Array(0))
    equal((yield* Effect.promise(async () => readByob((await Effect.runPromise(store.get(empty))).body, 4096))).byteLength, 0, "an empty object's length")
    const partly = yield* store.get(key)
    yield* Effect.promise(async () => {
      const reader = partly.body.getReader({ mode: "byob" })
      const first = await reader.read(new Uint8Array(4096))
      sameBytes(first.value!, bytes.subarray(0, first.value!.byteLength), "the first bytes of a body cancelled early")
      await reader.cancel()
    })
    yield* store.delete(key)
    yield* failsWith(store.head(key), "BlobNotFound", "the object after a cancelled read and a delete")
  })

const largeObject = (store: BlobStoreService, ns: string, options: KitOptions) =>
  Effect.gen(function*() {
    const size = options.largeObjectBytes ?? 96 * MiB
    const chunk = MiB
    const seed = 77
    const key = `${ns}large.bin`
    const probe = options.buffersObjects === true ? undefined : options.memoryUsage
    const measure = () => {
      const gc = (globalThis as { gc?: () => void }).gc
      gc?.()
      return probe!()
    }
    const baseline = probe === undefined ? 0 : measure()
    let peak = baseline
    let produced = 0
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (produced >= size) {
          controller.close()
          return
        }
        const index = produced / chunk
        const length = Math.min(chunk, size - produced)
        if (probe !== undefined && index % 8 === 7) peak = Math.max(peak, measure())
        controller.enqueue(block(seed, index, length))
        produced += length
      }
    }, { highWaterMark: 0 })
    const written = yield* store.put(key, source)
    equal(written.size, size, "size of the large object")
    const putPeak = peak - baseline

    peak = probe === undefined ? 0 : measure()
    const readBaseline = peak
    const result = yield* store.get(key)
    equal(result.info.size, size, "info.size of the large object")
    const reader = result.body.getReader()
    let position = 0
    let expected = block(seed, 0, Math.min(chunk, size))
    let sinceSample = 0
    for (;;) {
      const next = yield* Effect.promise(() => reader.read())
      if (next.done) break
      const bytes = next.value
      let offset = 0
      while (offset < bytes.byteLength) {
        const index = Math.floor(position / chunk)
        const within = position - index * chunk
        if (within === 0 && index > 0) expected = block(seed, index, Math.min(chunk, size - index * chunk))
        const take = Math.min(bytes.byteLength - offset, expected.byteLength - within)
        for (let i = 0; i < take; i += 4099) {
          if (bytes[offset + i] !== expected[within + i]) throw new Error(`large object differs near offset ${position + i}`)
        }
        if (bytes[offset + take - 1] !== expected[within + take - 1]) throw new Error(`large object differs near offset ${position + take - 1}`)
        offset += take
        position += take
      }
      sinceSample += bytes.byteLength
      if (probe !== undefined && sinceSample >= 8 * MiB) {
        sinceSample = 0
        peak = Math.max(peak, measure())
      }
    }
    equal(position, size, "bytes read back")
    const getPeak = peak - readBaseline
    if (probe !== undefined) {
      isTrue(putPeak < size / 2, `put held ${Math.round(putPeak / MiB)} MiB of a ${size / MiB} MiB object in memory`)
      isTrue(getPeak < size / 2, `get held ${Math.round(getPeak / MiB)} MiB of a ${size / MiB} MiB object in memory`)
    }
    const tail = yield* store.get(key, { range: { offset: size - 10, length: 100 } })
    const last = block(seed, Math.floor((size - 1) / chunk), size - Math.floor((size - 1) / chunk) * chunk)
    sameBytes(yield* readAll(tail.body), last.subarray(last.byteLength - 10), "the last bytes of the large object")
    yield* store.delete(key)
  })

