import { assert, describe, it } from "@effect/vitest"
import { layerMemory as auditMemory } from "@aquifer/audit"
import { AppStoreSettings, defaultAppStoreConfig, importBundle, launch, layerMemory as catalogMemory, workloadNameOf } from "@aquifer/appstore"
import { layerMemory as blobMemory } from "@aquifer/blob"
import { layer as bundleZip } from "@aquifer/bundle-zip"
import { Principal } from "@aquifer/core"
import { layerMemory as schedulerMemory, Scheduler } from "@aquifer/scheduler"
import { layerCipherMemory, layerStoreMemory } from "@aquifer/secrets"
import { Effect, Layer } from "effect"
import { containerBundle, helloBundle } from "../appstore/_test_bundles.ts"
import { layer as imageLauncher } from "./image_launcher.ts"

// What a container scheduler would be asked to run; the in-memory scheduler stands in for
// Kubernetes (the Kubernetes adapter has its own tests against an API server).
const services = Layer.mergeAll(
  catalogMemory,
  blobMemory,
  bundleZip,
  imageLauncher,
  schedulerMemory(),
  layerStoreMemory,
  layerCipherMemory,
  auditMemory,
  Layer.succeed(AppStoreSettings, { ...defaultAppStoreConfig, publicUrl: "https://aquifer.example" })
)
const alice = { principal: Principal.make({ issuer: "https://id.test", subject: "alice", name: "Alice", groups: [], roles: ["full"] }) }

describe("the image launcher (container apps on Kubernetes; in-memory scheduler)", () => {
  it.effect("runs a container app's CustomImage on its Port with the platform env", () =>
    Effect.gen(function*() {
      const { version } = yield* importBundle(alice, containerBundle())
      const instance = yield* launch(alice, { versionId: version.id })
      const workload = yield* Scheduler.use((s) => s.get(workloadNameOf(instance.id)))
      assert.strictEqual(workload.spec.image, "ghcr.io/acme/boxed:1")
      assert.isUndefined(workload.spec.command)
      assert.strictEqual(workload.spec.port, 8080)
      assert.strictEqual(workload.spec.readinessPath, `/instances/${instance.id}/`)
      assert.strictEqual(workload.spec.env?.H2O_CLOUD_APP_NAME, "boxed")
      assert.strictEqual(workload.spec.env?.H2O_WAVE_BASE_URL, `/instances/${instance.id}/`)
    }).pipe(Effect.provide(services)))

  it.effect("refuses python and wave apps with a message saying what to do", () =>
    Effect.gen(function*() {
      const { version } = yield* importBundle(alice, helloBundle())
      const error = yield* Effect.flip(launch(alice, { versionId: version.id }))
      assert.strictEqual(error._tag, "LaunchRefused")
      assert.match(error.message, /python app; on Kubernetes this platform runs only container apps/)
      assert.deepStrictEqual(yield* Scheduler.use((s) => s.list()), [])
    }).pipe(Effect.provide(services)))
})
