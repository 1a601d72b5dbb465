import { afterAll, assert, describe, layer } from "@effect/vitest"
import { layerMemory as auditMemory } from "@aquifer/audit"
import {
  AppCatalog,
  AppStoreSettings,
  defaultAppStoreConfig,
  getInstance,
  importBundle,
  instanceLogs,
  launch,
  layerMemory as catalogMemory,
  resume,
  suspend,
  terminate,
  workloadNameOf
} from "@aquifer/appstore"
import { layer as blobFs } from "@aquifer/blob-fs"
import { layer as bundleZip } from "@aquifer/bundle-zip"
import { Principal } from "@aquifer/core"
import { Scheduler } from "@aquifer/scheduler"
import { layer as localScheduler } from "@aquifer/scheduler-local"
import { createSecret, layerCipherMemory, layerStoreMemory } from "@aquifer/secrets"
import { Effect, Fiber, Layer, Schedule, Stream } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { brokenRequirementsBundle, containerBundle, helloBundle, packagesBundle, unreachableIndexBundle } from "../appstore/_test_bundles.ts"
import { layer as localLauncher } from "./local_launcher.ts"

const home = mkdtempSync(join(tmpdir(), "aquifer-launcher-"))
afterAll(() => rmSync(home, { recursive: true, force: true }))
const venvs = join(import.meta.dirname, "..", "..", "..", ".venvs", "appstore-launcher")

const alice = { principal: Principal.make({ issuer: "https://id.test", subject: "alice", name: "Alice", groups: [], roles: ["full"] }) }

const blobs = blobFs({ root: join(home, "blobs") })
const services = Layer.mergeAll(
  catalogMemory,
  blobs,
  bundleZip,
  localLauncher({ home, venvs }).pipe(Layer.provide(blobs)),
  localScheduler({ home, stopGraceMs: 3000, backoffInitialMs: 60_000, onShutdown: "stop" }),
  layerStoreMemory,
  layerCipherMemory,
  auditMemory,
  Layer.succeed(AppStoreSettings, { ...defaultAppStoreConfig, publicUrl: "http://aquifer.test" })
)

const until = <A, E, R>(effect: Effect.Effect<A, E, R>, ok: (a: A) => boolean, what: string, seconds = 60) =>
  effect.pipe(
    Effect.flatMap((a) => (ok(a) ? Effect.succeed(a) : Effect.fail(new Error(`not yet: ${what}`)))),
    Effect.retry({ schedule: Schedule.spaced("200 millis"), times: seconds * 5 }),
    Effect.orDie
  )

