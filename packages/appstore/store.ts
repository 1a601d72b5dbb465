/**
 * Catalog use cases: import a bundle, list and read apps and versions, change visibility and
 * tags, delete versions and apps, serve static assets, manage tags and aliases. Every decision
 * of who may do what goes through the identity policy (`authorize`, `authorizeOrHide`, `can`).
 *
 * Import is all-or-nothing: the bundle is checked whole before anything is written; blobs are
 * written under keys of the new version only, then the records; if the records cannot be
 * written (a concurrent import of the same version won), the blobs are removed again.
 * @module
 */
import { AuditLog } from "@aquifer/audit"
import { BlobStore } from "@aquifer/blob"
import {
  AlreadyExists,
  type AppId,
  Conflict,
  Forbidden,
  InvalidInput,
  newAppId,
  NotFound,
  now,
  sha256Hex,
  Unavailable
} from "@aquifer/core"
import { authorize, authorizeOrHide, can, type Caller, type ResourceRef, type Visibility } from "@aquifer/identity"
import { Effect } from "effect"
import { BundleReader } from "./bundle.ts"
import { Alias, App, type AppVersion, AppCatalog, AppVersion as AppVersionClass, newTagId, newVersionId, Tag, type TagId, type VersionId } from "./catalog.ts"
import { AppStoreSettings } from "./settings.ts"
import { appCursorOf } from "./memory.ts"
import { compareSemver } from "./semver.ts"

const toUnavailable = (error: { readonly message: string }) => new Unavailable({ message: `blob store: ${error.message}` })

/** The facts the policy needs about an app: owner, visibility, and the groups its tags admit. */
export const appRef = Effect.fnUntraced(function*(app: App) {
  const catalog = yield* AppCatalog
  const groups = new Set<string>()
  if (app.tags.length > 0) {
    for (const tag of yield* catalog.listTags()) if (app.tags.includes(tag.id)) for (const role of tag.visitorRoles) groups.add(role)
  }
  return { kind: "app", id: app.id, owner: app.owner, visibility: app.visibility, sharedWith: { groups: [...groups] } } satisfies ResourceRef<"app">
})

const record = (caller: Caller, action: string, kind: string, id: string, details: Record<string, string | number | boolean> = {}) =>
  AuditLog.use((audit) => audit.record({ actor: caller.principal.key, action, resource: { kind, id }, details })).pipe(Effect.ignore)

/** The facts the policy needs about a tag: who may put it on apps (its admin roles, or anyone). */
export const tagRef = (tag: Tag): ResourceRef<"tag"> & { readonly id: string } => ({
  kind: "tag",
  id: tag.id,
  visibility: tag.adminRoles.length === 0 ? "ALL_USERS" : "PRIVATE",
  sharedWith: { groups: tag.adminRoles }
})

/** May `caller` put `tag` on apps or take it off (besides managing the app)? The policy's `tag.assign`. */
export const mayAssignTag = (caller: Caller, tag: Tag): boolean => can(caller, "assign", tagRef(tag))

export interface ImportResult {
  readonly app: App
  readonly version: AppVersion
  /** Tags named in `app.toml` that do not exist or the importer may not assign. */
  readonly ignoredTags: ReadonlyArray<string>
}

