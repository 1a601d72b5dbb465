/**
 * The App Store's REST API under `/api/v1`: apps, versions (with icon, screenshots, bundle),
 * tags, instances (launch, suspend, resume, terminate, logs), secrets and aliases. Inputs are
 * decoded with Schema here; every decision is the use cases' (and so the policy's); errors map
 * to problems through the app's one table. `openapi.ts` describes every route.
 */
import {
  type AppVersion,
  type CatalogEntry,
  createAlias,
  createTag,
  deleteAlias,
  deleteApp,
  deleteTag,
  deleteVersion,
  getApp,
  getInstance,
  getVersion,
  importBundle,
  type Instance,
  instanceLogs,
  instancesOfVersion,
  instancesUsingSecret,
  launch,
  listAliases,
  listApps,
  listInstances,
  listTags,
  listVersions,
  openAsset,
  resume,
  setInstanceVisibility,
  suspend,
  type TagId,
  terminate,
  updateApp,
  updateTag,
  type VersionId
} from "@aquifer/appstore"
import { type AppId, InvalidInput, type SecretId } from "@aquifer/core"
import { authorizeOrHide, Visibility } from "@aquifer/identity"
import { createSecret, deleteSecret, getSecret, listSecrets, SecretVisibility, updateSecret } from "@aquifer/secrets"
import { Effect, Schema, Stream } from "effect"
import { Hono, type Context } from "hono"
import { appRef } from "@aquifer/appstore"
import { AppCatalog, AppStoreSettings } from "@aquifer/appstore"
import type { Runner } from "../http_effect.ts"
import { callerOf, type IdentityEnv, requireSignIn } from "../identity/authenticate.ts"
import type { Platform } from "../platform.ts"
import { InstanceActivity } from "./layer.ts"
import { openApiDocument, openApiPage } from "./openapi.ts"

const decode = <S extends Schema.Decoder<unknown>>(schema: S, input: unknown) =>
  Schema.decodeUnknownEffect(schema)(input).pipe(
    Effect.mapError((error) => new InvalidInput({ message: `invalid request body: ${error.message}` }))
  )

const json = (c: Context) =>
  Effect.tryPromise({ try: () => c.req.json() as Promise<unknown>, catch: () => new InvalidInput({ message: "the body must be JSON" }) })

const versionView = (v: AppVersion) => ({
  id: v.id,
  appId: v.appId,
  version: v.version,
  title: v.manifest.title,
  description: v.manifest.description,
  longDescription: v.longDescription,
  tags: v.manifest.tags,
  lifecycle: v.manifest.instanceLifecycle,
  instanceTimeoutSeconds: v.manifest.instanceTimeoutMs < 0 ? -1 : v.manifest.instanceTimeoutMs / 1000,
  appMode: v.manifest.runtime?.appMode,
  linkAddress: v.manifest.linkAddress,
  env: v.manifest.env.map((e) => ({ name: e.name, secret: e.secret, secretKey: e.secretKey, optional: e.optional })),
  files: v.manifest.files.map((f) => ({ path: f.path, secret: f.secret, secretKey: f.secretKey, optional: f.optional })),
  icon: v.icon === undefined ? undefined : `/api/v1/versions/${v.id}/icon`,
  screenshots: v.screenshots.map((_, i) => `/api/v1/versions/${v.id}/screenshots/${i + 1}`),
  bundleSha256: v.bundleSha256,
  bundleSize: v.bundleSize,
  importedBy: v.importedBy,
  createdAt: v.createdAt
})

const entryView = (entry: CatalogEntry) => ({
  ...entry.app,
  latest: entry.latest === undefined ? undefined : versionView(entry.latest)
})

const instanceView = (i: Instance) => ({ ...i })

