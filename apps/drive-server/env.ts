// The Drive's adapters picked from the environment, for its own service and the all-in-one.
import { homedir } from "node:os"
import { join } from "node:path"
import type { BlobStore } from "@aquifer/blob"
import { layerConfig as fsFromEnv } from "@aquifer/blob-fs"
import { Config, Effect, Layer, Redacted } from "effect"
import { driveConfig, type DriveConfig, serverKeyFromFile } from "./config.ts"

/** `AQUIFER_BLOB_STORE`: `fs` (default, under `$AQUIFER_HOME/blobs`), `s3` or `azure`. */
export const blobStoreKind = Config.Literals(["fs", "s3", "azure"], "AQUIFER_BLOB_STORE").pipe(Config.withDefault("fs" as const))

/** The BlobStore of `AQUIFER_BLOB_STORE`, configured by its adapter's own variables. */
export const blobLayerFromEnv: Layer.Layer<BlobStore, unknown> = Layer.unwrap(
  Effect.gen(function*() {
    const kind = yield* blobStoreKind
    // The cloud SDKs load only when chosen: they cost start-up time and memory otherwise.
    if (kind === "s3") return (yield* Effect.promise(() => import("@aquifer/blob-s3"))).layerConfig as Layer.Layer<BlobStore, unknown>
    if (kind === "azure") return (yield* Effect.promise(() => import("@aquifer/blob-azure"))).layerConfig as Layer.Layer<BlobStore, unknown>
    return fsFromEnv as Layer.Layer<BlobStore, unknown>
  })
)

/**
 * The Drive's settings, with ETags taken as content MD5s by default on S3 (whose ETags are),
 * and the server key: `AQUIFER_DRIVE_KEY`, or a key kept in `$AQUIFER_HOME/drive.key` (a single
 * process only: replicas must share a configured key).
 */
export const resolvedDriveConfig: Effect.Effect<DriveConfig & { readonly serverKeyBytes: Uint8Array; readonly keyFromFile: boolean }, unknown> =
  Effect.gen(function*() {
    const config = yield* driveConfig
    const kind = yield* blobStoreKind
    const etagFlag = yield* Config.option(Config.Boolean("AQUIFER_DRIVE_ETAG_MD5"))
    const home = yield* Config.String("AQUIFER_HOME").pipe(Config.withDefault(join(homedir(), ".aquifer")))
    const keyFromFile = config.serverKey === undefined
    const serverKeyBytes = config.serverKey === undefined ? serverKeyFromFile(join(home, "drive.key")) : Redacted.value(config.serverKey)
    return { ...config, etagsAreMd5: etagFlag._tag === "Some" ? etagFlag.value : kind === "s3", serverKeyBytes, keyFromFile }
  })