/** Imports a bundle as a new app, or as a new version of an app the caller manages. */
export const importBundle = Effect.fnUntraced(function*(caller: Caller, archive: Uint8Array, options: { readonly visibility?: Visibility | undefined } = {}) {
  yield* authorize(caller, "import", { kind: "app" })
  const settings = yield* AppStoreSettings
  const reader = yield* BundleReader
  const catalog = yield* AppCatalog
  const blobs = yield* BlobStore
  const bundle = yield* reader.read(archive, settings.bundleLimits)
  const manifest = bundle.manifest
  const existing = yield* catalog.findApp(manifest.name)
  if (existing !== undefined) {
    yield* authorizeOrHide(caller, "update", { ...(yield* appRef(existing)), id: existing.id }).pipe(
      Effect.catchTag("NotFound", () => Effect.fail(new Forbidden({ message: `the app name ${manifest.name} belongs to someone else` })))
    )
    const versions = yield* catalog.listVersions(existing.id)
    if (versions.some((v) => v.version === manifest.version)) {
      return yield* new AlreadyExists({ resource: "app version", id: `${manifest.name} ${manifest.version}` })
    }
  }
  const at = yield* now
  const appId = existing?.id ?? newAppId()
  const versionId = newVersionId()
  const tags = yield* catalog.listTags()
  const assigned: Array<TagId> = []
  const ignoredTags: Array<string> = []
  for (const name of manifest.tags) {
    const tag = tags.find((t) => t.name === name)
    if (tag !== undefined && mayAssignTag(caller, tag)) assigned.push(tag.id)
    else ignoredTags.push(name)
  }
  const prefix = `appstore/versions/${versionId}`
  const written: Array<string> = []
  const put = (key: string, bytes: Uint8Array, contentType: string) =>
    blobs.put(key, new Blob([bytes as Uint8Array<ArrayBuffer>]).stream(), { contentType, contentLength: bytes.length }).pipe(
      Effect.tap(() => Effect.sync(() => written.push(key))),
      Effect.mapError(toUnavailable)
    )
  const cleanup = Effect.forEach(written, (key) => Effect.ignore(blobs.delete(key)), { discard: true })
  const result = yield* Effect.gen(function*() {
    yield* put(`${prefix}/bundle.zip`, archive, "application/zip")
    const icon = bundle.icon === undefined ? undefined : yield* Effect.map(
      put(`${prefix}/icon${bundle.icon.contentType === "image/png" ? ".png" : ".jpg"}`, bundle.icon.bytes, bundle.icon.contentType),
      (w) => ({ key: w.key, contentType: bundle.icon!.contentType, size: w.size })
    )
    const screenshots = yield* Effect.forEach(bundle.screenshots, (shot, index) =>
      Effect.map(
        put(`${prefix}/screenshot-${index + 1}${shot.contentType === "image/png" ? ".png" : ".jpg"}`, shot.bytes, shot.contentType),
        (w) => ({ key: w.key, contentType: shot.contentType, size: w.size })
      ))
    const app = existing ?? (yield* catalog.insertApp(new App({
      id: appId,
      name: manifest.name,
      owner: caller.principal.key,
      visibility: options.visibility ?? "PRIVATE",
      tags: assigned,
      createdAt: at,
      updatedAt: at
    })))
    const requirementsHash = yield* sha256Hex(`${bundle.requirements}\0${bundle.packages}\0${manifest.runtime?.appMode ?? ""}`)
    const version = yield* catalog.insertVersion(new AppVersionClass({
      id: versionId,
      appId: app.id,
      version: manifest.version,
      manifest,
      bundleKey: `${prefix}/bundle.zip`,
      bundleSha256: bundle.sha256,
      bundleSize: archive.length,
      icon,
      screenshots,
      longDescription: bundle.longDescription,
      requirementsHash,
      importedBy: caller.principal.key,
      createdAt: at
    }))
    const finalApp = existing !== undefined && assigned.some((t) => !existing.tags.includes(t))
      ? yield* catalog.updateApp(app.id, { tags: [...new Set([...existing.tags, ...assigned])] }, at)
      : app
    return { app: finalApp, version, ignoredTags } satisfies ImportResult
  }).pipe(Effect.onError(() => cleanup))
  yield* record(caller, "app.import", "app", result.app.id, { name: manifest.name, version: manifest.version })
  return result
})

/** One app the caller may read; `NotFound` for any other. */
export const getApp = Effect.fnUntraced(function*(caller: Caller | undefined, id: AppId) {
  const catalog = yield* AppCatalog
  const app = yield* catalog.getApp(id)
  if (!can(caller, "read", yield* appRef(app))) return yield* new NotFound({ resource: "app", id })
  return app
})

