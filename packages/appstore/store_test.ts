import { assert, describe, it } from "@effect/vitest"
import { layerMemory as auditMemory } from "@aquifer/audit"
import { layerMemory as blobMemory } from "@aquifer/blob"
import { Principal } from "@aquifer/core"
import { layerMemory as schedulerMemory, Scheduler } from "@aquifer/scheduler"
import { createSecret, layerCipherMemory, layerStoreMemory } from "@aquifer/secrets"
import { Effect, Layer, Redacted } from "effect"
import { type BundleContents, BundleReader } from "./bundle.ts"
import { AppManifest } from "./manifest.ts"
import { AppLauncher } from "./launcher.ts"
import { layerMemory } from "./memory.ts"
import { AppStoreSettings, defaultAppStoreConfig } from "./settings.ts"
import { createTag, deleteVersion, getApp, importBundle, listApps, openAsset, updateApp } from "./store.ts"
import { getInstance, instancesOfVersion, launch, listInstances, resume, setInstanceVisibility, suspend, suspendIdle, terminate, workloadNameOf } from "./instances.ts"

const person = (subject: string, roles: ReadonlyArray<"admin" | "full" | "visitor">, groups: ReadonlyArray<string> = []) => ({
  principal: Principal.make({ issuer: "https://id.test", subject, name: subject, groups: [...groups], roles: [...roles] })
})
const alice = person("alice", ["full"])
const bob = person("bob", ["full"])
const admin = person("root", ["admin"])
const visitor = person("vera", ["visitor"])

const manifest = (name: string, overrides: Partial<AppManifest> = {}) =>
  new AppManifest({
    name,
    version: "1.0.0",
    title: name,
    description: "",
    tags: [],
    instanceLifecycle: "ON_DEMAND",
    instanceTimeoutMs: 3_600_000,
    runtime: { module: "app", appMode: "python", appArgs: [], appEntryPoint: [], gpuCount: 0, enableOIDC: false, enableSHM: false, routingMode: "BASE_URL" },
    env: [{ name: "DB_PASSWORD", secret: "warehouse", secretKey: "password", optional: false }, { name: "GREETING", value: "hi", optional: false }],
    files: [],
    ...overrides
  })

const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3])

// A stand-in BundleReader: the archive bytes are the JSON of a manifest (the real zip reader is
// tested in adapters/bundle-zip; here only the use cases around it are).
const readerDouble = Layer.succeed(BundleReader, BundleReader.of({
  read: (archive) =>
    Effect.sync((): BundleContents => {
      const m = JSON.parse(new TextDecoder().decode(archive)) as { name: string; version?: string; lifecycle?: "MANAGED" | "LINK"; oidc?: boolean; plain?: boolean }
      const base = manifest(m.name)
      return {
        manifest: manifest(m.name, {
          version: m.version ?? "1.0.0",
          ...(m.oidc === true ? { runtime: { ...base.runtime!, enableOIDC: true }, env: [] } : {}),
          ...(m.plain === true ? { env: [] } : {}),
          ...(m.lifecycle === undefined ? {} : { instanceLifecycle: m.lifecycle }),
          ...(m.lifecycle === "LINK" ? { runtime: undefined, env: [], linkAddress: "https://example.com" } : {})
        }),
        entries: [],
        icon: { path: "static/icon.png", contentType: "image/png", bytes: png },
        screenshots: [],
        requirements: "",
        packages: "",
        sha256: "0".repeat(64)
      }
    })
}))

const launcherDouble = Layer.succeed(AppLauncher, AppLauncher.of({
  runnable: (plan) => Effect.succeed({ command: "/bin/true", args: [plan.basePath], port: 8000, readinessPath: plan.basePath })
}))

const services = Layer.mergeAll(
  layerMemory,
  blobMemory,
  readerDouble,
  launcherDouble,
  schedulerMemory(),
  layerStoreMemory,
  layerCipherMemory,
  auditMemory,
  Layer.succeed(AppStoreSettings, { ...defaultAppStoreConfig, publicUrl: "https://aquifer.test", maxInstancesPerUser: 2, maxInstancesPerVisitor: 1 })
)