const Launch = Schema.Struct({ versionId: Schema.String, visibility: Schema.optional(Visibility) })
const AppPatch = Schema.Struct({ visibility: Schema.optional(Visibility), tags: Schema.optional(Schema.Array(Schema.String)) })
const TagInput = Schema.Struct({
  name: Schema.String,
  title: Schema.optional(Schema.String),
  color: Schema.optional(Schema.String),
  description: Schema.optional(Schema.String),
  isCategory: Schema.optional(Schema.Boolean),
  visitorRoles: Schema.optional(Schema.Array(Schema.String)),
  adminRoles: Schema.optional(Schema.Array(Schema.String))
})
const TagPatch = TagInput.mapFields(({ name: _name, ...rest }) => rest)
const InstancePatch = Schema.Struct({ visibility: Visibility })
const SecretInput = Schema.Struct({
  name: Schema.String,
  visibility: SecretVisibility,
  appName: Schema.optional(Schema.String),
  data: Schema.Record(Schema.String, Schema.String)
})
const SecretPatch = Schema.Struct({ data: Schema.Record(Schema.String, Schema.String), revision: Schema.optional(Schema.Int) })
const AliasInput = Schema.Struct({ name: Schema.String, instanceId: Schema.String })

/** Reads a request body up to `limit` bytes, streaming; longer bodies are refused (413). */
const readLimited = (c: Context, limit: number) =>
  Effect.tryPromise({
    try: async () => {
      const declared = Number(c.req.header("content-length") ?? "NaN")
      if (Number.isFinite(declared) && declared > limit) throw new RangeError("too large")
      const body = c.req.raw.body
      if (body === null) return new Uint8Array(0)
      const chunks: Array<Uint8Array> = []
      let size = 0
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.length
        if (size > limit) throw new RangeError("too large")
        chunks.push(chunk)
      }
      const out = new Uint8Array(size)
      let offset = 0
      for (const chunk of chunks) {
        out.set(chunk, offset)
        offset += chunk.length
      }
      return out
    },
    catch: (error) =>
      error instanceof RangeError
        ? { _tag: "PayloadTooLarge" as const, message: `the bundle exceeds ${limit} bytes` }
        : new InvalidInput({ message: "the request body could not be read" })
  })

