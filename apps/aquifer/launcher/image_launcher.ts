/**
 * The `AppLauncher` for container schedulers (Kubernetes): `container` apps run their
 * `CustomImage` on `Port`, told their base path in `H2O_WAVE_BASE_URL` like every app. Wave and
 * python apps need the launcher inside an image (fetching the bundle from the platform), which
 * is not written yet: they are refused with a message saying so.
 * @module
 */
import { AppLauncher, LaunchRefused } from "@aquifer/appstore"
import { Effect, Layer } from "effect"

export const layer: Layer.Layer<AppLauncher> = Layer.succeed(
  AppLauncher,
  AppLauncher.of({
    runnable: (plan) =>
      Effect.gen(function*() {
        const runtime = plan.version.manifest.runtime
        if (runtime === undefined) return yield* new LaunchRefused({ message: "a LINK app has nothing to run" })
        if (runtime.appMode !== "container" || runtime.customImage === undefined) {
          return yield* new LaunchRefused({
            message: `${plan.app.name} is a ${runtime.appMode} app; on Kubernetes this platform runs only container apps (AppMode = "container" with a CustomImage) so far: run it on the local scheduler, or package it as an image`,
            field: "Runtime.AppMode"
          })
        }
        if (plan.files.length > 0) {
          return yield* new LaunchRefused({ message: `${plan.app.name} has literal [[File]] entries, which container apps cannot receive yet; put them in the image`, field: "File" })
        }
        return {
          image: runtime.customImage,
          args: runtime.appArgs.length > 0 ? [...runtime.appArgs] : undefined,
          port: runtime.port ?? 8080,
          readinessPath: plan.basePath
        }
      })
  })
)
