/**
 * The `AppCatalog` conformance kit. Every implementation runs it in one line:
 *
 * ```ts
 * import { suite } from "@aquifer/appstore/testing"
 * suite("postgres", layerAppCatalog.pipe(Layer.provide(postgresTestLayer())))
 * ```
 *
 * The layer is built once for the suite and may hold other rows: each case uses names of its own.
 * @module
 */
import { assert, describe, layer } from "@effect/vitest"
import { newAppId, randomId } from "@aquifer/core"
import { Effect, type Layer } from "effect"
import { Alias, App, AppCatalog, AppVersion, newTagId, newVersionId, Tag } from "./catalog.ts"
import { AppManifest } from "./manifest.ts"

const at = (seconds: number) => new Date(Date.UTC(2026, 11, 6, 12, 0, seconds))

/** A fresh app record with a unique name. */
export const sampleApp = (overrides: Partial<App> = {}): App =>
  new App({
    id: newAppId(),
    name: randomId("kit").slice(0, 20),
    owner: "https://issuer.test#alice",
    visibility: "PRIVATE",
    tags: [],
    createdAt: at(0),
    updatedAt: at(0),
    ...overrides
  })

/** A version record of `app`. */
export const sampleVersion = (app: App, version: string, overrides: Partial<AppVersion> = {}): AppVersion =>
  new AppVersion({
    id: newVersionId(),
    appId: app.id,
    version,
    manifest: new AppManifest({
      name: app.name,
      version,
      title: `Title ✓ ${app.name}`,
      description: "d",
      tags: [],
      instanceLifecycle: "ON_DEMAND",
      instanceTimeoutMs: 3_600_000,
      runtime: {
        module: "app",
        appMode: "python",
        appArgs: [],
        appEntryPoint: [],
        gpuCount: 0,
        enableOIDC: false,
        enableSHM: false,
        routingMode: "BASE_URL"
      },
      env: [{ name: "TOKEN", secret: "warehouse", secretKey: "token", optional: false }],
      files: []
    }),
    bundleKey: `appstore/bundles/${app.id}/${version}.wave`,
    bundleSha256: "0".repeat(64),
    bundleSize: 1234,
    icon: { key: `appstore/assets/${app.id}/icon.png`, contentType: "image/png", size: 10 },
    screenshots: [{ key: `appstore/assets/${app.id}/screenshot1.jpg`, contentType: "image/jpeg", size: 20 }],
    longDescription: "# Hello\n",
    requirementsHash: "f".repeat(64),
    importedBy: app.owner,
    createdAt: at(1),
    ...overrides
  })