export const appStoreRoutes = (runner: Runner<Platform>): Hono<IdentityEnv> => {
  const r = new Hono<IdentityEnv>()
  const run = <A, E extends { readonly _tag: string }>(c: Context<IdentityEnv>, effect: Effect.Effect<A, E, Platform>, respond: (a: A) => Response | Promise<Response>) =>
    runner.run(c, effect, respond)
  const me = (c: Context<IdentityEnv>) => callerOf(c)!
  const changed = (id: string) => Effect.flatMap(Effect.service(InstanceActivity), (a) => Effect.sync(() => a.changed(id)))

  r.get("/api/v1/openapi.json", (c) => c.json(openApiDocument))
  r.get("/api/v1/docs", (c) => c.html(openApiPage))

  // ---- apps and versions -------------------------------------------------------------------
  r.get("/api/v1/apps", (c) =>
    run(c, listApps(callerOf(c), {
      limit: c.req.query("limit") === undefined ? undefined : Number(c.req.query("limit")) || 50,
      cursor: c.req.query("cursor"),
      tag: c.req.query("tag") as TagId | undefined,
      mine: c.req.query("mine") === "true"
    }), (page) => c.json({ items: page.items.map(entryView), next: page.next })))

  r.post("/api/v1/apps", requireSignIn, (c) =>
    run(c, Effect.gen(function*() {
      const visibility = yield* decode(Schema.optional(Visibility), c.req.query("visibility"))
      const settings = yield* AppStoreSettings
      const bytes = yield* readLimited(c, settings.bundleLimits.maxBundleBytes)
      return yield* importBundle(me(c), bytes, { visibility })
    }), (result) => c.json({ app: result.app, version: versionView(result.version), ignoredTags: result.ignoredTags }, 201)))

  r.get("/api/v1/apps/:appId", (c) =>
    run(c, Effect.gen(function*() {
      const app = yield* getApp(callerOf(c), c.req.param("appId") as AppId)
      const versions = yield* listVersions(callerOf(c), app.id)
      const catalog = yield* AppCatalog
      const tags = (yield* catalog.listTags()).filter((t) => app.tags.includes(t.id))
      return { ...app, tags, versions: versions.map(versionView) }
    }), (body) => c.json(body)))

  r.patch("/api/v1/apps/:appId", requireSignIn, (c) =>
    run(c, Effect.gen(function*() {
      const patch = yield* Effect.flatMap(json(c), (body) => decode(AppPatch, body))
      return yield* updateApp(me(c), c.req.param("appId") as AppId, patch)
    }), (app) => c.json(app)))

  r.delete("/api/v1/apps/:appId", requireSignIn, (c) =>
    run(c, deleteApp(me(c), c.req.param("appId") as AppId, instancesOfVersion), () => c.body(null, 204)))

  r.get("/api/v1/apps/:appId/versions", (c) =>
    run(c, listVersions(callerOf(c), c.req.param("appId") as AppId), (versions) => c.json({ items: versions.map(versionView) })))

  r.get("/api/v1/versions/:versionId", (c) =>
    run(c, getVersion(callerOf(c), c.req.param("versionId") as VersionId), ({ version }) => c.json(versionView(version))))

  r.delete("/api/v1/versions/:versionId", requireSignIn, (c) =>
    run(c, deleteVersion(me(c), c.req.param("versionId") as VersionId, instancesOfVersion), () => c.body(null, 204)))

  const asset = (c: Context<IdentityEnv>, name: string) =>
    run(c, openAsset(callerOf(c), c.req.param("versionId") as VersionId, name), (opened) =>
      new Response(opened.body, {
        headers: {
          "content-type": opened.contentType,
          "content-length": String(opened.size),
          etag: `"${opened.etag}"`,
          "cache-control": name === "bundle" ? "private, no-store" : "private, max-age=3600",
          "x-content-type-options": "nosniff",
          ...(name === "bundle" ? { "content-disposition": "attachment; filename=\"bundle.wave\"" } : {})
        }
      }))
  r.get("/api/v1/versions/:versionId/icon", (c) => asset(c, "icon"))
  r.get("/api/v1/versions/:versionId/screenshots/:n{[0-9]{1,3}}", (c) => asset(c, `screenshot-${c.req.param("n")}`))
  r.get("/api/v1/versions/:versionId/bundle", requireSignIn, (c) => asset(c, "bundle"))

  // ---- tags --------------------------------------------------------------------------------
  r.get("/api/v1/tags", (c) => run(c, listTags(), (tags) => c.json({ items: tags })))
  r.post("/api/v1/tags", requireSignIn, (c) =>
    run(c, Effect.flatMap(Effect.flatMap(json(c), (b) => decode(TagInput, b)), (input) => createTag(me(c), input)), (tag) => c.json(tag, 201)))
  r.patch("/api/v1/tags/:tagId", requireSignIn, (c) =>
    run(c, Effect.flatMap(Effect.flatMap(json(c), (b) => decode(TagPatch, b)), (patch) => updateTag(me(c), c.req.param("tagId") as TagId, patch)), (tag) => c.json(tag)))
  r.delete("/api/v1/tags/:tagId", requireSignIn, (c) => run(c, deleteTag(me(c), c.req.param("tagId") as TagId), () => c.body(null, 204)))

  // ---- instances ---------------------------------------------------------------------------
  r.get("/api/v1/instances", requireSignIn, (c) =>
    run(c, listInstances(me(c), { appId: c.req.query("appId"), mine: c.req.query("mine") === "true" }), (items) => c.json({ items: items.map(instanceView) })))

  r.post("/api/v1/instances", requireSignIn, (c) =>
    run(c, Effect.gen(function*() {
      const input = yield* Effect.flatMap(json(c), (b) => decode(Launch, b))
      return yield* launch(me(c), { versionId: input.versionId as VersionId, visibility: input.visibility })
    }), (instance) => c.json(instanceView(instance), 201, { location: `/api/v1/instances/${instance.id}` })))

  r.get("/api/v1/instances/:id", requireSignIn, (c) => run(c, getInstance(me(c), c.req.param("id")), (i) => c.json(instanceView(i))))

  r.patch("/api/v1/instances/:id", requireSignIn, (c) =>
    run(c, Effect.gen(function*() {
      const patch = yield* Effect.flatMap(json(c), (b) => decode(InstancePatch, b))
      const updated = yield* setInstanceVisibility(me(c), c.req.param("id"), patch.visibility)
      yield* changed(updated.id)
      return updated
    }), (i) => c.json(instanceView(i))))

  r.post("/api/v1/instances/:id/suspend", requireSignIn, (c) =>
    run(c, Effect.tap(suspend(me(c), c.req.param("id")), (i) => changed(i.id)), (i) => c.json(instanceView(i))))
  r.post("/api/v1/instances/:id/resume", requireSignIn, (c) =>
    run(c, Effect.tap(resume(me(c), c.req.param("id")), (i) => changed(i.id)), (i) => c.json(instanceView(i))))
  r.delete("/api/v1/instances/:id", requireSignIn, (c) =>
    run(c, Effect.tap(terminate(me(c), c.req.param("id")), () => changed(c.req.param("id"))), () => c.body(null, 204)))

  r.get("/api/v1/instances/:id/logs", requireSignIn, (c) =>
    run(c, Effect.gen(function*() {
      const tail = c.req.query("tail")
      const stream = yield* instanceLogs(me(c), c.req.param("id"), {
        previous: c.req.query("previous") === "true",
        follow: c.req.query("follow") === "true",
        tailLines: tail === undefined ? undefined : Math.max(0, Math.min(100_000, Number(tail) || 0))
      })
      return Stream.toReadableStream(stream.pipe(Stream.map((line) => new TextEncoder().encode(`${line}\n`)), Stream.catch(() => Stream.empty)))
    }), (body) => new Response(body, { headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff" } })))

  // ---- secrets -----------------------------------------------------------------------------
  r.get("/api/v1/secrets", requireSignIn, (c) =>
    run(c, listSecrets(me(c), { visibility: c.req.query("visibility") as never, appName: c.req.query("appName") }), (items) => c.json({ items })))

  r.post("/api/v1/secrets", requireSignIn, (c) =>
    run(c, Effect.gen(function*() {
      const input = yield* Effect.flatMap(json(c), (b) => decode(SecretInput, b))
      const caller = me(c)
      const appAccess = input.appName === undefined ? undefined : Effect.gen(function*() {
        const app = yield* (yield* AppCatalog).findApp(input.appName!)
        if (app === undefined) return yield* new InvalidInput({ message: `there is no app ${input.appName}`, field: "appName" })
        yield* authorizeOrHide(caller, "update", { ...(yield* appRef(app)), id: app.id })
      }).pipe(Effect.provideService(AppCatalog, yield* AppCatalog))
      return yield* createSecret(caller, input, { appAccess })
    }), (secret) => c.json(secret, 201, { location: `/api/v1/secrets/${secret.id}` })))

  r.get("/api/v1/secrets/:id", requireSignIn, (c) => run(c, getSecret(me(c), c.req.param("id") as SecretId), (s) => c.json(s)))
  r.put("/api/v1/secrets/:id", requireSignIn, (c) =>
    run(c, Effect.flatMap(Effect.flatMap(json(c), (b) => decode(SecretPatch, b)), (input) => updateSecret(me(c), c.req.param("id") as SecretId, input)), (s) => c.json(s)))
  r.delete("/api/v1/secrets/:id", requireSignIn, (c) =>
    run(c, deleteSecret(me(c), c.req.param("id") as SecretId, (secret) => instancesUsingSecret(secret.id)), () => c.body(null, 204)))

  // ---- aliases -----------------------------------------------------------------------------
  r.get("/api/v1/aliases", requireSignIn, (c) => run(c, listAliases(me(c), c.req.query("instanceId")), (items) => c.json({ items })))
  r.post("/api/v1/aliases", requireSignIn, (c) =>
    run(c, Effect.flatMap(Effect.flatMap(json(c), (b) => decode(AliasInput, b)), (input) => createAlias(me(c), input.name, input.instanceId)), (a) => c.json(a, 201)))
  r.delete("/api/v1/aliases/:name", requireSignIn, (c) => run(c, deleteAlias(me(c), c.req.param("name")), () => c.body(null, 204)))

  return r
}
