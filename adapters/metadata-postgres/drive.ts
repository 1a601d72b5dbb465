import { Layer } from "effect"
import { layerDriveAccessKeys } from "./drive_access_keys.ts"
import { layerDriveBuckets } from "./drive_buckets.ts"
import { layerDriveUploads } from "./drive_uploads.ts"

/** Every Drive repository (buckets, access keys, uploads) in the metadata database. */
export const layerDriveRepositories = Layer.mergeAll(layerDriveBuckets, layerDriveAccessKeys, layerDriveUploads)
