// The Drive's services from their adapters: blobs, the metadata database, the server key and
// the identity verifier, with the settings.
import type { BlobStore } from "@aquifer/blob"
import { type DriveSettingsShape, layerCredentials, layerSettings, type WebIdentityVerifier } from "@aquifer/drive"
import { type Database, layerDriveRepositories } from "@aquifer/metadata-postgres"
import { Layer } from "effect"
import type { DriveServices } from "./context.ts"

export interface DriveLayerOptions<E1, E2, E3> {
  readonly blobs: Layer.Layer<BlobStore, E1>
  readonly database: Layer.Layer<Database, E2>
  readonly verifier: Layer.Layer<WebIdentityVerifier, E3>
  readonly serverKey: Uint8Array
  readonly settings?: DriveSettingsShape | undefined
}

/**
 * The Drive's services but the identity verifier, over the metadata `Database` of the context
 * (the all-in-one shares its own).
 */
export const driveServicesLayer = <E1>(options: {
  readonly blobs: Layer.Layer<BlobStore, E1>
  readonly serverKey: Uint8Array
  readonly settings?: DriveSettingsShape | undefined
}): Layer.Layer<Exclude<DriveServices, WebIdentityVerifier>, E1, Database> => {
  const base = Layer.mergeAll(options.blobs, layerDriveRepositories, layerCredentials(options.serverKey))
  return options.settings === undefined ? base : Layer.merge(base, layerSettings(options.settings))
}

/** Every service the Drive needs. */
export const driveLayer = <E1, E2, E3>(options: DriveLayerOptions<E1, E2, E3>): Layer.Layer<DriveServices, E1 | E2 | E3> =>
  Layer.merge(driveServicesLayer(options).pipe(Layer.provide(options.database)), options.verifier)
