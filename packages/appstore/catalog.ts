/**
 * The App Store's records and their repository port, `AppCatalog`: apps (a name, an owner, a
 * visibility, tags), their immutable versions (a decoded `app.toml` and pointers to the bundle
 * and its static assets in the BlobStore), tags, aliases, and the few instance settings a user
 * may change while an instance runs. Instance *state* is never here: it lives in the Scheduler.
 *
 * Promises every implementation keeps (`@aquifer/appstore/testing` checks them):
 * - App names are unique (`AlreadyExists` on a second insert), as are `(app, version)` pairs,
 *   tag names and alias names. Versions are never updated.
 * - `deleteApp` removes the app with its versions, tag links and nothing else; deleting what is
 *   not there fails with `NotFound`.
 * - `listApps` pages by (name, id) ascending; a cursor not minted here is `InvalidInput`.
 * - Values are data, never query syntax; a backend that cannot be reached is `Unavailable`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { AppCatalog, layerMemory } from "@aquifer/appstore"
 * const names = Effect.map(AppCatalog.use((c) => c.listApps({})), (page) => page.items.map((a) => a.name))
 * const program = Effect.provide(names, layerMemory)
 * ```
 * @module
 */
import { AlreadyExists, AppId, InvalidInput, NotFound, type Page, Unavailable } from "@aquifer/core"
import { Visibility } from "@aquifer/identity"
import { Context, type Effect, Schema } from "effect"
import { AppManifest } from "./manifest.ts"

/** An app version's id: `ver_` + 32 hex digits. */
export const VersionId = Schema.String.check(Schema.isPattern(/^ver_[0-9a-f]{32}$/)).pipe(Schema.brand("VersionId"))
export type VersionId = typeof VersionId.Type
export const newVersionId = (): VersionId => `ver_${crypto.randomUUID().replaceAll("-", "")}` as VersionId

/** A tag's id: `tag_` + 32 hex digits. */
export const TagId = Schema.String.check(Schema.isPattern(/^tag_[0-9a-f]{32}$/)).pipe(Schema.brand("TagId"))
export type TagId = typeof TagId.Type
export const newTagId = (): TagId => `tag_${crypto.randomUUID().replaceAll("-", "")}` as TagId

/** An app: what the catalog lists. Its versions hold what runs. */
export class App extends Schema.Class<App>("App")({
  id: AppId,
  name: Schema.String,
  /** The owner's principal key (`issuer#subject`). */
  owner: Schema.String,
  visibility: Visibility,
  /** Ids of the tags on the app. */
  tags: Schema.Array(TagId),
  createdAt: Schema.Date,
  updatedAt: Schema.Date
}) {}

/** A static asset kept in the BlobStore. */
export const StoredAsset = Schema.Struct({
  key: Schema.String,
  contentType: Schema.String,
  size: Schema.Int
})
export type StoredAsset = typeof StoredAsset.Type

/** An immutable version of an app, as imported from a bundle. */
export class AppVersion extends Schema.Class<AppVersion>("AppVersion")({
  id: VersionId,
  appId: AppId,
  version: Schema.String,
  manifest: AppManifest,
  /** BlobStore key of the bundle as uploaded. */
  bundleKey: Schema.String,
  bundleSha256: Schema.String,
  bundleSize: Schema.Int,
  icon: Schema.optional(StoredAsset),
  screenshots: Schema.Array(StoredAsset),
  longDescription: Schema.optional(Schema.String),
  /** SHA-256 of `requirements.txt` + `packages.txt`: launchers cache environments by it. */
  requirementsHash: Schema.String,
  importedBy: Schema.String,
  createdAt: Schema.Date
}) {}

/**
 * A tag. `visitorRoles`: groups whose members may see (and use) apps carrying the tag even when
 * the app is PRIVATE. `adminRoles`: groups whose members may put the tag on apps and take it off.
 * A category tag groups apps in the catalog's navigation.
 */
