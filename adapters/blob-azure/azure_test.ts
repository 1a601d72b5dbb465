import { BlobStore } from "@aquifer/blob"
import { suite } from "@aquifer/blob/testing"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { BlobServiceClient } from "@azure/storage-blob"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import { freePort } from "../../scripts/testing/ports.ts"
import { type Azurite, startAzurite } from "./_azurite.ts"
import { decodeMetadataName, encodeMetadataName } from "./azure_store.ts"
import { layer, layerConfig } from "./mod.ts"

let azurite: Azurite | undefined
beforeAll(async () => {
  azurite = await startAzurite()
  await BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient("kit").create()
})
afterAll(async () => {
  await azurite?.close()
})

const memoryUsage = () => {
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.external
}

const kitLayer = Layer.unwrap(Effect.sync(() => layer({ container: "kit", connectionString: Redacted.make(azurite!.connectionString) })))

suite("blob-azure on Azurite", kitLayer, { memoryUsage })

describe("blob-azure", () => {
  it("encodes metadata names as C# identifiers, reversibly", () => {
    for (const name of ["a", "content-type", "x_y", "a-_b__c--", "0starts-with-digit"]) {
      const encoded = encodeMetadataName(name)
      assert.match(encoded, /^[A-Za-z_][A-Za-z0-9_]*$/)
      assert.strictEqual(decodeMetadataName(encoded), name)
    }
  })

  it.effect("layerConfig reads AQUIFER_AZURE_* (account URL and key)", () =>
    Effect.gen(function*() {
      const configured = layerConfig.pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({
        AQUIFER_AZURE_CONTAINER: "kit",
        AQUIFER_AZURE_ACCOUNT_URL: azurite!.url,
        AQUIFER_AZURE_ACCOUNT_NAME: "devstoreaccount1",
        AQUIFER_AZURE_ACCOUNT_KEY: "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
      }))))
      const head = yield* BlobStore.use((store) =>
        Effect.andThen(store.put("config/hello.txt", new Blob(["hello"]).stream(), { metadata: { "file-name": "hello.txt" } }), store.head("config/hello.txt"))
      ).pipe(Effect.provide(configured))
      assert.strictEqual(head.size, 5)
      assert.deepStrictEqual(head.metadata, { "file-name": "hello.txt" })
    }))

  it.effect("multipart uploads live apart from the container: listing it shows only objects", () =>
    Effect.gen(function*() {
      const store = yield* BlobStore
      const uploadId = yield* store.createMultipartUpload("apart/object")
      yield* store.uploadPart("apart/object", uploadId, 1, new Blob(["x"]).stream(), { contentLength: 1 })
      assert.deepStrictEqual((yield* store.list({ prefix: "apart/" })).items, [])
      yield* store.abortMultipartUpload("apart/object", uploadId)
    }).pipe(Effect.provide(kitLayer)))

  it.effect("a missing container is a BlobStoreError; without credentials the layer fails", () =>
    Effect.gen(function*() {
      const missing = yield* Effect.flip(BlobStore.use((store) => store.list({})).pipe(
        Effect.provide(Layer.unwrap(Effect.sync(() => layer({ container: "absent", connectionString: Redacted.make(azurite!.connectionString) }))))
      ))
      assert.strictEqual(missing._tag, "BlobStoreError")
      const unconfigured = yield* Effect.flip(Effect.provide(BlobStore, layer({ container: "kit" })))
      assert.strictEqual(unconfigured._tag, "BlobStoreError")
    }))

  it.effect("an unreachable account: the layer starts, calls fail with BlobStoreUnavailable, bodies are released", () =>
    Effect.gen(function*() {
      const closed = `http://127.0.0.1:${yield* Effect.promise(freePort)}/devstoreaccount1`
      const unreachable = layer({
        container: "kit",
        connectionString: Redacted.make(azurite!.connectionString.replace(azurite!.url, closed))
      })
      const store = yield* Effect.provide(BlobStore, unreachable)
      assert.strictEqual((yield* Effect.flip(store.head("x")))._tag, "BlobStoreUnavailable")
      for (const contentLength of [64 * 1024 * 5, undefined]) {
        let cancelled = false
        const body = new ReadableStream<Uint8Array>({
          pull: (controller) => controller.enqueue(new Uint8Array(64 * 1024)),
          cancel: () => {
            cancelled = true
          }
        }, { highWaterMark: 0 })
        const failed = yield* Effect.flip(store.put("x", body, { contentLength }))
        assert.strictEqual(failed._tag, "BlobStoreUnavailable")
        for (let i = 0; i < 100 && !cancelled; i++) yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 10)))
        assert.isTrue(cancelled, `the caller's stream is released (${contentLength === undefined ? "unknown" : "known"} length)`)
      }
    }))
})
