import { AlreadyExists, Conflict, NotFound, type SecretId } from "@aquifer/core"
import { Secret, type SecretRecord, type SecretScope, SecretStore } from "@aquifer/secrets"
import { Effect, Layer } from "effect"
import { Database, orDieSql } from "./database.ts"

interface Row {
  readonly id: string
  readonly name: string
  readonly visibility: "PRIVATE" | "ALL_USERS" | "APP"
  readonly owner: string
  readonly app_name: string | null
  readonly keys: ReadonlyArray<string>
  readonly key_id: string
  readonly sealed: string
  readonly revision: number
  readonly created_at: Date
  readonly updated_at: Date
}

const scopeOf = (scope: SecretScope) =>
  scope.visibility === "PRIVATE" ? scope.owner ?? "" : scope.visibility === "APP" ? scope.appName ?? "" : ""

const toSecret = (row: Row) =>
  new Secret({
    id: row.id as SecretId,
    name: row.name,
    visibility: row.visibility,
    owner: row.owner,
    ...(row.app_name === null ? {} : { appName: row.app_name }),
    keys: row.keys,
    revision: row.revision,
    createdAt: row.created_at,
    updatedAt: row.updated_at
  })

const toRecord = (row: Row): SecretRecord => ({ secret: toSecret(row), sealed: { keyId: row.key_id, data: row.sealed } })

const columns = "id, name, visibility, owner, app_name, keys, key_id, sealed, revision, created_at, updated_at"

/** Secrets in the metadata database (table `secrets`, migration 0200); values stay sealed. */
export const layerSecretStore: Layer.Layer<SecretStore, never, Database> = Layer.effect(
  SecretStore,
  Effect.gen(function*() {
    const db = yield* Database
    return SecretStore.of({
      insert: ({ secret, sealed }) =>
        db.use((sql) =>
          sql`insert into secrets (id, name, visibility, owner, app_name, scope, keys, key_id, sealed, revision, created_at, updated_at)
            values (${secret.id}, ${secret.name}, ${secret.visibility}, ${secret.owner}, ${secret.appName ?? null},
              ${scopeOf(secret)}, ${sql.json([...secret.keys])}, ${sealed.keyId}, ${sealed.data}, ${secret.revision},
              ${secret.createdAt}, ${secret.updatedAt})`
        ).pipe(
          Effect.asVoid,
          Effect.catchTag("SqlError", (error) =>
            error.code === "23505" ? Effect.fail(new AlreadyExists({ resource: "secret", id: secret.name })) : Effect.die(error))
        ),
      get: (id) =>
        Effect.flatMap(
          orDieSql(db.use((sql) => sql<Array<Row>>`select ${sql.unsafe(columns)} from secrets where id = ${id}`)),
          ([row]) => (row === undefined ? Effect.fail(new NotFound({ resource: "secret", id })) : Effect.succeed(toRecord(row)))
        ),
      find: (scope, name) =>
        Effect.map(
          orDieSql(db.use((sql) =>
            sql<Array<Row>>`select ${sql.unsafe(columns)} from secrets
              where visibility = ${scope.visibility} and scope = ${scopeOf(scope)} and name = ${name}`
          )),
          ([row]) => (row === undefined ? undefined : toRecord(row))
        ),
      list: (query) =>
        Effect.map(
          orDieSql(db.use((sql) =>
            sql<Array<Row>>`select ${sql.unsafe(columns)} from secrets where true
              ${query.owner === undefined ? sql`` : sql`and owner = ${query.owner}`}
              ${query.visibility === undefined ? sql`` : sql`and visibility = ${query.visibility}`}
              ${query.appName === undefined ? sql`` : sql`and app_name = ${query.appName}`}
              order by name, id`
          )),
          (rows) => rows.map(toSecret)
        ),
      update: (id, expectedRevision, change) =>
        Effect.gen(function*() {
          const rows = yield* orDieSql(db.use((sql) =>
            sql<Array<Row>>`update secrets set keys = ${sql.json([...change.keys])}, key_id = ${change.sealed.keyId},
              sealed = ${change.sealed.data}, revision = revision + 1, updated_at = ${change.updatedAt}
              where id = ${id} and revision = ${expectedRevision}
              returning ${sql.unsafe(columns)}`
          ))
          if (rows[0] !== undefined) return toSecret(rows[0])
          const [exists] = yield* orDieSql(db.use((sql) => sql`select name from secrets where id = ${id}`))
          return yield* (exists === undefined
            ? Effect.fail(new NotFound({ resource: "secret", id }))
            : Effect.fail(new Conflict({ message: `secret ${String(exists.name)} changed meanwhile; read it again` })))
        }),
      delete: (id) =>
        Effect.flatMap(
          orDieSql(db.use((sql) => sql`delete from secrets where id = ${id} returning id`)),
          (rows) => (rows.length === 0 ? Effect.fail(new NotFound({ resource: "secret", id })) : Effect.void)
        )
    })
  })
)
