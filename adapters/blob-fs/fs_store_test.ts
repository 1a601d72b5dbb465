import { BlobStore } from "@aquifer/blob"
import { hostileKeys, suite } from "@aquifer/blob/testing"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Fiber, Layer } from "effect"
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { setTimeout as sleep } from "node:timers/promises"
import { layer, layerConfig } from "./mod.ts"

const parent = mkdtempSync(join(tmpdir(), "aquifer-blob-fs-"))
afterAll(() => rmSync(parent, { recursive: true, force: true }))

const memoryUsage = () => {
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.external
}

suite("blob-fs", layer({ root: join(parent, "kit") }), { memoryUsage, byteStreams: true })

const files = (dir: string): Array<string> =>
  existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true, recursive: true }).filter((entry) => !entry.isDirectory()).map((entry) => relative(dir, join(entry.parentPath, entry.name))).sort()
    : []

const body = (text: string) => new Blob([text]).stream()

describe("blob-fs", () => {
  it.effect("no hostile key creates a file anywhere, inside the root or out of it", () =>
    Effect.gen(function*() {
      const root = join(parent, "hostile", "root")
      const store = yield* Effect.provide(BlobStore, layer({ root }))
      for (const key of hostileKeys) {
        yield* Effect.exit(store.put(key, body("evil")))
        yield* Effect.exit(store.copy(key, "x"))
        yield* Effect.exit(store.list({ prefix: key }))
      }
      assert.deepStrictEqual(files(join(parent, "hostile")), [])
      assert.isFalse(existsSync(join(tmpdir(), "aquifer-escape")))
    }))

  it.effect("keeps objects as one file each under objects/, and leaves no temp files", () =>
    Effect.gen(function*() {
      const root = join(parent, "layout")
      const store = yield* Effect.provide(BlobStore, layer({ root }))
      yield* store.put("a", body("1"))
      yield* store.put("a/b", body("2"))
      yield* store.put("dir/", body("3"))
      yield* store.put("x//y", body("4"))
      yield* store.copy("a", "c")
      yield* Effect.exit(store.put("broken", new ReadableStream({ pull: (c) => c.error(new Error("no")) })))
      assert.deepStrictEqual(files(join(root, "objects")), ["\\blob", "\\blob", "\\blob", "\\blob", "\\blob"].map((name, i) => [`a/${name}`, `a/b/${name}`, `c/${name}`, `dir/\\empty/${name}`, `x/\\empty/y/${name}`][i]!).sort())
      assert.deepStrictEqual(files(join(root, "tmp")), [])
      yield* store.delete("a/b")
      yield* store.delete("x//y")
      assert.isFalse(existsSync(join(root, "objects", "a", "b")), "deleting prunes the object's directory")
      assert.isFalse(existsSync(join(root, "objects", "x")), "and every parent left empty")
      assert.isTrue(existsSync(join(root, "objects", "a", "\\blob")), "but not a parent holding an object")
    }))

  it.effect("an interrupted put leaves no temp file behind", () =>
    Effect.gen(function*() {
      const root = join(parent, "interrupted")
      const store = yield* Effect.provide(BlobStore, layer({ root }))
      const fiber = yield* Effect.forkChild(store.put("k", new ReadableStream({
        async pull(controller) {
          await sleep(5)
          controller.enqueue(new Uint8Array(64 * 1024))
        }
      }, { highWaterMark: 0 })))
      for (let i = 0; i < 200 && files(join(root, "tmp")).length === 0; i++) yield* Effect.promise(() => sleep(10))
      assert.strictEqual(files(join(root, "tmp")).length, 1, "the write is in progress")
      yield* Fiber.interrupt(fiber)
      for (let i = 0; i < 200 && files(join(root, "tmp")).length > 0; i++) yield* Effect.promise(() => sleep(10))
      assert.deepStrictEqual(files(join(root, "tmp")), [])
      assert.deepStrictEqual(files(join(root, "objects")), [])
    }))

  it.effect("objects outlive the process: a new store over the same root reads them (layerConfig)", () =>
    Effect.gen(function*() {
      const root = join(parent, "persisted")
      const first = yield* Effect.provide(BlobStore, layer({ root }))
      const written = yield* first.put("kept/object.txt", body("still here"), { contentType: "text/plain", metadata: { a: "b" } })
      const configured = layerConfig.pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({ AQUIFER_BLOB_FS_ROOT: root }))))
      const second = yield* Effect.provide(BlobStore, configured)
      const got = yield* second.get("kept/object.txt")
      assert.strictEqual(yield* Effect.promise(() => new Response(got.body).text()), "still here")
      assert.strictEqual(got.info.etag, written.etag)
      assert.deepStrictEqual(got.info.metadata, { a: "b" })
    }))

  it.effect("a root that cannot be a directory fails the layer with BlobStoreError", () =>
    Effect.gen(function*() {
      const file = join(parent, "a-file")
      writeFileSync(file, "x")
      const exit = yield* Effect.exit(Effect.provide(BlobStore, layer({ root: join(file, "root") })))
      assert.isTrue(Exit.isFailure(exit))
      const error = yield* Effect.flip(Effect.provide(BlobStore, layer({ root: join(file, "root") })))
      assert.strictEqual(error._tag, "BlobStoreError")
    }))
})
