import { Principal } from "@aquifer/core"
import { AccessKey, AccessKeyRepository } from "@aquifer/drive"
import { AlreadyExists } from "@aquifer/core"
import { Effect, Layer, Schema } from "effect"
import { Database, orDieSql } from "./database.ts"

interface Row {
  readonly id: string
  readonly principal: unknown
  readonly description: string
  readonly created_at: Date
  readonly sealed_secret: string
}

const encodePrincipal = Schema.encodeSync(Principal)
const decodePrincipal = Schema.decodeUnknownSync(Principal)

const fromRow = (row: Row) =>
  new AccessKey({
    id: row.id,
    principal: decodePrincipal(row.principal),
    description: row.description,
    createdAt: row.created_at,
    sealedSecret: row.sealed_secret
  })

/**
 * The Drive's long-lived access keys (table `drive_access_keys`, migration 0400) and the
 * revocation times of temporary credentials (table `drive_session_revocations`, migration 0402)
 * in the metadata database.
 */
export const layerDriveAccessKeys: Layer.Layer<AccessKeyRepository, never, Database> = Layer.effect(
  AccessKeyRepository,
  Effect.gen(function*() {
    const db = yield* Database
    return AccessKeyRepository.of({
      insert: (key) =>
        db.use((sql) =>
          sql`insert into drive_access_keys (id, principal_key, principal, description, created_at, sealed_secret)
            values (${key.id}, ${key.principal.key}, ${sql.json(encodePrincipal(key.principal) as never)}, ${key.description},
              ${key.createdAt}, ${key.sealedSecret})`
        ).pipe(
          Effect.asVoid,
          Effect.catchTag("SqlError", (error) =>
            error.code === "23505" ? Effect.fail(new AlreadyExists({ resource: "access-key", id: key.id })) : Effect.die(error))
        ),
      get: (id) =>
        orDieSql(db.use((sql) =>
          sql<Array<Row>>`select id, principal, description, created_at, sealed_secret from drive_access_keys where id = ${id}`
        )).pipe(Effect.map((rows) => (rows[0] === undefined ? undefined : fromRow(rows[0])))),
      listByPrincipal: (principal) =>
        orDieSql(db.use((sql) =>
          sql<Array<Row>>`select id, principal, description, created_at, sealed_secret from drive_access_keys
            where principal_key = ${principal} order by created_at, id`
        )).pipe(Effect.map((rows) => rows.map(fromRow))),
      remove: (id) =>
        orDieSql(db.use((sql) => sql`delete from drive_access_keys where id = ${id} returning id`)).pipe(
          Effect.map((rows) => rows.length > 0)
        ),
      revokeSessions: (principal, notBefore) =>
        orDieSql(db.use((sql) =>
          sql<Array<{ not_before: Date }>>`insert into drive_session_revocations (principal_key, not_before)
            values (${principal}, ${notBefore})
            on conflict (principal_key) do update
              set not_before = greatest(drive_session_revocations.not_before, excluded.not_before)
            returning not_before`
        )).pipe(Effect.map((rows) => rows[0]!.not_before)),
      sessionsNotBefore: (principal) =>
        orDieSql(db.use((sql) =>
          sql<Array<{ not_before: Date }>>`select not_before from drive_session_revocations where principal_key = ${principal}`
        )).pipe(Effect.map((rows) => rows[0]?.not_before))
    })
  })
)
