import { Alias, App, AppCatalog, AppCursor, appCursorOf, AppManifest, AppVersion, type StoredAsset, Tag, type TagId, type VersionId } from "@aquifer/appstore"
import { AlreadyExists, type AppId, decodeCursorAs, NotFound, pageSize } from "@aquifer/core"
import { Effect, Layer, Schema } from "effect"
import type { Sql } from "postgres"
import { Database, orDieSql } from "./database.ts"

interface AppRow {
  readonly id: string
  readonly name: string
  readonly owner: string
  readonly visibility: App["visibility"]
  readonly created_at: Date
  readonly updated_at: Date
  readonly tags: ReadonlyArray<string> | null
}

interface VersionRow {
  readonly id: string
  readonly app_id: string
  readonly version: string
  readonly manifest: unknown
  readonly bundle_key: string
  readonly bundle_sha256: string
  readonly bundle_size: string | number
  readonly icon: StoredAsset | null
  readonly screenshots: ReadonlyArray<StoredAsset>
  readonly long_description: string | null
  readonly requirements_hash: string
  readonly imported_by: string
  readonly created_at: Date
}

interface TagRow {
  readonly id: string
  readonly name: string
  readonly title: string
  readonly color: string
  readonly description: string
  readonly is_category: boolean
  readonly visitor_roles: ReadonlyArray<string>
  readonly admin_roles: ReadonlyArray<string>
  readonly created_at: Date
}

const decodeManifest = Schema.decodeUnknownSync(AppManifest)
const encodeManifest = Schema.encodeSync(AppManifest)

const toApp = (row: AppRow) =>
  new App({
    id: row.id as AppId,
    name: row.name,
    owner: row.owner,
    visibility: row.visibility,
    tags: [...(row.tags ?? [])].sort() as Array<TagId>,
    createdAt: row.created_at,
    updatedAt: row.updated_at
  })

const toVersion = (row: VersionRow) =>
  new AppVersion({
    id: row.id as VersionId,
    appId: row.app_id as AppId,
    version: row.version,
    manifest: decodeManifest(row.manifest),
    bundleKey: row.bundle_key,
    bundleSha256: row.bundle_sha256,
    bundleSize: Number(row.bundle_size),
    icon: row.icon ?? undefined,
    screenshots: row.screenshots,
    longDescription: row.long_description ?? undefined,
    requirementsHash: row.requirements_hash,
    importedBy: row.imported_by,
    createdAt: row.created_at
  })

const toTag = (row: TagRow) =>
  new Tag({
    id: row.id as TagId,
    name: row.name,
    title: row.title,
    color: row.color,
    description: row.description,
    isCategory: row.is_category,
    visitorRoles: row.visitor_roles,
    adminRoles: row.admin_roles,
    createdAt: row.created_at
  })

const appSelect = (sql: Sql) =>
  sql`select a.id, a.name, a.owner, a.visibility, a.created_at, a.updated_at,
    (select coalesce(jsonb_agg(t.tag_id order by t.tag_id), '[]'::jsonb) from appstore_app_tags t where t.app_id = a.id) as tags
    from appstore_apps a`

const unique = <A>(resource: string, id: string) => (error: { readonly _tag: "SqlError"; readonly code: string | undefined }) =>
  error.code === "23505" ? Effect.fail(new AlreadyExists({ resource, id })) : Effect.die(error) as Effect.Effect<A, AlreadyExists>

