/**
 * The Drive's tunables, with defaults; the apps set them from configuration
 * (docs/configuration.md, `## Drive`).
 * @module
 */
import { Context, Layer } from "effect"
import { Quota } from "./model.ts"

export interface DriveSettingsShape {
  /** The quota every new home bucket gets. */
  readonly homeQuota: Quota
  /** Bounds and default of the lifetime of temporary credentials, in seconds. */
  readonly sts: {
    readonly minDurationSeconds: number
    readonly maxDurationSeconds: number
    readonly defaultDurationSeconds: number
  }
}

/** The defaults: no home quota; temporary credentials for 15 minutes to 12 hours, 1 hour by default (as AWS). */
export const defaultDriveSettings: DriveSettingsShape = {
  homeQuota: new Quota({}),
  sts: { minDurationSeconds: 900, maxDurationSeconds: 43_200, defaultDurationSeconds: 3600 }
}

export const DriveSettings = Context.Reference<DriveSettingsShape>("@aquifer/drive/DriveSettings", {
  defaultValue: () => defaultDriveSettings
})

/** Replaces the settings. */
export const layerSettings = (settings: DriveSettingsShape): Layer.Layer<never> => Layer.succeed(DriveSettings, settings)
