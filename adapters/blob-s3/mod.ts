/**
 * `@aquifer/blob-s3`: the `BlobStore` port on Amazon S3 and S3-compatible servers (MinIO-style
 * servers, Google Cloud Storage through its XML API) with `@aws-sdk/client-s3`.
 *
 * Config (`layerConfig`): `AQUIFER_S3_BUCKET` (required), `AQUIFER_S3_REGION`,
 * `AQUIFER_S3_ENDPOINT`, `AQUIFER_S3_FORCE_PATH_STYLE`, `AQUIFER_S3_ACCESS_KEY_ID` +
 * `AQUIFER_S3_SECRET_ACCESS_KEY` (+ `AQUIFER_S3_SESSION_TOKEN`; all absent: the SDK's default
 * credential chain), `AQUIFER_S3_CHECKSUMS`, `AQUIFER_S3_PART_SIZE`. See docs/adapters/blob.md.
 * @module
 */
import { BlobStore } from "@aquifer/blob"
import { Config, Effect, Layer, Option } from "effect"
import { makeS3, type S3Options } from "./s3_store.ts"

export type { S3Options }

/** The store on `options.bucket`; the SDK client lives as long as the layer. */
export const layer = (options: S3Options): Layer.Layer<BlobStore> => Layer.effect(BlobStore, makeS3(options))

/** The store configured from `AQUIFER_S3_*` environment variables. */
export const layerConfig: Layer.Layer<BlobStore, Config.ConfigError> = Layer.unwrap(
  Effect.gen(function*() {
    const bucket = yield* Config.String("AQUIFER_S3_BUCKET")
    const region = yield* Config.String("AQUIFER_S3_REGION").pipe(Config.withDefault("us-east-1"))
    const endpoint = yield* Config.option(Config.URL("AQUIFER_S3_ENDPOINT"))
    const forcePathStyle = yield* Config.Boolean("AQUIFER_S3_FORCE_PATH_STYLE").pipe(Config.withDefault(false))
    const accessKeyId = yield* Config.option(Config.String("AQUIFER_S3_ACCESS_KEY_ID"))
    const secretAccessKey = yield* Config.option(Config.Redacted("AQUIFER_S3_SECRET_ACCESS_KEY"))
    const sessionToken = yield* Config.option(Config.Redacted("AQUIFER_S3_SESSION_TOKEN"))
    const checksums = yield* Config.Literals(["when_supported", "when_required"], "AQUIFER_S3_CHECKSUMS").pipe(Config.withDefault("when_supported" as const))
    const partSize = yield* Config.Int("AQUIFER_S3_PART_SIZE").pipe(Config.withDefault(8 * 1024 * 1024))
    const credentials = Option.isSome(accessKeyId) && Option.isSome(secretAccessKey)
      ? { accessKeyId: accessKeyId.value, secretAccessKey: secretAccessKey.value, sessionToken: Option.getOrUndefined(sessionToken) }
      : undefined
    return layer({
      bucket,
      region,
      endpoint: Option.getOrUndefined(Option.map(endpoint, (url) => url.toString().replace(/\/$/, ""))),
      forcePathStyle,
      credentials,
      checksums,
      partSize
    })
  })
)
