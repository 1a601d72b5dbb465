/**
 * `@aquifer/blob-azure`: the `BlobStore` port on Azure Blob Storage (block blobs) with
 * `@azure/storage-blob`; tested against Azurite.
 *
 * Config (`layerConfig`): `AQUIFER_AZURE_CONTAINER` (required), `AQUIFER_AZURE_UPLOADS_CONTAINER`,
 * and either `AQUIFER_AZURE_CONNECTION_STRING` or `AQUIFER_AZURE_ACCOUNT_URL` with
 * `AQUIFER_AZURE_ACCOUNT_NAME` + `AQUIFER_AZURE_ACCOUNT_KEY` or `AQUIFER_AZURE_SAS_TOKEN`;
 * `AQUIFER_AZURE_BLOCK_SIZE`. See docs/adapters/blob.md.
 * @module
 */
import { BlobStore, type BlobStoreError } from "@aquifer/blob"
import { Config, Effect, Layer, Option } from "effect"
import { type AzureOptions, makeAzure } from "./azure_store.ts"

export type { AzureOptions }

/** The store on `options.container`; the uploads container is created on the first multipart upload. */
export const layer = (options: AzureOptions): Layer.Layer<BlobStore, BlobStoreError> =>
  Layer.effect(BlobStore, makeAzure(options))

/**
 * The store configured from `AQUIFER_AZURE_*` environment variables. Without a connection string
 * or an account URL the layer fails with `BlobStoreError`.
 */
export const layerConfig: Layer.Layer<BlobStore, BlobStoreError | Config.ConfigError> = Layer.unwrap(
  Effect.gen(function*() {
    const container = yield* Config.String("AQUIFER_AZURE_CONTAINER")
    const uploadsContainer = yield* Config.String("AQUIFER_AZURE_UPLOADS_CONTAINER").pipe(Config.withDefault("aquifer-uploads"))
    const connectionString = yield* Config.option(Config.Redacted("AQUIFER_AZURE_CONNECTION_STRING"))
    const accountUrl = yield* Config.option(Config.String("AQUIFER_AZURE_ACCOUNT_URL"))
    const accountName = yield* Config.option(Config.String("AQUIFER_AZURE_ACCOUNT_NAME"))
    const accountKey = yield* Config.option(Config.Redacted("AQUIFER_AZURE_ACCOUNT_KEY"))
    const sasToken = yield* Config.option(Config.Redacted("AQUIFER_AZURE_SAS_TOKEN"))
    const blockSize = yield* Config.Int("AQUIFER_AZURE_BLOCK_SIZE").pipe(Config.withDefault(8 * 1024 * 1024))
    return layer({
      container,
      uploadsContainer,
      connectionString: Option.getOrUndefined(connectionString),
      accountUrl: Option.getOrUndefined(accountUrl),
      accountName: Option.getOrUndefined(accountName),
      accountKey: Option.getOrUndefined(accountKey),
      sasToken: Option.getOrUndefined(sasToken),
      blockSize
    })
  })
)
