/**
 * The App Store, secrets and router services of the all-in-one, from configuration
 * (docs/configuration.md, "App Store and router"): the catalog and secrets in the metadata
 * database, bundles in the BlobStore, instances on the local scheduler, the local launcher,
 * and the idle-instance sweeper.
 */
import { AppCatalog, AppLauncher, AppStoreSettings, type AppStoreConfig, BundleReader, defaultBundleLimits, suspendIdle } from "@aquifer/appstore"
import type { AuditLog } from "@aquifer/audit"
import { BlobStore } from "@aquifer/blob"
import { blobLayerFromEnv } from "@aquifer/drive-server"
import { layer as bundleZip } from "@aquifer/bundle-zip"
import { type Database, layerAppCatalog, layerSecretStore } from "@aquifer/metadata-postgres"
import { Scheduler } from "@aquifer/scheduler"
import { layerConfig as localSchedulerFromEnv } from "@aquifer/scheduler-local"
import { SecretCipher, SecretStore } from "@aquifer/secrets"
import { layerConfig as localCipherFromEnv } from "@aquifer/secrets-local"
import { Config, Context, Effect, Layer, Option, Schedule } from "effect"
import { homedir } from "node:os"
import { join } from "node:path"
import { serverConfig } from "../config.ts"
import { layer as imageLauncher } from "../launcher/image_launcher.ts"
import { layer as localLauncher } from "../launcher/local_launcher.ts"

/**
 * When each instance last saw traffic through this process's router (epoch ms), and a signal
 * that an instance changed through the API (so the router forgets what it cached about it).
 */
export class InstanceActivity extends Context.Service<InstanceActivity, {
  readonly touch: (id: string) => void
  readonly last: (id: string) => number | undefined
  readonly changed: (id: string) => void
  readonly onChange: (listener: (id: string) => void) => void
}>()("@aquifer/aquifer/InstanceActivity") {}

export const layerActivity: Layer.Layer<InstanceActivity> = Layer.sync(InstanceActivity, () => {
  const seen = new Map<string, number>()
  const listeners = new Set<(id: string) => void>()
  return InstanceActivity.of({
    touch: (id) => void seen.set(id, Date.now()),
    last: (id) => seen.get(id),
    changed: (id) => {
      for (const listener of listeners) listener(id)
    },
    onChange: (listener) => void listeners.add(listener)
  })
})

export type AppStoreServices =
  | AppCatalog
  | SecretStore
  | SecretCipher
  | BlobStore
  | Scheduler
  | BundleReader
  | AppLauncher
  | AppStoreSettings
  | InstanceActivity

/** Suspends idle instances every `intervalMillis` (their InstanceTimeout decides who is idle). */
export const idleSweeper = (intervalMillis: number) =>
  Layer.effectDiscard(Effect.gen(function*() {
    const activity = yield* InstanceActivity
    yield* Effect.forkScoped(
      Effect.suspend(() => suspendIdle(activity.last, Date.now())).pipe(
        Effect.tap((ids) => (ids.length === 0 ? Effect.void : Effect.logInfo(`suspended idle instances: ${ids.join(", ")}`))),
        Effect.catch((error) => Effect.logWarning(`idle sweep failed: ${error.message}`)),
        Effect.repeat(Schedule.spaced(intervalMillis)),
        Effect.delay(intervalMillis)
      )
    )
  }))