/** The App Store catalog in the metadata database (tables `appstore_*`, migration 0300). */
export const layerAppCatalog: Layer.Layer<AppCatalog, never, Database> = Layer.effect(
  AppCatalog,
  Effect.gen(function*() {
    const db = yield* Database
    const query = <A>(run: (sql: Sql) => Promise<A>) => orDieSql(db.use(run))

    const getApp = (id: AppId) =>
      Effect.flatMap(query((sql) => sql<Array<AppRow>>`${appSelect(sql)} where a.id = ${id}`), ([row]) =>
        row === undefined ? Effect.fail(new NotFound({ resource: "app", id })) : Effect.succeed(toApp(row)))
    const getTag = (id: TagId) =>
      Effect.flatMap(query((sql) => sql<Array<TagRow>>`select * from appstore_tags where id = ${id}`), ([row]) =>
        row === undefined ? Effect.fail(new NotFound({ resource: "tag", id })) : Effect.succeed(toTag(row)))

    return AppCatalog.of({
      insertApp: (app) =>
        db.use((sql) =>
          sql.begin(async (tx) => {
            await tx`insert into appstore_apps (id, name, owner, visibility, created_at, updated_at)
              values (${app.id}, ${app.name}, ${app.owner}, ${app.visibility}, ${app.createdAt}, ${app.updatedAt})`
            for (const tag of app.tags) await tx`insert into appstore_app_tags (app_id, tag_id) values (${app.id}, ${tag}) on conflict do nothing`
          })
        ).pipe(Effect.as(app), Effect.catchTag("SqlError", unique<App>("app", app.name))),
      getApp,
      findApp: (name) => Effect.map(query((sql) => sql<Array<AppRow>>`${appSelect(sql)} where a.name = ${name}`), ([row]) => (row === undefined ? undefined : toApp(row))),
      listApps: (q) =>
        Effect.gen(function*() {
          const cursor = q.cursor === undefined ? undefined : yield* decodeCursorAs(AppCursor, q.cursor)
          const limit = pageSize(q.limit)
          const rows = yield* query((sql) =>
            sql<Array<AppRow>>`${appSelect(sql)} where true
              ${q.owner === undefined ? sql`` : sql`and a.owner = ${q.owner}`}
              ${q.tag === undefined ? sql`` : sql`and exists (select 1 from appstore_app_tags t where t.app_id = a.id and t.tag_id = ${q.tag})`}
              ${cursor === undefined ? sql`` : sql`and (a.name, a.id) > (${cursor.name}, ${cursor.id})`}
              order by a.name collate "C", a.id collate "C" limit ${limit + 1}`
          )
          const items = rows.slice(0, limit).map(toApp)
          return { items, next: rows.length > limit ? appCursorOf(items[items.length - 1]!) : undefined }
        }),
      updateApp: (id, patch, at) =>
        Effect.flatMap(
          query((sql) =>
            sql.begin(async (tx) => {
              const updated = await tx`update appstore_apps set updated_at = ${at}
                ${patch.visibility === undefined ? tx`` : tx`, visibility = ${patch.visibility}`} where id = ${id} returning id`
              if (updated.length === 0) return false
              if (patch.tags !== undefined) {
                await tx`delete from appstore_app_tags where app_id = ${id}`
                for (const tag of new Set(patch.tags)) {
                  await tx`insert into appstore_app_tags (app_id, tag_id) select ${id}, id from appstore_tags where id = ${tag}`
                }
              }
              return true
            })
          ),
          (found) => (found ? getApp(id) : Effect.fail(new NotFound({ resource: "app", id })))
        ),
      deleteApp: (id) =>
        Effect.flatMap(query((sql) => sql`delete from appstore_apps where id = ${id} returning id`), (rows) =>
          rows.length === 0 ? Effect.fail(new NotFound({ resource: "app", id })) : Effect.void),

      insertVersion: (v) =>
        db.use((sql) =>
          sql`insert into appstore_versions (id, app_id, version, manifest, bundle_key, bundle_sha256, bundle_size, icon,
              screenshots, long_description, requirements_hash, imported_by, created_at)
            values (${v.id}, ${v.appId}, ${v.version}, ${sql.json(encodeManifest(v.manifest) as never)}, ${v.bundleKey},
              ${v.bundleSha256}, ${v.bundleSize}, ${v.icon === undefined ? null : sql.json(v.icon as never)},
              ${sql.json(v.screenshots as never)}, ${v.longDescription ?? null}, ${v.requirementsHash}, ${v.importedBy}, ${v.createdAt})`
        ).pipe(
          Effect.as(v),
          Effect.catchTag("SqlError", (error): Effect.Effect<AppVersion, NotFound | AlreadyExists> =>
            error.code === "23503"
              ? Effect.fail(new NotFound({ resource: "app", id: v.appId }))
              : unique<AppVersion>("app version", v.version)(error))
        ),
      getVersion: (id) =>
        Effect.flatMap(query((sql) => sql<Array<VersionRow>>`select * from appstore_versions where id = ${id}`), ([row]) =>
          row === undefined ? Effect.fail(new NotFound({ resource: "app version", id })) : Effect.succeed(toVersion(row))),
      listVersions: (appId) =>
        Effect.map(
          query((sql) => sql<Array<VersionRow>>`select * from appstore_versions where app_id = ${appId} order by created_at desc, id desc`),
          (rows) => rows.map(toVersion)
        ),
      deleteVersion: (id) =>
        Effect.flatMap(query((sql) => sql`delete from appstore_versions where id = ${id} returning id`), (rows) =>
          rows.length === 0 ? Effect.fail(new NotFound({ resource: "app version", id })) : Effect.void),

      insertTag: (tag) =>
        db.use((sql) =>
          sql`insert into appstore_tags (id, name, title, color, description, is_category, visitor_roles, admin_roles, created_at)
            values (${tag.id}, ${tag.name}, ${tag.title}, ${tag.color}, ${tag.description}, ${tag.isCategory},
              ${sql.json([...tag.visitorRoles])}, ${sql.json([...tag.adminRoles])}, ${tag.createdAt})`
        ).pipe(Effect.as(tag), Effect.catchTag("SqlError", unique<Tag>("tag", tag.name))),
      getTag,
      listTags: () => Effect.map(query((sql) => sql<Array<TagRow>>`select * from appstore_tags order by name collate "C"`), (rows) => rows.map(toTag)),
      updateTag: (id, patch) =>
        Effect.flatMap(getTag(id), (current) =>
          Effect.flatMap(
            query((sql) =>
              sql`update appstore_tags set title = ${patch.title ?? current.title}, color = ${patch.color ?? current.color},
                description = ${patch.description ?? current.description}, is_category = ${patch.isCategory ?? current.isCategory},
                visitor_roles = ${sql.json([...(patch.visitorRoles ?? current.visitorRoles)])},
                admin_roles = ${sql.json([...(patch.adminRoles ?? current.adminRoles)])} where id = ${id}`
            ),
            () => getTag(id)
          )),
      deleteTag: (id) =>
        Effect.flatMap(query((sql) => sql`delete from appstore_tags where id = ${id} returning id`), (rows) =>
          rows.length === 0 ? Effect.fail(new NotFound({ resource: "tag", id })) : Effect.void),

      insertAlias: (alias) =>
        db.use((sql) =>
          sql`insert into appstore_aliases (name, instance_id, created_by, created_at)
            values (${alias.name}, ${alias.instanceId}, ${alias.createdBy}, ${alias.createdAt})`
        ).pipe(Effect.as(alias), Effect.catchTag("SqlError", unique<Alias>("alias", alias.name))),
      getAlias: (name) =>
        Effect.flatMap(query((sql) => sql`select * from appstore_aliases where name = ${name}`), ([row]) =>
          row === undefined
            ? Effect.fail(new NotFound({ resource: "alias", id: name }))
            : Effect.succeed(new Alias({ name: row.name, instanceId: row.instance_id, createdBy: row.created_by, createdAt: row.created_at }))),
      listAliases: (instanceId) =>
        Effect.map(
          query((sql) =>
            sql`select * from appstore_aliases ${instanceId === undefined ? sql`` : sql`where instance_id = ${instanceId}`} order by name collate "C"`
          ),
          (rows) => rows.map((row) => new Alias({ name: row.name, instanceId: row.instance_id, createdBy: row.created_by, createdAt: row.created_at }))
        ),
      deleteAlias: (name) =>
        Effect.flatMap(query((sql) => sql`delete from appstore_aliases where name = ${name} returning name`), (rows) =>
          rows.length === 0 ? Effect.fail(new NotFound({ resource: "alias", id: name })) : Effect.void),

      getInstanceSettings: (id) =>
        Effect.map(query((sql) => sql`select visibility from appstore_instance_settings where instance_id = ${id}`), ([row]) =>
          row === undefined ? undefined : { visibility: row.visibility }),
      putInstanceSettings: (id, settings) =>
        Effect.asVoid(query((sql) =>
          sql`insert into appstore_instance_settings (instance_id, visibility) values (${id}, ${settings.visibility})
            on conflict (instance_id) do update set visibility = excluded.visibility`
        )),
      deleteInstanceSettings: (id) =>
        Effect.asVoid(query((sql) =>
          sql.begin(async (tx) => {
            await tx`delete from appstore_instance_settings where instance_id = ${id}`
            await tx`delete from appstore_aliases where instance_id = ${id}`
          })
        ))
    })
  })
)
