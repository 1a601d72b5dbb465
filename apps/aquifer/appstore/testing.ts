/**
 * The App Store for the app's tests: the catalog and secrets in the test database, blobs and a
 * cipher in memory, and — unless a test passes real ones — the in-memory scheduler (nothing
 * runs). `e2e_test.ts` passes the local scheduler and the fs blob store instead.
 */
import { defaultAppStoreConfig } from "@aquifer/appstore"
import { layerMemory as blobMemory } from "@aquifer/blob"
import { layerMemory as schedulerMemory } from "@aquifer/scheduler"
import { layerCipherMemory } from "@aquifer/secrets"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { appStoreLayer } from "./layer.ts"

export const appStoreTestLayer = (port: number, overrides: Partial<Parameters<typeof appStoreLayer>[0]> = {}) =>
  appStoreLayer({
    settings: { ...defaultAppStoreConfig, publicUrl: `http://127.0.0.1:${port}` },
    home: join(tmpdir(), `aquifer-appstore-test-${process.pid}`),
    blobs: blobMemory,
    scheduler: schedulerMemory(),
    cipher: layerCipherMemory,
    ...overrides
  })