/** An app with its newest version (by semver), as the catalog shows it. */
export interface CatalogEntry {
  readonly app: App
  readonly latest: AppVersion | undefined
}

const latestOf = (versions: ReadonlyArray<AppVersion>) => [...versions].sort((a, b) => compareSemver(b.version, a.version))[0]

/**
 * A page of the apps the caller may see (not signed in: only PUBLIC ones), each with its newest
 * version. Pages are filled by reading further when apps are hidden from the caller.
 */
export const listApps = Effect.fnUntraced(function*(
  caller: Caller | undefined,
  query: { readonly limit?: number | undefined; readonly cursor?: string | undefined; readonly tag?: TagId | undefined; readonly mine?: boolean | undefined }
) {
  const catalog = yield* AppCatalog
  const limit = Math.min(Math.max(query.limit ?? 50, 1), 200)
  const items: Array<CatalogEntry> = []
  let cursor = query.cursor
  let next: string | undefined
  for (let round = 0; round < 20; round++) {
    const page = yield* catalog.listApps({ limit, cursor, tag: query.tag, owner: query.mine === true && caller !== undefined ? caller.principal.key : undefined })
    let full = false
    for (const [index, app] of page.items.entries()) {
      if (can(caller, "read", yield* appRef(app))) items.push({ app, latest: latestOf(yield* catalog.listVersions(app.id)) })
      if (items.length === limit) {
        next = index < page.items.length - 1 || page.next !== undefined ? appCursorOf(app) : undefined
        full = true
        break
      }
    }
    if (full) break
    next = page.next
    if (page.next === undefined) break
    cursor = page.next
  }
  return { items, next }
})

/** Every version of an app the caller may read, newest (semver) first. */
export const listVersions = Effect.fnUntraced(function*(caller: Caller | undefined, id: AppId) {
  const app = yield* getApp(caller, id)
  const versions = yield* (yield* AppCatalog).listVersions(app.id)
  return [...versions].sort((a, b) => compareSemver(b.version, a.version))
})

/** One version of an app the caller may read. */
export const getVersion = Effect.fnUntraced(function*(caller: Caller | undefined, id: VersionId) {
  const catalog = yield* AppCatalog
  const version = yield* catalog.getVersion(id)
  const app = yield* getApp(caller, version.appId).pipe(Effect.catchTag("NotFound", () => Effect.fail(new NotFound({ resource: "app version", id }))))
  return { app, version }
})

/** Changes an app's visibility and/or tags (tags the caller may not assign are refused). */
export const updateApp = Effect.fnUntraced(function*(
  caller: Caller,
  id: AppId,
  patch: { readonly visibility?: Visibility | undefined; readonly tags?: ReadonlyArray<string> | undefined }
) {
  const catalog = yield* AppCatalog
  const app = yield* catalog.getApp(id)
  yield* authorizeOrHide(caller, "update", { ...(yield* appRef(app)), id: app.id })
  let tags: Array<TagId> | undefined
  if (patch.tags !== undefined) {
    const all = yield* catalog.listTags()
    tags = []
    for (const name of new Set(patch.tags)) {
      const tag = all.find((t) => t.name === name || t.id === name)
      if (tag === undefined) return yield* new InvalidInput({ message: `there is no tag ${name}`, field: "tags" })
      tags.push(tag.id)
    }
    const changed = all.filter((t) => tags!.includes(t.id) !== app.tags.includes(t.id))
    const refused = changed.find((t) => !mayAssignTag(caller, t))
    if (refused !== undefined) return yield* new Forbidden({ message: `you may not add or remove the tag ${refused.name}` })
  }
  const updated = yield* catalog.updateApp(id, { visibility: patch.visibility, tags }, yield* now)
  yield* record(caller, "app.update", "app", id, { visibility: updated.visibility })
  return updated
})

/**
 * Deletes one version (its bundle and assets too), unless an instance of it exists: `inUse`
 * (from the instance use cases) names them, and then nothing changes.
 */
