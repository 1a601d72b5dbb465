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
import { layer as blobFs } from "@aquifer/blob-fs"
import { layerAuditLog, layer as databaseLayer } from "@aquifer/metadata-postgres"
import { layer as localScheduler } from "@aquifer/scheduler-local"
import { layer as localCipher } from "@aquifer/secrets-local"
import { Layer, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { identityTestLayer } from "../identity/testing.ts"
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

/**
 * The whole platform as the end-to-end tests run it: in-memory PGlite, the test identity (the
 * real embedded issuer), and the App Store on real parts — blob-fs, the local scheduler and the
 * local cipher — under `home`, with virtualenvs cached in `venvs`.
 */
export const endToEndPlatformLayer = (port: number, options: { readonly home: string; readonly venvs: string }) =>
  Layer.mergeAll(
    layerAuditLog,
    identityTestLayer(port),
    appStoreTestLayer(port, {
      home: options.home,
      venvs: options.venvs,
      blobs: blobFs({ root: join(options.home, "blobs") }),
      scheduler: localScheduler({ home: options.home, stopGraceMs: 3000, onShutdown: "stop" }),
      cipher: localCipher(Redacted.make(randomBytes(32).toString("base64")))
    }).pipe(Layer.provide(layerAuditLog))
  ).pipe(Layer.provideMerge(databaseLayer({})))
