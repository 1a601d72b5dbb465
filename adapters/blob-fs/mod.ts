/**
 * `@aquifer/blob-fs`: the `BlobStore` port on a local file system — the embedded default of the
 * all-in-one server, and the "persistent volume" option of a single-replica deployment.
 *
 * Writes stream to a temp file under the root, are fsynced and renamed into place (atomic, and
 * durable once `put` returns); readers hold their open file, so they finish the version they
 * opened. One process owns a root. Config: `AQUIFER_BLOB_FS_ROOT` (default
 * `$AQUIFER_HOME/blobs`, `AQUIFER_HOME` defaulting to `~/.aquifer`); see docs/adapters/blob.md.
 * @module
 */
import { BlobStore, type BlobStoreError } from "@aquifer/blob"
import { Config, Effect, Layer } from "effect"
import { homedir } from "node:os"
import { join } from "node:path"
import { type FsOptions, makeFs } from "./fs_store.ts"

export type { FsOptions }

/** The store over `options.root` (created when absent). */
export const layer = (options: FsOptions): Layer.Layer<BlobStore, BlobStoreError> => Layer.effect(BlobStore, makeFs(options))

/** The store over `AQUIFER_BLOB_FS_ROOT`, or `$AQUIFER_HOME/blobs`. */
export const layerConfig: Layer.Layer<BlobStore, BlobStoreError | Config.ConfigError> = Layer.unwrap(
  Effect.gen(function*() {
    const home = yield* Config.String("AQUIFER_HOME").pipe(Config.withDefault(join(homedir(), ".aquifer")))
    const root = yield* Config.String("AQUIFER_BLOB_FS_ROOT").pipe(Config.withDefault(join(home, "blobs")))
    return layer({ root })
  })
)