export const deleteVersion = Effect.fnUntraced(function*<E, R>(
  caller: Caller,
  id: VersionId,
  inUse: (version: AppVersion) => Effect.Effect<ReadonlyArray<string>, E, R>
) {
  const catalog = yield* AppCatalog
  const blobs = yield* BlobStore
  const version = yield* catalog.getVersion(id)
  const app = yield* catalog.getApp(version.appId)
  yield* authorizeOrHide(caller, "delete", { ...(yield* appRef(app)), id: app.id })
  const users = yield* inUse(version)
  if (users.length > 0) {
    return yield* new Conflict({ message: `version ${version.version} has instances (${users.slice(0, 5).join(", ")}); terminate them first` })
  }
  yield* catalog.deleteVersion(id)
  for (const key of [version.bundleKey, ...(version.icon === undefined ? [] : [version.icon.key]), ...version.screenshots.map((s) => s.key)]) {
    yield* Effect.ignore(blobs.delete(key))
  }
  yield* record(caller, "app.version.delete", "app", app.id, { version: version.version })
})

/** Deletes an app with all its versions, unless one of them has instances. */
export const deleteApp = Effect.fnUntraced(function*<E, R>(
  caller: Caller,
  id: AppId,
  inUse: (version: AppVersion) => Effect.Effect<ReadonlyArray<string>, E, R>
) {
  const catalog = yield* AppCatalog
  const blobs = yield* BlobStore
  const app = yield* catalog.getApp(id)
  yield* authorizeOrHide(caller, "delete", { ...(yield* appRef(app)), id: app.id })
  const versions = yield* catalog.listVersions(id)
  for (const version of versions) {
    const users = yield* inUse(version)
    if (users.length > 0) {
      return yield* new Conflict({ message: `version ${version.version} has instances (${users.slice(0, 5).join(", ")}); terminate them first` })
    }
  }
  yield* catalog.deleteApp(id)
  for (const version of versions) {
    for (const key of [version.bundleKey, ...(version.icon === undefined ? [] : [version.icon.key]), ...version.screenshots.map((s) => s.key)]) {
      yield* Effect.ignore(blobs.delete(key))
    }
  }
  yield* record(caller, "app.delete", "app", id, { name: app.name })
})

/**
 * Opens a static asset of a version the caller may read: `icon`, `screenshot-<n>` (1-based), or
 * `bundle` (only for those who may update the app: it is the source).
 */
export const openAsset = Effect.fnUntraced(function*(caller: Caller | undefined, id: VersionId, asset: string) {
  const { app, version } = yield* getVersion(caller, id)
  const blobs = yield* BlobStore
  const missing = new NotFound({ resource: "asset", id: asset })
  let stored: { readonly key: string; readonly contentType: string } | undefined
  if (asset === "icon") stored = version.icon
  else if (/^screenshot-\d{1,3}$/.test(asset)) stored = version.screenshots[Number(asset.slice(11)) - 1]
  else if (asset === "bundle") {
    if (caller === undefined || !can(caller, "update", yield* appRef(app))) return yield* missing
    stored = { key: version.bundleKey, contentType: "application/zip" }
  }
  if (stored === undefined) return yield* missing
  const opened = yield* blobs.get(stored.key).pipe(
    Effect.catchTag("BlobNotFound", () => Effect.fail(missing)),
    Effect.catchTags({ InvalidKey: Effect.die, InvalidRange: Effect.die }),
    Effect.mapError((error) => (error._tag === "NotFound" ? error : toUnavailable(error)))
  )
  return { body: opened.body, size: opened.info.size, contentType: stored.contentType, etag: opened.info.etag }
})

// ---- tags (admins) ---------------------------------------------------------------------------

export interface NewTag {
  readonly name: string
  readonly title?: string | undefined
  readonly color?: string | undefined
  readonly description?: string | undefined
  readonly isCategory?: boolean | undefined
  readonly visitorRoles?: ReadonlyArray<string> | undefined
  readonly adminRoles?: ReadonlyArray<string> | undefined
}

