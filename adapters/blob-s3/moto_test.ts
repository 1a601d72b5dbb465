// The S3 adapter against moto's S3 server, with the SDK's defaults (CRC checksums, aws-chunked
// streaming uploads, virtual-host addressing turned to path style only because the server is
// reached by IP): the full conformance kit, then what is particular to S3.
import { BlobStore } from "@aquifer/blob"
import { suite } from "@aquifer/blob/testing"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import { freePort } from "../../scripts/testing/ports.ts"
import { memoryUsage, type Server, startMoto } from "./_servers.ts"
import { layer, layerConfig } from "./mod.ts"

let server: Server | undefined
beforeAll(async () => {
  server = await startMoto("kit")
}, 600_000)
afterAll(async () => {
  await server?.close()
})

const credentials = { accessKeyId: "test", secretAccessKey: Redacted.make("test") }

suite(
  "blob-s3 on moto",
  Layer.unwrap(Effect.sync(() => layer({ bucket: "kit", endpoint: server!.endpoint, forcePathStyle: true, credentials }))),
  { memoryUsage }
)

describe("blob-s3", () => {
  it.effect("layerConfig reads AQUIFER_S3_* and talks to the server", () =>
    Effect.gen(function*() {
      const configured = layerConfig.pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({
        AQUIFER_S3_BUCKET: "kit",
        AQUIFER_S3_ENDPOINT: server!.endpoint,
        AQUIFER_S3_FORCE_PATH_STYLE: "true",
        AQUIFER_S3_ACCESS_KEY_ID: "test",
        AQUIFER_S3_SECRET_ACCESS_KEY: "test",
        AQUIFER_S3_PART_SIZE: String(5 * 1024 * 1024)
      }))))
      const result = yield* Effect.gen(function*() {
        const store = yield* BlobStore
        yield* store.put("config/hello.txt", new Blob(["hello"]).stream(), { contentType: "text/plain" })
        return yield* store.head("config/hello.txt")
      }).pipe(Effect.provide(configured))
      assert.strictEqual(result.size, 5)
      assert.strictEqual(result.contentType, "text/plain")
    }))

  it.effect("a missing bucket is a BlobStoreError, an unreachable endpoint BlobStoreUnavailable (the body released)", () =>
    Effect.gen(function*() {
      const missing = yield* Effect.flip(BlobStore.use((store) => store.list({ prefix: "x" })).pipe(
        Effect.provide(layer({ bucket: "no-such-bucket", endpoint: server!.endpoint, forcePathStyle: true, credentials }))
      ))
      assert.strictEqual(missing._tag, "BlobStoreError")
      const closed = `http://127.0.0.1:${yield* Effect.promise(freePort)}`
      const unreachable = yield* Effect.flip(BlobStore.use((store) => store.list({ prefix: "x" })).pipe(
        Effect.provide(layer({ bucket: "kit", endpoint: closed, forcePathStyle: true, credentials }))
      ))
      assert.strictEqual(unreachable._tag, "BlobStoreUnavailable")
      for (const contentLength of [5, undefined]) {
        let cancelled = false
        const body = new ReadableStream<Uint8Array>({
          pull: (controller) => controller.enqueue(new Uint8Array(64 * 1024)),
          cancel: () => {
            cancelled = true
          }
        }, { highWaterMark: 0 })
        const failed = yield* Effect.flip(BlobStore.use((store) => store.put("x", body, { contentLength: contentLength === undefined ? undefined : 64 * 1024 * contentLength })).pipe(
          Effect.provide(layer({ bucket: "kit", endpoint: closed, forcePathStyle: true, credentials, partSize: 5 * 1024 * 1024 }))
        ))
        assert.strictEqual(failed._tag, "BlobStoreUnavailable")
        for (let i = 0; i < 100 && !cancelled; i++) yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 10)))
        assert.isTrue(cancelled, `the caller's stream is released (${contentLength === undefined ? "unknown" : "known"} length)`)
      }
    }))

  it.effect("the completion marker stays out of user metadata, and copies do not carry it", () =>
    Effect.gen(function*() {
      const store = yield* BlobStore
      const uploadId = yield* store.createMultipartUpload("marker/object", { metadata: { mine: "yes" } })
      const part = yield* store.uploadPart("marker/object", uploadId, 1, new Blob(["abc"]).stream(), { contentLength: 3 })
      yield* store.completeMultipartUpload("marker/object", uploadId, [{ partNumber: 1, etag: part.etag }])
      assert.deepStrictEqual((yield* store.head("marker/object")).metadata, { mine: "yes" })
      yield* store.copy("marker/object", "marker/copy")
      assert.deepStrictEqual((yield* store.head("marker/copy")).metadata, { mine: "yes" })
      assert.deepStrictEqual((yield* store.list({ prefix: "marker/" })).items.map((item) => item.key), ["marker/copy", "marker/object"])
    }).pipe(Effect.provide(Layer.unwrap(Effect.sync(() => layer({ bucket: "kit", endpoint: server!.endpoint, forcePathStyle: true, credentials }))))))
})
