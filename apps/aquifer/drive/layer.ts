import { layerWebIdentityFromIdentity } from "@aquifer/drive"
import { blobLayerFromEnv, type DriveServices, driveServicesLayer, resolvedDriveConfig } from "@aquifer/drive-server"
import type { BlobStore } from "@aquifer/blob"
import type { DriveSettingsShape } from "@aquifer/drive"
import type { Identity } from "@aquifer/identity"
import type { Database } from "@aquifer/metadata-postgres"
import { Context, Effect, Layer } from "effect"

/** How the all-in-one serves the Drive's S3 API (under `/drive`). */
export class DriveHttp extends Context.Service<DriveHttp, {
  readonly region: string
  readonly virtualHostDomain: string | undefined
  readonly etagsAreMd5: boolean
}>()("@aquifer/aquifer/DriveHttp") {}

/** Every Drive service the app's runtime holds. */
export type DrivePlatformServices = DriveServices | DriveHttp

export interface DriveLayerOptions<E> {
  readonly blobs: Layer.Layer<BlobStore, E>
  readonly serverKey: Uint8Array
  readonly settings?: DriveSettingsShape | undefined
  readonly http?: Partial<DriveHttp["Service"]> | undefined
}

/**
 * The Drive in the all-in-one: its services over the platform's database, STS trusting exactly
 * the access tokens the platform's `Identity` accepts.
 */
export const driveLayer = <E>(options: DriveLayerOptions<E>): Layer.Layer<DrivePlatformServices, E, Database | Identity> =>
  Layer.mergeAll(
    driveServicesLayer(options),
    layerWebIdentityFromIdentity,
    Layer.succeed(DriveHttp, DriveHttp.of({ region: "us-east-1", virtualHostDomain: undefined, etagsAreMd5: false, ...options.http }))
  )

/**
 * The Drive from the environment (docs/configuration.md, `## Drive`): the BlobStore of
 * `AQUIFER_BLOB_STORE` (blob-fs under `$AQUIFER_HOME/blobs` by default), the server key of
 * `AQUIFER_DRIVE_KEY` or `$AQUIFER_HOME/drive.key`.
 */
export const driveLayerFromEnv: Layer.Layer<DrivePlatformServices, unknown, Database | Identity> = Layer.unwrap(
  Effect.map(resolvedDriveConfig, (config) =>
    driveLayer({
      blobs: blobLayerFromEnv,
      serverKey: config.serverKeyBytes,
      settings: config.settings,
      http: { region: config.region, virtualHostDomain: config.virtualHostDomain, etagsAreMd5: config.etagsAreMd5 }
    }))
)
