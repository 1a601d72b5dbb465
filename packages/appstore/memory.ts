/**
 * An in-memory `AppCatalog` for unit tests; it passes the conformance kit.
 * @module
 */
import { AlreadyExists, decodeCursorAs, encodeCursor, NotFound, pageSize } from "@aquifer/core"
import { Effect, Layer, Schema } from "effect"
import { type Alias, App, type AppVersion, AppCatalog, type InstanceSettings, Tag } from "./catalog.ts"

/** The position after an app in (name, id) order. */
export const AppCursor = Schema.Struct({ name: Schema.String, id: Schema.String })
export const appCursorOf = (app: App): string => encodeCursor({ name: app.name, id: app.id })

const byNameThenId = (a: App, b: App) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** A fresh, empty in-memory catalog. */
export const layerMemory: Layer.Layer<AppCatalog> = Layer.sync(AppCatalog, () => {
  const apps = new Map<string, App>()
  const versions = new Map<string, AppVersion>()
  const tags = new Map<string, Tag>()
  const aliases = new Map<string, Alias>()
  const settings = new Map<string, InstanceSettings>()

  const app = (id: string) => {
    const found = apps.get(id)
    return found === undefined ? Effect.fail(new NotFound({ resource: "app", id })) : Effect.succeed(found)
  }
  const tag = (id: string) => {
    const found = tags.get(id)
    return found === undefined ? Effect.fail(new NotFound({ resource: "tag", id })) : Effect.succeed(found)
  }

  return AppCatalog.of({
    insertApp: (input) =>
      Effect.suspend(() => {
        if ([...apps.values()].some((existing) => existing.name === input.name)) {
          return Effect.fail(new AlreadyExists({ resource: "app", id: input.name }))
        }
        apps.set(input.id, input)
        return Effect.succeed(input)
      }),
    getApp: app,
    findApp: (name) => Effect.sync(() => [...apps.values()].find((existing) => existing.name === name)),
    listApps: (query) =>
      Effect.gen(function*() {
        const cursor = query.cursor === undefined ? undefined : yield* decodeCursorAs(AppCursor, query.cursor)
        const limit = pageSize(query.limit)
        const sorted = [...apps.values()]
          .filter((a) => query.tag === undefined || a.tags.includes(query.tag))
          .filter((a) => query.owner === undefined || a.owner === query.owner)
          .filter((a) => cursor === undefined || a.name > cursor.name || (a.name === cursor.name && a.id > cursor.id))
          .sort(byNameThenId)
        const items = sorted.slice(0, limit)
        return { items, next: sorted.length > limit ? appCursorOf(items[items.length - 1]!) : undefined }
      }),
    updateApp: (id, patch, at) =>
      Effect.map(app(id), (existing) => {
        const updated = new App({
          ...existing,
          visibility: patch.visibility ?? existing.visibility,
          tags: patch.tags === undefined ? existing.tags : [...new Set(patch.tags)].filter((t) => tags.has(t)),
          updatedAt: at
        })
        apps.set(id, updated)
        return updated
      }),
    deleteApp: (id) =>
      Effect.map(app(id), () => {
        apps.delete(id)
        for (const [key, version] of versions) if (version.appId === id) versions.delete(key)
      }),

    insertVersion: (version) =>
      Effect.flatMap(app(version.appId), () =>
        Effect.suspend(() => {
          if ([...versions.values()].some((v) => v.appId === version.appId && v.version === version.version)) {
            return Effect.fail(new AlreadyExists({ resource: "app version", id: version.version }))
          }
          versions.set(version.id, version)
          return Effect.succeed(version)
        })),
    getVersion: (id) => {
      const found = versions.get(id)
      return found === undefined ? Effect.fail(new NotFound({ resource: "app version", id })) : Effect.succeed(found)
    },
    listVersions: (appId) =>
      Effect.sync(() =>
        [...versions.values()]
          .filter((v) => v.appId === appId)
          .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
      ),
    deleteVersion: (id) =>
      versions.delete(id) ? Effect.void : Effect.fail(new NotFound({ resource: "app version", id })),

    insertTag: (input) =>
      Effect.suspend(() => {
        if ([...tags.values()].some((existing) => existing.name === input.name)) {
          return Effect.fail(new AlreadyExists({ resource: "tag", id: input.name }))
        }
        tags.set(input.id, input)
        return Effect.succeed(input)
      }),
    getTag: tag,
    listTags: () => Effect.sync(() => [...tags.values()].sort((a, b) => (a.name < b.name ? -1 : 1))),
    updateTag: (id, patch) =>
      Effect.map(tag(id), (existing) => {
        const updated = new Tag({
          ...existing,
          title: patch.title ?? existing.title,
          color: patch.color ?? existing.color,
          description: patch.description ?? existing.description,
          isCategory: patch.isCategory ?? existing.isCategory,
          visitorRoles: patch.visitorRoles ?? existing.visitorRoles,
          adminRoles: patch.adminRoles ?? existing.adminRoles
        })
        tags.set(id, updated)
        return updated
      }),
    deleteTag: (id) =>
      Effect.map(tag(id), () => {
        tags.delete(id)
        for (const [key, existing] of apps) {
          if (existing.tags.includes(id)) apps.set(key, new App({ ...existing, tags: existing.tags.filter((t) => t !== id) }))
        }
      }),

    insertAlias: (alias) =>
      Effect.suspend(() => {
        if (aliases.has(alias.name)) return Effect.fail(new AlreadyExists({ resource: "alias", id: alias.name }))
        aliases.set(alias.name, alias)
        return Effect.succeed(alias)
      }),
    getAlias: (name) => {
      const found = aliases.get(name)
      return found === undefined ? Effect.fail(new NotFound({ resource: "alias", id: name })) : Effect.succeed(found)
    },
    listAliases: (instanceId) =>
      Effect.sync(() =>
        [...aliases.values()]
          .filter((a) => instanceId === undefined || a.instanceId === instanceId)
          .sort((a, b) => (a.name < b.name ? -1 : 1))
      ),
    deleteAlias: (name) => (aliases.delete(name) ? Effect.void : Effect.fail(new NotFound({ resource: "alias", id: name }))),

    getInstanceSettings: (id) => Effect.sync(() => settings.get(id)),
    putInstanceSettings: (id, value) => Effect.sync(() => void settings.set(id, value)),
    deleteInstanceSettings: (id) =>
      Effect.sync(() => {
        settings.delete(id)
        for (const [name, alias] of aliases) if (alias.instanceId === id) aliases.delete(name)
      })
  })
})