export class Tag extends Schema.Class<Tag>("Tag")({
  id: TagId,
  name: Schema.String,
  title: Schema.String,
  color: Schema.String,
  description: Schema.String,
  isCategory: Schema.Boolean,
  visitorRoles: Schema.Array(Schema.String),
  adminRoles: Schema.Array(Schema.String),
  createdAt: Schema.Date
}) {}

/** A stable name that redirects to an instance (`/a/<name>/…`). */
export class Alias extends Schema.Class<Alias>("Alias")({
  name: Schema.String,
  instanceId: Schema.String,
  createdBy: Schema.String,
  createdAt: Schema.Date
}) {}

/** What a user may change on a live instance without restarting it. */
export const InstanceSettings = Schema.Struct({
  visibility: Visibility
})
export type InstanceSettings = typeof InstanceSettings.Type

export interface AppQuery {
  readonly limit?: number | undefined
  readonly cursor?: string | undefined
  /** Only apps carrying this tag. */
  readonly tag?: TagId | undefined
  /** Only apps owned by this principal key. */
  readonly owner?: string | undefined
}

export interface AppPatch {
  readonly visibility?: Visibility | undefined
  readonly tags?: ReadonlyArray<TagId> | undefined
}

export interface TagPatch {
  readonly title?: string | undefined
  readonly color?: string | undefined
  readonly description?: string | undefined
  readonly isCategory?: boolean | undefined
  readonly visitorRoles?: ReadonlyArray<string> | undefined
  readonly adminRoles?: ReadonlyArray<string> | undefined
}

type Fx<A, E = never> = Effect.Effect<A, E | Unavailable>

export class AppCatalog extends Context.Service<AppCatalog, {
  /** Inserts a new app; `AlreadyExists` when the name is taken. */
  readonly insertApp: (app: App) => Fx<App, AlreadyExists>
  readonly getApp: (id: AppId) => Fx<App, NotFound>
  /** The app of that exact name, if any. */
  readonly findApp: (name: string) => Fx<App | undefined>
  readonly listApps: (query: AppQuery) => Fx<Page<App>, InvalidInput>
  /** Changes visibility and/or the tag set (replaced whole); bumps `updatedAt`. */
  readonly updateApp: (id: AppId, patch: AppPatch, at: Date) => Fx<App, NotFound>
  /** Removes the app and its versions; the caller removes their blobs. */
  readonly deleteApp: (id: AppId) => Fx<void, NotFound>

  /** Inserts a version; `AlreadyExists` when the app has that version already. */
  readonly insertVersion: (version: AppVersion) => Fx<AppVersion, AlreadyExists | NotFound>
  readonly getVersion: (id: VersionId) => Fx<AppVersion, NotFound>
  /** Every version of the app, newest import first. */
  readonly listVersions: (app: AppId) => Fx<ReadonlyArray<AppVersion>>
  readonly deleteVersion: (id: VersionId) => Fx<void, NotFound>

  readonly insertTag: (tag: Tag) => Fx<Tag, AlreadyExists>
  readonly getTag: (id: TagId) => Fx<Tag, NotFound>
  /** Every tag, by name. */
  readonly listTags: () => Fx<ReadonlyArray<Tag>>
  readonly updateTag: (id: TagId, patch: TagPatch) => Fx<Tag, NotFound>
  /** Removes the tag and takes it off every app. */
  readonly deleteTag: (id: TagId) => Fx<void, NotFound>

  readonly insertAlias: (alias: Alias) => Fx<Alias, AlreadyExists>
  readonly getAlias: (name: string) => Fx<Alias, NotFound>
  /** Aliases, by name; of one instance when `instanceId` is given. */
  readonly listAliases: (instanceId?: string) => Fx<ReadonlyArray<Alias>>
  readonly deleteAlias: (name: string) => Fx<void, NotFound>

  /** Settings changed by a user; undefined when none were. */
  readonly getInstanceSettings: (instanceId: string) => Fx<InstanceSettings | undefined>
  readonly putInstanceSettings: (instanceId: string, settings: InstanceSettings) => Fx<void>
  /** Forgets the settings (and aliases) of an instance that was terminated. */
  readonly deleteInstanceSettings: (instanceId: string) => Fx<void>
}>()("@aquifer/appstore/AppCatalog") {}
