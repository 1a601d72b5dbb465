/** The Drive for the app's tests: blob-fs in `root`, a random server key, short STS minimum. */
import { randomBytes } from "node:crypto"
import { join } from "node:path"
import { layer as blobFs } from "@aquifer/blob-fs"
import { defaultDriveSettings } from "@aquifer/drive"
import { driveLayer } from "./layer.ts"

export const driveTestLayer = (root: string) =>
  driveLayer({
    blobs: blobFs({ root: join(root, "blobs") }),
    serverKey: new Uint8Array(randomBytes(32)),
    settings: { ...defaultDriveSettings, sts: { minDurationSeconds: 1, maxDurationSeconds: 3600, defaultDurationSeconds: 900 } }
  })