const checkTag = (input: Partial<NewTag>) =>
  Effect.suspend(() => {
    if (input.name !== undefined && !/^[A-Za-z0-9][-A-Za-z0-9_.]{0,62}$/.test(input.name)) {
      return Effect.fail(new InvalidInput({ message: "a tag name is 1–63 letters, digits, -, _ or .", field: "name" }))
    }
    if (input.color !== undefined && !/^#[0-9a-fA-F]{6}$/.test(input.color)) {
      return Effect.fail(new InvalidInput({ message: "color is #rrggbb", field: "color" }))
    }
    if ((input.title?.length ?? 0) > 100 || (input.description?.length ?? 0) > 1000) {
      return Effect.fail(new InvalidInput({ message: "title ≤ 100 and description ≤ 1000 characters", field: "title" }))
    }
    return Effect.void
  })

export const listTags = Effect.fnUntraced(function*() {
  return yield* (yield* AppCatalog).listTags()
})

export const createTag = Effect.fnUntraced(function*(caller: Caller, input: NewTag) {
  yield* authorize(caller, "create", { kind: "tag" })
  yield* checkTag(input)
  const tag = yield* (yield* AppCatalog).insertTag(new Tag({
    id: newTagId(),
    name: input.name,
    title: input.title ?? input.name,
    color: input.color ?? "#5b8def",
    description: input.description ?? "",
    isCategory: input.isCategory ?? false,
    visitorRoles: input.visitorRoles ?? [],
    adminRoles: input.adminRoles ?? [],
    createdAt: yield* now
  }))
  yield* record(caller, "tag.create", "tag", tag.id, { name: tag.name })
  return tag
})

export const updateTag = Effect.fnUntraced(function*(caller: Caller, id: TagId, patch: Omit<NewTag, "name">) {
  const catalog = yield* AppCatalog
  yield* authorize(caller, "update", tagRef(yield* catalog.getTag(id)))
  yield* checkTag(patch)
  return yield* catalog.updateTag(id, patch)
})

export const deleteTag = Effect.fnUntraced(function*(caller: Caller, id: TagId) {
  const catalog = yield* AppCatalog
  yield* authorize(caller, "delete", tagRef(yield* catalog.getTag(id)))
  yield* catalog.deleteTag(id)
  yield* record(caller, "tag.delete", "tag", id)
})

// ---- aliases (admins) -----------------------------------------------------------------------

export const aliasPattern = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/

export const createAlias = Effect.fnUntraced(function*(caller: Caller, name: string, instanceId: string) {
  yield* authorize(caller, "administer", { kind: "platform" })
  if (!aliasPattern.test(name)) return yield* new InvalidInput({ message: "an alias is a DNS label: 1–63 lower-case letters, digits and -", field: "name" })
  if (!/^ins_[0-9a-f]{32}$/.test(instanceId)) return yield* new InvalidInput({ message: "instanceId is not an instance id", field: "instanceId" })
  const alias = yield* (yield* AppCatalog).insertAlias(new Alias({ name, instanceId, createdBy: caller.principal.key, createdAt: yield* now }))
  yield* record(caller, "alias.create", "alias", name, { instance: instanceId })
  return alias
})

export const listAliases = Effect.fnUntraced(function*(caller: Caller, instanceId?: string) {
  yield* authorize(caller, "administer", { kind: "platform" })
  return yield* (yield* AppCatalog).listAliases(instanceId)
})

export const deleteAlias = Effect.fnUntraced(function*(caller: Caller, name: string) {
  yield* authorize(caller, "administer", { kind: "platform" })
  yield* (yield* AppCatalog).deleteAlias(name)
  yield* record(caller, "alias.delete", "alias", name)
})

/** Where an alias points; anyone may ask (the instance itself still authorizes each request). */
export const resolveAlias = Effect.fnUntraced(function*(name: string) {
  if (!aliasPattern.test(name)) return yield* new NotFound({ resource: "alias", id: name })
  return (yield* (yield* AppCatalog).getAlias(name)).instanceId
})