/** The services over explicit parts (tests pass a scheduler, blob store and settings of their own). */
export const appStoreLayer = (options: {
  readonly settings: AppStoreConfig
  readonly home: string
  readonly venvs?: string | undefined
  readonly python?: string | undefined
  readonly blobs: Layer.Layer<BlobStore, unknown>
  readonly scheduler: Layer.Layer<Scheduler, unknown>
  /** `local`: apps run as processes through the local launcher; `kubernetes`: as images. */
  readonly launcher?: "local" | "image" | undefined
  readonly cipher: Layer.Layer<SecretCipher, unknown>
  readonly sweepIntervalMillis?: number | undefined
}): Layer.Layer<AppStoreServices, unknown, Database | AuditLog> =>
  Layer.mergeAll(
    layerSecretStore,
    bundleZip,
    options.launcher === "image" ? imageLauncher : localLauncher({ home: options.home, venvs: options.venvs, python: options.python }),
    Layer.succeed(AppStoreSettings, AppStoreSettings.of(options.settings)),
    idleSweeper(options.sweepIntervalMillis ?? 60_000)
  ).pipe(
    Layer.provideMerge(Layer.mergeAll(options.blobs, options.scheduler, options.cipher, layerActivity, layerAppCatalog))
  )

/**
 * From the environment: `AQUIFER_SCHEDULER` (`local` | `kubernetes`), `AQUIFER_MAX_INSTANCES_PER_USER` (10), `AQUIFER_MAX_INSTANCES_PER_VISITOR`
 * (2), `AQUIFER_MAX_BUNDLE_BYTES` (256 MiB), `AQUIFER_APPS_PYTHON` (`python3`),
 * `AQUIFER_APPS_OIDC_*` for apps with EnableOIDC, and each adapter's own keys.
 */
export const appStoreLayerFromEnv: Layer.Layer<AppStoreServices, unknown, Database | AuditLog> = Layer.unwrap(
  Effect.gen(function*() {
    const config = yield* serverConfig
    const home = yield* Config.String("AQUIFER_HOME").pipe(Config.withDefault(join(homedir(), ".aquifer")))
    const perUser = yield* Config.Int("AQUIFER_MAX_INSTANCES_PER_USER").pipe(Config.withDefault(10))
    const perVisitor = yield* Config.Int("AQUIFER_MAX_INSTANCES_PER_VISITOR").pipe(Config.withDefault(2))
    const maxBundle = yield* Config.Int("AQUIFER_MAX_BUNDLE_BYTES").pipe(Config.withDefault(defaultBundleLimits.maxBundleBytes))
    const python = yield* Config.String("AQUIFER_APPS_PYTHON").pipe(Config.withDefault("python3"))
    const scheduler = yield* Config.Literals(["local", "kubernetes"], "AQUIFER_SCHEDULER").pipe(Config.withDefault("local" as const))
    const oidcClient = yield* Config.option(Config.String("AQUIFER_APPS_OIDC_CLIENT_ID"))
    const oidcSecret = yield* Config.option(Config.Redacted("AQUIFER_APPS_OIDC_CLIENT_SECRET"))
    const oidcProvider = yield* Config.option(Config.String("AQUIFER_APPS_OIDC_PROVIDER_URL"))
    const loopback = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host
    const publicUrl = config.publicUrl ?? `http://${loopback}:${config.port}`
    const settings: AppStoreConfig = {
      publicUrl,
      maxInstancesPerUser: perUser,
      maxInstancesPerVisitor: perVisitor,
      bundleLimits: { ...defaultBundleLimits, maxBundleBytes: maxBundle },
      oidc: Option.isSome(oidcClient) && Option.isSome(oidcSecret)
        ? { clientId: oidcClient.value, clientSecret: oidcSecret.value, providerUrl: Option.getOrElse(oidcProvider, () => `${publicUrl}/oidc`) }
        : undefined
    }
    return appStoreLayer({
      settings,
      home,
      python,
      // The platform's one BlobStore (`AQUIFER_BLOB_STORE`), the same Layer the Drive uses, so
      // one process holds one store.
      blobs: blobLayerFromEnv,
      // The Kubernetes client loads only when chosen (it costs ~0.4 s of start-up otherwise).
      scheduler: scheduler === "kubernetes"
        ? Layer.unwrap(Effect.promise(() => import("@aquifer/scheduler-kubernetes")).pipe(Effect.map((k) => k.layerConfig)))
        : localSchedulerFromEnv,
      launcher: scheduler === "kubernetes" ? "image" : "local",
      cipher: localCipherFromEnv
    })
  })
)
