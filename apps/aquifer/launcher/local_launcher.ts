/**
 * The `AppLauncher` for the local scheduler: an instance runs `node launch.ts <spec>`, which
 * unpacks the bundle (fetched from the BlobStore once per version into
 * `$AQUIFER_HOME/appstore/bundles/`, checked against its SHA-256), prepares a virtualenv under
 * `$AQUIFER_HOME/appstore/venvs/<requirements hash>` and starts the app. `container` apps need
 * a container scheduler and are refused here.
 * @module
 */
import { AppLauncher, LaunchRefused, type LaunchPlan } from "@aquifer/appstore"
import { BlobStore } from "@aquifer/blob"
import { Unavailable } from "@aquifer/core"
import { Effect, Layer } from "effect"
import { createHash } from "node:crypto"
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from "node:fs"
import { join } from "node:path"
import { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"
import type { LaunchSpec } from "./launch.ts"

export interface LocalLauncherOptions {
  /** `$AQUIFER_HOME`. */
  readonly home: string
  /** The Python interpreter venvs are made with (default `python3`). */
  readonly python?: string | undefined
  /** Where virtualenvs are cached (default `$AQUIFER_HOME/appstore/venvs`). */
  readonly venvs?: string | undefined
}

/** Where the launcher program lives. */
export const launchScript = join(import.meta.dirname, "launch.ts")

export const layer = (options: LocalLauncherOptions): Layer.Layer<AppLauncher, never, BlobStore> =>
  Layer.effect(
    AppLauncher,
    Effect.gen(function*() {
      const blobs = yield* BlobStore
      const bundles = join(options.home, "appstore", "bundles")
      const materialize = (plan: LaunchPlan) =>
        Effect.gen(function*() {
          const file = join(bundles, `${plan.version.id}.zip`)
          if (existsSync(file)) return file
          const opened = yield* blobs.get(plan.version.bundleKey).pipe(
            Effect.mapError((error) => new Unavailable({ message: `the bundle of ${plan.app.name} ${plan.version.version} cannot be read: ${error.message}` }))
          )
          yield* Effect.tryPromise({
            try: async () => {
              mkdirSync(bundles, { recursive: true, mode: 0o700 })
              const temp = `${file}.${process.pid}.${Date.now()}.tmp`
              const hash = createHash("sha256")
              const source = Readable.fromWeb(opened.body as import("node:stream/web").ReadableStream<Uint8Array>)
              source.on("data", (chunk: Buffer) => hash.update(chunk))
              try {
                await pipeline(source, createWriteStream(temp, { mode: 0o600 }))
                if (hash.digest("hex") !== plan.version.bundleSha256) throw new Error("its SHA-256 does not match the one recorded at import")
                renameSync(temp, file)
              } finally {
                rmSync(temp, { force: true })
              }
            },
            catch: (error) => new Unavailable({ message: `the bundle of ${plan.app.name} ${plan.version.version} cannot be fetched: ${(error as Error).message}` })
          })
          return file
        })
      return AppLauncher.of({
        runnable: (plan) =>
          Effect.gen(function*() {
            const runtime = plan.version.manifest.runtime
            if (runtime === undefined) return yield* new LaunchRefused({ message: "a LINK app has nothing to run" })
            if (runtime.appMode === "container") {
              return yield* new LaunchRefused({
                message: `${plan.app.name} is a container app (AppMode = "container"); this platform runs apps as local processes, so it needs the Kubernetes scheduler (AQUIFER_SCHEDULER=kubernetes)`,
                field: "Runtime.AppMode"
              })
            }
            const bundle = yield* materialize(plan)
            const spec: LaunchSpec = {
              bundle,
              venvs: options.venvs ?? join(options.home, "appstore", "venvs"),
              requirementsHash: plan.version.requirementsHash,
              mode: runtime.appMode,
              module: runtime.module ?? "app",
              appArgs: runtime.appArgs,
              entryPoint: runtime.appEntryPoint,
              files: plan.files,
              python: options.python ?? "python3",
              basePath: plan.basePath
            }
            return {
              command: process.execPath,
              args: [launchScript, JSON.stringify(spec)],
              port: runtime.port ?? 8080,
              readinessPath: plan.basePath,
              volumes: [{ name: "app", mountPath: "/app" }]
            }
          })
      })
    })
  )