export const suite = <E>(name: string, catalogLayer: Layer.Layer<AppCatalog, E>): void => {
  describe(`AppCatalog conformance: ${name}`, () => {
    layer(catalogLayer, { timeout: 120_000 })((it) => {
      it.effect("stores an app and its versions with every field intact", () =>
        Effect.gen(function*() {
          const catalog = yield* AppCatalog
          const app = sampleApp()
          assert.deepStrictEqual(yield* catalog.insertApp(app), app)
          assert.deepStrictEqual(yield* catalog.getApp(app.id), app)
          assert.deepStrictEqual(yield* catalog.findApp(app.name), app)
          assert.isUndefined(yield* catalog.findApp(`${app.name}x`))
          const v1 = sampleVersion(app, "1.0.0")
          const v2 = sampleVersion(app, "1.1.0-rc.1+build.7", { createdAt: at(2), icon: undefined, longDescription: undefined })
          yield* catalog.insertVersion(v1)
          yield* catalog.insertVersion(v2)
          assert.deepStrictEqual(yield* catalog.getVersion(v1.id), v1)
          assert.deepStrictEqual(yield* catalog.getVersion(v2.id), v2)
          assert.deepStrictEqual((yield* catalog.listVersions(app.id)).map((v) => v.id), [v2.id, v1.id])
        }))

      it.effect("keeps names unique: apps, versions of an app, tags and aliases", () =>
        Effect.gen(function*() {
          const catalog = yield* AppCatalog
          const app = yield* catalog.insertApp(sampleApp())
          const twin = yield* Effect.flip(catalog.insertApp(sampleApp({ name: app.name })))
          assert.strictEqual(twin._tag, "AlreadyExists")
          yield* catalog.insertVersion(sampleVersion(app, "2.0.0"))
          const again = yield* Effect.flip(catalog.insertVersion(sampleVersion(app, "2.0.0")))
          assert.strictEqual(again._tag, "AlreadyExists")
          const other = yield* catalog.insertApp(sampleApp())
          yield* catalog.insertVersion(sampleVersion(other, "2.0.0"))
          const tagName = randomId("t").slice(0, 12)
          const tag = new Tag({ id: newTagId(), name: tagName, title: "T", color: "#ff0000", description: "", isCategory: false, visitorRoles: [], adminRoles: [], createdAt: at(0) })
          yield* catalog.insertTag(tag)
          assert.strictEqual((yield* Effect.flip(catalog.insertTag(new Tag({ ...tag, id: newTagId() }))))._tag, "AlreadyExists")
          const alias = new Alias({ name: randomId("a").slice(0, 14), instanceId: "ins_1", createdBy: "x", createdAt: at(0) })
          yield* catalog.insertAlias(alias)
          assert.strictEqual((yield* Effect.flip(catalog.insertAlias(alias)))._tag, "AlreadyExists")
        }))

      it.effect("updates visibility and tags, and deleting a tag takes it off its apps", () =>
        Effect.gen(function*() {
          const catalog = yield* AppCatalog
          const app = yield* catalog.insertApp(sampleApp())
          const tag = yield* catalog.insertTag(
            new Tag({ id: newTagId(), name: randomId("t").slice(0, 12), title: "Finance", color: "#00ff00", description: "money", isCategory: true, visitorRoles: ["finance"], adminRoles: ["finance-admins"], createdAt: at(0) })
          )
          const updated = yield* catalog.updateApp(app.id, { visibility: "ALL_USERS", tags: [tag.id] }, at(30))
          assert.strictEqual(updated.visibility, "ALL_USERS")
          assert.deepStrictEqual(updated.tags, [tag.id])
          assert.strictEqual(updated.updatedAt.getTime(), at(30).getTime())
          assert.deepStrictEqual(yield* catalog.getApp(app.id), updated)
          const tagged = yield* catalog.listApps({ tag: tag.id })
          assert.deepStrictEqual(tagged.items.map((a) => a.id), [app.id])
          const retitled = yield* catalog.updateTag(tag.id, { title: "Money", visitorRoles: [] })
          assert.strictEqual(retitled.title, "Money")
          assert.deepStrictEqual(retitled.visitorRoles, [])
          assert.deepStrictEqual(retitled.adminRoles, ["finance-admins"])
          yield* catalog.deleteTag(tag.id)
          assert.deepStrictEqual((yield* catalog.getApp(app.id)).tags, [])
          assert.strictEqual((yield* Effect.flip(catalog.getTag(tag.id)))._tag, "NotFound")
        }))

      it.effect("pages apps by name, visiting each once, and refuses forged cursors", () =>
        Effect.gen(function*() {
          const catalog = yield* AppCatalog
          const owner = `https://issuer.test#${randomId("o")}`
          const names = Array.from({ length: 7 }, (_, i) => `${randomId("p").slice(0, 10)}-${i}`)
          for (const name of names) yield* catalog.insertApp(sampleApp({ name, owner }))
          const seen: Array<string> = []
          let cursor: string | undefined
          do {
            const page = yield* catalog.listApps({ owner, limit: 3, cursor })
            seen.push(...page.items.map((a) => a.name))
            cursor = page.next
          } while (cursor !== undefined)
          assert.deepStrictEqual(seen, [...names].sort())
          assert.strictEqual((yield* Effect.flip(catalog.listApps({ cursor: "' OR 1=1 --" })))._tag, "InvalidInput")
        }))

      it.effect("deletes versions and apps, and says NotFound for what is gone", () =>
        Effect.gen(function*() {
          const catalog = yield* AppCatalog
          const app = yield* catalog.insertApp(sampleApp())
          const v = yield* catalog.insertVersion(sampleVersion(app, "0.1.0"))
          yield* catalog.deleteVersion(v.id)
          assert.strictEqual((yield* Effect.flip(catalog.getVersion(v.id)))._tag, "NotFound")
          assert.strictEqual((yield* Effect.flip(catalog.deleteVersion(v.id)))._tag, "NotFound")
          const w = yield* catalog.insertVersion(sampleVersion(app, "0.2.0"))
          yield* catalog.deleteApp(app.id)
          assert.strictEqual((yield* Effect.flip(catalog.getApp(app.id)))._tag, "NotFound")
          assert.strictEqual((yield* Effect.flip(catalog.getVersion(w.id)))._tag, "NotFound")
          assert.strictEqual((yield* Effect.flip(catalog.deleteApp(app.id)))._tag, "NotFound")
          assert.strictEqual((yield* Effect.flip(catalog.insertVersion(sampleVersion(app, "0.3.0"))))._tag, "NotFound")
        }))

      it.effect("keeps aliases and instance settings, and forgets both with the instance", () =>
        Effect.gen(function*() {
          const catalog = yield* AppCatalog
          const instance = randomId("ins")
          const a = yield* catalog.insertAlias(new Alias({ name: randomId("x").slice(0, 12), instanceId: instance, createdBy: "admin", createdAt: at(5) }))
          assert.deepStrictEqual(yield* catalog.getAlias(a.name), a)
          assert.deepStrictEqual((yield* catalog.listAliases(instance)).map((x) => x.name), [a.name])
          assert.isUndefined(yield* catalog.getInstanceSettings(instance))
          yield* catalog.putInstanceSettings(instance, { visibility: "ALL_USERS" })
          yield* catalog.putInstanceSettings(instance, { visibility: "PUBLIC" })
          assert.deepStrictEqual(yield* catalog.getInstanceSettings(instance), { visibility: "PUBLIC" })
          yield* catalog.deleteInstanceSettings(instance)
          assert.isUndefined(yield* catalog.getInstanceSettings(instance))
          assert.strictEqual((yield* Effect.flip(catalog.getAlias(a.name)))._tag, "NotFound")
          assert.strictEqual((yield* Effect.flip(catalog.deleteAlias(a.name)))._tag, "NotFound")
        }))

      it.effect("treats names as data, never as query syntax", () =>
        Effect.gen(function*() {
          const catalog = yield* AppCatalog
          assert.isUndefined(yield* catalog.findApp("x' OR '1'='1"))
          assert.strictEqual((yield* Effect.flip(catalog.getAlias("%")))._tag, "NotFound")
        }))
    })
  })
}
