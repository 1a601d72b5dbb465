import { Effect, Layer } from "effect"
import { newUserId, type Role, type UserId } from "@aquifer/core"
import { User, UserDirectory } from "@aquifer/identity"
import { Database, orDieSql } from "./database.ts"

interface Row {
  readonly id: string
  readonly issuer: string
  readonly subject: string
  readonly name: string
  readonly email: string | null
  readonly groups: ReadonlyArray<string>
  readonly roles: ReadonlyArray<Role>
  readonly created_at: Date
  readonly last_seen_at: Date
}

const fromRow = (row: Row) =>
  new User({
    id: row.id as UserId,
    issuer: row.issuer,
    subject: row.subject,
    name: row.name,
    email: row.email ?? undefined,
    groups: row.groups,
    roles: row.roles,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at
  })

// An issuer identifier has no fragment, so the first `#` ends it; a subject may contain `#`.
const splitKey = (key: string): [string, string] | undefined => {
  const at = key.indexOf("#")
  return at <= 0 ? undefined : [key.slice(0, at), key.slice(at + 1)]
}

/** The user directory in the metadata database (table `identity_users`, migration 0100). */
export const layerUserDirectory: Layer.Layer<UserDirectory, never, Database> = Layer.effect(
  UserDirectory,
  Effect.gen(function*() {
    const db = yield* Database
    return UserDirectory.of({
      record: (principal, at) =>
        orDieSql(db.use((sql) =>
          sql<Array<Row>>`insert into identity_users (id, issuer, subject, name, email, groups, roles, created_at, last_seen_at)
            values (${newUserId()}, ${principal.issuer}, ${principal.subject}, ${principal.name}, ${principal.email ?? null},
              ${sql.json([...principal.groups])}, ${sql.json([...principal.roles])}, ${at}, ${at})
            on conflict (issuer, subject) do update set
              name = excluded.name, email = excluded.email, groups = excluded.groups, roles = excluded.roles,
              last_seen_at = excluded.last_seen_at
            returning *`
        )).pipe(Effect.map((rows) => fromRow(rows[0]!))),
      get: (key) => {
        const parts = splitKey(key)
        if (parts === undefined) return Effect.succeed(undefined)
        return orDieSql(db.use((sql) =>
          sql<Array<Row>>`select * from identity_users where issuer = ${parts[0]} and subject = ${parts[1]}`
        )).pipe(Effect.map((rows) => rows[0] === undefined ? undefined : fromRow(rows[0])))
      }
    })
  })
)