describe("the local launcher (real processes on the local scheduler)", () => {
  layer(services, { timeout: 180_000, excludeTestServices: true })((it) => {
    it.effect("runs a python-mode app with its env, secrets and files; suspends, resumes and terminates it", () =>
      Effect.gen(function*() {
        yield* createSecret(alice, { name: "warehouse", visibility: "PRIVATE", data: { password: "hunter2", token: "tok-123" } })
        const { version } = yield* importBundle(alice, helloBundle())
        const launched = yield* launch(alice, { versionId: version.id })
        const ready = yield* until(getInstance(alice, launched.id), (i) => i.phase === "running" && i.ready, "instance ready")
        assert.strictEqual(ready.path, `/instances/${launched.id}/`)
        const scheduler = yield* Scheduler
        const endpoint = yield* scheduler.endpoint(workloadNameOf(launched.id))
        const body = yield* Effect.promise(() => fetch(`${endpoint.url}/instances/${launched.id}/ping`).then((r) => r.json() as Promise<{ env: Record<string, string>; path: string; secretFile: string; literalFile: string }>))
        assert.strictEqual(body.path, `/instances/${launched.id}/ping`)
        assert.strictEqual(body.env.H2O_CLOUD_APP_NAME, "hello")
        assert.strictEqual(body.env.H2O_CLOUD_APP_VERSION, "1.0.0")
        assert.strictEqual(body.env.H2O_CLOUD_INSTANCE_ID, launched.id)
        assert.strictEqual(body.env.H2O_CLOUD_ENVIRONMENT, "http://aquifer.test")
        assert.strictEqual(body.env.H2O_WAVE_BASE_URL, `/instances/${launched.id}/`)
        assert.strictEqual(body.env.GREETING, "bonjour")
        assert.strictEqual(body.env.DB_PASSWORD, "hunter2")
        assert.strictEqual(body.secretFile, "tok-123")
        assert.strictEqual(body.literalFile, "[main]\nmode = test\n")

        const following = yield* Effect.flatMap(instanceLogs(alice, launched.id, { follow: true, tailLines: 1 }), (stream) =>
          stream.pipe(Stream.filter((line) => line.includes("follow-probe")), Stream.take(1), Stream.runCollect)
        ).pipe(Effect.timeout("20 seconds"), Effect.forkChild)
        yield* Effect.sleep("500 millis")
        yield* Effect.promise(() => fetch(`${endpoint.url}/instances/${launched.id}/follow-probe`).then((r) => r.text()))
        const followed = yield* Fiber.join(following)
        assert.deepStrictEqual([...followed], [`served /instances/${launched.id}/follow-probe`])

        const logs = yield* Effect.flatMap(instanceLogs(alice, launched.id, {}), (stream) => Stream.runCollect(stream))
        assert.isTrue(logs.some((line) => line.includes("aquifer-launcher: starting")), logs.join("\n"))
        assert.isFalse(logs.some((line) => line.includes("hunter2")))

        yield* suspend(alice, launched.id)
        assert.strictEqual((yield* getInstance(alice, launched.id)).phase, "suspended")
        const refused = yield* Effect.flip(scheduler.endpoint(workloadNameOf(launched.id)))
        assert.strictEqual(refused._tag, "EndpointUnavailable")
        yield* resume(alice, launched.id)
        yield* until(getInstance(alice, launched.id), (i) => i.phase === "running" && i.ready, "resumed")
        yield* terminate(alice, launched.id)
        assert.strictEqual((yield* Effect.flip(getInstance(alice, launched.id)))._tag, "NotFound")
        assert.strictEqual((yield* Effect.flip(scheduler.get(workloadNameOf(launched.id))))._tag, "WorkloadNotFound")
        assert.isUndefined(yield* (yield* AppCatalog).getInstanceSettings(launched.id))
      }), 120_000)

    it.effect("refuses a container app with a clear message, deploying nothing", () =>
      Effect.gen(function*() {
        const { version } = yield* importBundle(alice, containerBundle())
        const before = (yield* (yield* Scheduler).list()).length
        const error = yield* Effect.flip(launch(alice, { versionId: version.id }))
        assert.strictEqual(error._tag, "LaunchRefused")
        assert.match(error.message, /container app.*Kubernetes scheduler/)
        assert.strictEqual((yield* (yield* Scheduler).list()).length, before)
      }), 60_000)

    it.effect("reports requirements that cannot be installed in the status and the logs", () =>
      Effect.gen(function*() {
        const { version } = yield* importBundle(alice, brokenRequirementsBundle())
        const launched = yield* launch(alice, { versionId: version.id })
        const failed = yield* until(getInstance(alice, launched.id), (i) => i.phase === "failed", "instance failed", 120)
        assert.match(failed.message ?? "", /dependencies could not be installed/)
        const logs = yield* Effect.flatMap(instanceLogs(alice, launched.id, { previous: false }), (stream) => Stream.runCollect(stream))
        assert.isTrue(logs.some((line) => /installing requirements.txt failed .*(no release of aquifer-no-such-package-f00d|index could not be reached)/.test(line)), logs.join("\n"))
        yield* terminate(alice, launched.id)
      }), 180_000)

    it.effect("checks packages.txt against the OS packages before starting", () =>
      Effect.gen(function*() {
        const { version } = yield* importBundle(alice, packagesBundle())
        const launched = yield* launch(alice, { versionId: version.id })
        yield* until(getInstance(alice, launched.id), (i) => i.phase === "running" && i.ready, "instance ready")
        const logs = yield* Effect.flatMap(instanceLogs(alice, launched.id, {}), (stream) => Stream.runCollect(stream))
        assert.isTrue(logs.some((line) => line.includes("packages.txt: coreutils already installed")), logs.join("\n"))
        yield* terminate(alice, launched.id)
      }), 120_000)

    it.effect("says so when the package index cannot be reached", () =>
      Effect.gen(function*() {
        const { version } = yield* importBundle(alice, unreachableIndexBundle())
        const launched = yield* launch(alice, { versionId: version.id })
        const failed = yield* until(getInstance(alice, launched.id), (i) => i.phase === "failed", "instance failed", 120)
        assert.match(failed.message ?? "", /dependencies could not be installed/)
        const logs = yield* Effect.flatMap(instanceLogs(alice, launched.id, {}), (stream) => Stream.runCollect(stream))
        assert.isTrue(logs.some((line) => line.includes("the Python package index could not be reached")), logs.join("\n"))
        yield* terminate(alice, launched.id)
      }), 180_000)
  })
})