const bundle = (name: string, extra: Record<string, string> = {}) => new TextEncoder().encode(JSON.stringify({ name, ...extra }))

describe("App Store use cases (in-memory ports; the bundle reader and launcher are test doubles)", () => {
  it.effect("imports, lists by visibility, serves the icon, and keeps versions to their owner", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* Effect.flip(importBundle(visitor, bundle("v"))))._tag, "Forbidden")
      const { app, version } = yield* importBundle(alice, bundle("demo"))
      assert.strictEqual(app.visibility, "PRIVATE")
      assert.deepStrictEqual((yield* listApps(bob, {})).items, [])
      assert.strictEqual((yield* Effect.flip(getApp(bob, app.id)))._tag, "NotFound")
      assert.deepStrictEqual((yield* listApps(alice, {})).items.map((e) => e.latest?.version), ["1.0.0"])
      yield* updateApp(alice, app.id, { visibility: "ALL_USERS" })
      assert.deepStrictEqual((yield* listApps(bob, {})).items.map((e) => e.app.name), ["demo"])
      assert.deepStrictEqual((yield* listApps(undefined, {})).items, [])
      const icon = yield* openAsset(bob, version.id, "icon")
      assert.deepStrictEqual(new Uint8Array(yield* Effect.promise(() => new Response(icon.body).arrayBuffer())), png)
      assert.strictEqual((yield* Effect.flip(openAsset(bob, version.id, "bundle")))._tag, "NotFound")
      const taken = yield* Effect.flip(importBundle(bob, bundle("demo", { version: "2.0.0" })))
      assert.strictEqual(taken._tag, "Forbidden")
      const again = yield* Effect.flip(importBundle(alice, bundle("demo")))
      assert.strictEqual(again._tag, "AlreadyExists")
      yield* importBundle(alice, bundle("demo", { version: "1.10.0" }))
      assert.strictEqual((yield* listApps(bob, {})).items[0]!.latest?.version, "1.10.0")
    }).pipe(Effect.provide(services)))

  it.effect("pages through the apps a caller may see, skipping hidden ones, each exactly once", () =>
    Effect.gen(function*() {
      const visible: Array<string> = []
      for (let i = 0; i < 12; i++) {
        const owner = i % 3 === 0 ? bob : alice
        const name = `app-${String(i).padStart(2, "0")}`
        yield* importBundle(owner, bundle(name), { visibility: i % 2 === 0 ? "PRIVATE" : "ALL_USERS" })
        if (owner === bob || i % 2 === 1) visible.push(name)
      }
      const seen: Array<string> = []
      let cursor: string | undefined
      let pages = 0
      do {
        const page = yield* listApps(bob, { limit: 2, cursor })
        assert.isAtMost(page.items.length, 2)
        seen.push(...page.items.map((e) => e.app.name))
        cursor = page.next
        pages++
      } while (cursor !== undefined && pages < 20)
      assert.deepStrictEqual(seen, visible)
    }).pipe(Effect.provide(services)))

  it.effect("shows a PRIVATE app to members of a tag's visitor roles", () =>
    Effect.gen(function*() {
      const tag = yield* createTag(admin, { name: "finance", visitorRoles: ["finance"], adminRoles: ["finance-admins"] })
      assert.strictEqual((yield* Effect.flip(createTag(alice, { name: "x" })))._tag, "Forbidden")
      const { app } = yield* importBundle(alice, bundle("ledger"))
      assert.strictEqual((yield* Effect.flip(updateApp(alice, app.id, { tags: ["finance"] })))._tag, "Forbidden")
      yield* updateApp(admin, app.id, { tags: [tag.name] })
      const carol = person("carol", ["full"], ["finance"])
      assert.deepStrictEqual((yield* listApps(carol, {})).items.map((e) => e.app.name), ["ledger"])
      assert.deepStrictEqual((yield* listApps(bob, {})).items, [])
      const dana = person("dana", ["full"], ["finance-admins"])
      const own = yield* importBundle(dana, bundle("budget"))
      assert.deepStrictEqual((yield* updateApp(dana, own.app.id, { tags: ["finance"] })).tags, [tag.id])
      assert.strictEqual((yield* Effect.flip(updateApp(dana, app.id, { tags: [] })))._tag, "NotFound")
      assert.deepStrictEqual((yield* listApps(carol, {})).items.map((e) => e.app.name), ["budget", "ledger"])
    }).pipe(Effect.provide(services)))

  it.effect("launches with platform env and secret refs, enforces limits and lifecycles, and manages instances", () =>
    Effect.gen(function*() {
      const { app, version } = yield* importBundle(alice, bundle("demo"), { visibility: "ALL_USERS" })
      const refused = yield* Effect.flip(launch(alice, { versionId: version.id }))
      assert.strictEqual(refused._tag, "LaunchRefused")
      assert.match(refused.message, /Env DB_PASSWORD needs secret "warehouse"/)
      assert.deepStrictEqual(yield* listInstances(alice), [])
      const secret = yield* createSecret(alice, { name: "warehouse", visibility: "PRIVATE", data: { password: "hunter2" } })
      const instance = yield* launch(alice, { versionId: version.id })
      assert.strictEqual(instance.owner, alice.principal.key)
      assert.strictEqual(instance.visibility, "PRIVATE")
      const workload = yield* Scheduler.use((s) => s.get(workloadNameOf(instance.id)))
      assert.strictEqual(workload.spec.env?.H2O_CLOUD_APP_NAME, "demo")
      assert.strictEqual(workload.spec.env?.H2O_CLOUD_APP_ID, app.id)
      assert.strictEqual(workload.spec.env?.H2O_CLOUD_INSTANCE_ID, instance.id)
      assert.strictEqual(workload.spec.env?.H2O_CLOUD_ENVIRONMENT, "https://aquifer.test")
      assert.strictEqual(workload.spec.env?.H2O_WAVE_BASE_URL, `/instances/${instance.id}/`)
      assert.strictEqual(workload.spec.env?.GREETING, "hi")
      assert.deepStrictEqual(workload.spec.secrets, [{ secret: secret.id, key: "password", env: "DB_PASSWORD" }])
      assert.isFalse(JSON.stringify(workload).includes("hunter2"))

      assert.strictEqual((yield* Effect.flip(getInstance(bob, instance.id)))._tag, "NotFound")
      assert.strictEqual((yield* Effect.flip(suspend(bob, instance.id)))._tag, "NotFound")
      yield* setInstanceVisibility(alice, instance.id, "ALL_USERS")
      assert.strictEqual((yield* getInstance(bob, instance.id)).visibility, "ALL_USERS")
      assert.strictEqual((yield* Effect.flip(suspend(bob, instance.id)))._tag, "Forbidden")
      assert.strictEqual((yield* suspend(alice, instance.id)).phase, "suspended")
      assert.strictEqual((yield* resume(alice, instance.id)).phase, "running")

      assert.deepStrictEqual(yield* instancesOfVersion(version), [`instance ${instance.id}`])
      const busy = yield* Effect.flip(deleteVersion(alice, version.id, instancesOfVersion))
      assert.match(busy.message, /has instances/)

      yield* launch(alice, { versionId: version.id })
      const limit = yield* Effect.flip(launch(alice, { versionId: version.id }))
      assert.strictEqual(limit._tag, "LimitExceeded")
      // A visitor may start their own instance of an app shared with them, within a lower limit.
      const byVisitor = yield* Effect.flip(launch(visitor, { versionId: version.id }))
      assert.strictEqual(byVisitor._tag, "LaunchRefused", "past authorization, stopped by the missing secret")
      const open = yield* importBundle(alice, new TextEncoder().encode(JSON.stringify({ name: "open", plain: true })), { visibility: "ALL_USERS" })
      const visiting = yield* launch(visitor, { versionId: open.version.id })
      assert.strictEqual(visiting.owner, visitor.principal.key)
      assert.strictEqual((yield* Effect.flip(launch(visitor, { versionId: open.version.id })))._tag, "LimitExceeded")
      yield* terminate(visitor, visiting.id)
      const privateApp = yield* importBundle(alice, new TextEncoder().encode(JSON.stringify({ name: "closed", plain: true })))
      assert.strictEqual((yield* Effect.flip(launch(visitor, { versionId: privateApp.version.id })))._tag, "NotFound")

      for (const i of yield* listInstances(alice, { mine: true })) yield* terminate(alice, i.id)
      assert.deepStrictEqual(yield* listInstances(alice), [])
      yield* deleteVersion(alice, version.id, instancesOfVersion)

      const managed = yield* importBundle(alice, bundle("shared", { lifecycle: "MANAGED" }), { visibility: "ALL_USERS" })
      yield* createSecret(bob, { name: "warehouse", visibility: "PRIVATE", data: { password: "b" } })
      const notOwner = yield* Effect.flip(launch(bob, { versionId: managed.version.id }))
      assert.match(notOwner.message, /MANAGED app/)
      const link = yield* importBundle(alice, bundle("docs", { lifecycle: "LINK" }))
      assert.match((yield* Effect.flip(launch(alice, { versionId: link.version.id }))).message, /LINK app/)
    }).pipe(Effect.provide(services)))

  it.effect("hands apps with EnableOIDC the apps' OIDC client (its secret as a secret ref), and refuses them without one", () =>
    Effect.gen(function*() {
      const { version } = yield* importBundle(alice, new TextEncoder().encode(JSON.stringify({ name: "sso", oidc: true })))
      const refused = yield* Effect.flip(launch(alice, { versionId: version.id }))
      assert.match(refused.message, /EnableOIDC/)
      const withOidc = Layer.succeed(AppStoreSettings, {
        ...defaultAppStoreConfig,
        publicUrl: "https://aquifer.test",
        oidc: { providerUrl: "https://aquifer.test/oidc", clientId: "apps", clientSecret: Redacted.make("client-s3cret") }
      })
      const instance = yield* launch(alice, { versionId: version.id }).pipe(Effect.provide(withOidc))
      const workload = yield* Scheduler.use((s) => s.get(workloadNameOf(instance.id)))
      assert.strictEqual(workload.spec.env?.H2O_WAVE_OIDC_PROVIDER_URL, "https://aquifer.test/oidc")
      assert.strictEqual(workload.spec.env?.H2O_WAVE_OIDC_CLIENT_ID, "apps")
      assert.strictEqual(workload.spec.env?.H2O_WAVE_OIDC_REDIRECT_URL, `https://aquifer.test/instances/${instance.id}/_auth/callback`)
      assert.deepStrictEqual(workload.spec.secrets, [{ secret: "aquifer-apps-oidc", key: "clientSecret", env: "H2O_WAVE_OIDC_CLIENT_SECRET" }])
      assert.notInclude(JSON.stringify(workload), "client-s3cret")
    }).pipe(Effect.provide(services)))

  it.effect("suspends instances idle past their timeout, and only those", () =>
    Effect.gen(function*() {
      yield* createSecret(alice, { name: "warehouse", visibility: "PRIVATE", data: { password: "p" } })
      const { version } = yield* importBundle(alice, bundle("idle"))
      const busy = yield* launch(alice, { versionId: version.id })
      const quiet = yield* launch(alice, { versionId: version.id })
      const start = Date.parse(quiet.updatedAt)
      const later = start + 3_600_000 + 1000
      const suspended = yield* suspendIdle((id) => (id === busy.id ? later - 5000 : undefined), later)
      assert.deepStrictEqual(suspended, [quiet.id])
      assert.strictEqual((yield* getInstance(alice, quiet.id)).phase, "suspended")
      assert.strictEqual((yield* getInstance(alice, busy.id)).phase, "running")
    }).pipe(Effect.provide(services)))
})
