import { Effect, Layer, Redacted } from "effect"
import { AlreadyExists, NotFound, type Role } from "@aquifer/core"
import { LocalAccount, LocalAccountStore } from "@aquifer/identity"
import { Database, orDieSql } from "./database.ts"
import { uniqueOr } from "./_unique.ts"

interface Row {
  readonly subject: string
  readonly username: string
  readonly name: string
  readonly email: string | null
  readonly groups: ReadonlyArray<string>
  readonly roles: ReadonlyArray<Role>
  readonly password_hash: string
  readonly must_change_password: boolean
  readonly disabled: boolean
  readonly created_at: Date
  readonly updated_at: Date
}

const fromRow = (row: Row) =>
  new LocalAccount({
    subject: row.subject,
    username: row.username,
    name: row.name,
    email: row.email ?? undefined,
    groups: row.groups,
    roles: row.roles,
    passwordHash: Redacted.make(row.password_hash),
    mustChangePassword: row.must_change_password,
    disabled: row.disabled,
    createdAt: row.created_at,
    updatedAt: row.updated_at
  })

/** The embedded issuer's accounts in the metadata database (table `identity_local_accounts`, migration 0100). */
export const layerLocalAccountStore: Layer.Layer<LocalAccountStore, never, Database> = Layer.effect(
  LocalAccountStore,
  Effect.gen(function*() {
    const db = yield* Database
    const one = (rows: ReadonlyArray<Row>) => rows[0] === undefined ? undefined : fromRow(rows[0])
    return LocalAccountStore.of({
      create: (a) =>
        uniqueOr(
          db.use((sql) =>
            sql`insert into identity_local_accounts (subject, username, name, email, groups, roles, password_hash,
                must_change_password, disabled, created_at, updated_at)
              values (${a.subject}, ${a.username.toLowerCase()}, ${a.name}, ${a.email ?? null}, ${sql.json([...a.groups])},
                ${sql.json([...a.roles])}, ${Redacted.value(a.passwordHash)}, ${a.mustChangePassword}, ${a.disabled},
                ${a.createdAt}, ${a.updatedAt})`
          ),
          () => new AlreadyExists({ resource: "account", id: a.username })
        ).pipe(Effect.asVoid),
      get: (subject) =>
        orDieSql(db.use((sql) => sql<Array<Row>>`select * from identity_local_accounts where subject = ${subject}`)).pipe(Effect.map(one)),
      findByUsername: (username) =>
        orDieSql(db.use((sql) => sql<Array<Row>>`select * from identity_local_accounts where username = ${username.toLowerCase()}`))
          .pipe(Effect.map(one)),
      setPassword: (subject, hash, mustChange, at) =>
        orDieSql(db.use((sql) =>
          sql`update identity_local_accounts set password_hash = ${Redacted.value(hash)}, must_change_password = ${mustChange},
            updated_at = ${at} where subject = ${subject}`
        )).pipe(Effect.flatMap((result) =>
          result.count === 0 ? Effect.fail(new NotFound({ resource: "account", id: subject })) : Effect.void
        )),
      count: () =>
        orDieSql(db.use((sql) => sql<Array<{ n: number }>>`select count(*)::int as n from identity_local_accounts`))
          .pipe(Effect.map((rows) => rows[0]!.n))
    })
  })
)
