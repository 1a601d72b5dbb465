import { Effect, Layer, Redacted } from "effect"
import { AlreadyExists, Conflict, NotFound, Principal, type SessionId } from "@aquifer/core"
import { Session, SessionStore } from "@aquifer/identity"
import { Database, orDieSql } from "./database.ts"
import { uniqueOr } from "./_unique.ts"

interface Row {
  readonly id: string
  readonly secret_hash: string
  readonly principal: typeof Principal.Encoded
  readonly access_token: string
  readonly access_token_expires_at: Date
  readonly refresh_token: string | null
  readonly id_token: string | null
  readonly created_at: Date
  readonly last_seen_at: Date
  readonly idle_expires_at: Date
  readonly absolute_expires_at: Date
  readonly revoked_at: Date | null
  readonly version: number
}

const principalJson = (p: Principal) => ({
  issuer: p.issuer,
  subject: p.subject,
  name: p.name,
  ...(p.email === undefined ? {} : { email: p.email }),
  groups: [...p.groups],
  roles: [...p.roles]
})

const fromRow = (row: Row) =>
  new Session({
    id: row.id as SessionId,
    secretHash: row.secret_hash,
    principal: Principal.make({ ...row.principal, groups: [...row.principal.groups], roles: [...row.principal.roles] }),
    accessToken: Redacted.make(row.access_token),
    accessTokenExpiresAt: row.access_token_expires_at,
    refreshToken: row.refresh_token === null ? undefined : Redacted.make(row.refresh_token),
    idToken: row.id_token === null ? undefined : Redacted.make(row.id_token),
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    idleExpiresAt: row.idle_expires_at,
    absoluteExpiresAt: row.absolute_expires_at,
    revokedAt: row.revoked_at ?? undefined,
    version: row.version
  })

const optional = (value: Redacted.Redacted<string> | undefined) => value === undefined ? null : Redacted.value(value)

/** Sessions in the metadata database (table `identity_sessions`, migration 0100). */
export const layerSessionStore: Layer.Layer<SessionStore, never, Database> = Layer.effect(
  SessionStore,
  Effect.gen(function*() {
    const db = yield* Database
    const one = (rows: ReadonlyArray<Row>) => rows[0] === undefined ? undefined : fromRow(rows[0])
    return SessionStore.of({
      create: (s) =>
        uniqueOr(
          db.use((sql) =>
            sql`insert into identity_sessions (id, secret_hash, principal_key, principal, access_token, access_token_expires_at,
                refresh_token, id_token, created_at, last_seen_at, idle_expires_at, absolute_expires_at, revoked_at, version)
              values (${s.id}, ${s.secretHash}, ${s.principal.key}, ${sql.json(principalJson(s.principal))},
                ${Redacted.value(s.accessToken)}, ${s.accessTokenExpiresAt}, ${optional(s.refreshToken)}, ${optional(s.idToken)},
                ${s.createdAt}, ${s.lastSeenAt}, ${s.idleExpiresAt}, ${s.absoluteExpiresAt}, ${s.revokedAt ?? null}, ${s.version})`
          ),
          () => new AlreadyExists({ resource: "session", id: s.id })
        ).pipe(Effect.asVoid),
      get: (id) => orDieSql(db.use((sql) => sql<Array<Row>>`select * from identity_sessions where id = ${id}`)).pipe(Effect.map(one)),
      findBySecretHash: (hash) =>
        orDieSql(db.use((sql) => sql<Array<Row>>`select * from identity_sessions where secret_hash = ${hash}`)).pipe(Effect.map(one)),
      updateTokens: (id, expectedVersion, tokens) =>
        Effect.gen(function*() {
          const rows = yield* orDieSql(db.use((sql) =>
            sql<Array<Row>>`update identity_sessions set
                principal = ${sql.json(principalJson(tokens.principal))},
                access_token = ${Redacted.value(tokens.accessToken)},
                access_token_expires_at = ${tokens.accessTokenExpiresAt},
                refresh_token = coalesce(${optional(tokens.refreshToken)}, refresh_token),
                id_token = coalesce(${optional(tokens.idToken)}, id_token),
                version = version + 1
              where id = ${id} and version = ${expectedVersion} and revoked_at is null
              returning *`
          ))
          if (rows[0] !== undefined) return fromRow(rows[0])
          const exists = yield* orDieSql(db.use((sql) => sql`select 1 from identity_sessions where id = ${id}`))
          return yield* exists.length === 0
            ? Effect.fail(new NotFound({ resource: "session", id }))
            : Effect.fail(new Conflict({ message: `session ${id} changed since version ${expectedVersion}` }))
        }),
      touch: (id, lastSeenAt, idleExpiresAt) =>
        orDieSql(db.use((sql) =>
          sql`update identity_sessions set last_seen_at = ${lastSeenAt}, idle_expires_at = ${idleExpiresAt}
            where id = ${id} and revoked_at is null`
        )).pipe(Effect.asVoid),
      revoke: (id, at) =>
        orDieSql(db.use((sql) => sql`update identity_sessions set revoked_at = ${at} where id = ${id} and revoked_at is null`))
          .pipe(Effect.map((result) => result.count > 0)),
      revokeAllOf: (key, at) =>
        orDieSql(db.use((sql) =>
          sql`update identity_sessions set revoked_at = ${at} where principal_key = ${key} and revoked_at is null`
        )).pipe(Effect.map((result) => result.count)),
      deleteEnded: (before) =>
        orDieSql(db.use((sql) =>
          sql`delete from identity_sessions
            where revoked_at < ${before} or idle_expires_at < ${before} or absolute_expires_at < ${before}`
        )).pipe(Effect.map((result) => result.count))
    })
  })
)
