import { Effect, Layer } from "effect"
import { AlreadyExists, type TokenId } from "@aquifer/core"
import { PlatformToken, PlatformTokenStore, type TokenScope } from "@aquifer/identity"
import { Database, orDieSql } from "./database.ts"
import { uniqueOr } from "./_unique.ts"

interface Row {
  readonly id: string
  readonly owner: string
  readonly name: string
  readonly scopes: ReadonlyArray<TokenScope>
  readonly secret_hash: string
  readonly created_at: Date
  readonly expires_at: Date
  readonly last_used_at: Date | null
  readonly revoked_at: Date | null
}

const fromRow = (row: Row) =>
  new PlatformToken({
    id: row.id as TokenId,
    owner: row.owner,
    name: row.name,
    scopes: row.scopes,
    secretHash: row.secret_hash,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at ?? undefined,
    revokedAt: row.revoked_at ?? undefined
  })

/** Platform tokens in the metadata database (table `identity_platform_tokens`, migration 0100). */
export const layerPlatformTokenStore: Layer.Layer<PlatformTokenStore, never, Database> = Layer.effect(
  PlatformTokenStore,
  Effect.gen(function*() {
    const db = yield* Database
    const one = (rows: ReadonlyArray<Row>) => rows[0] === undefined ? undefined : fromRow(rows[0])
    return PlatformTokenStore.of({
      create: (t) =>
        uniqueOr(
          db.use((sql) =>
            sql`insert into identity_platform_tokens (id, owner, name, scopes, secret_hash, created_at, expires_at, last_used_at, revoked_at)
              values (${t.id}, ${t.owner}, ${t.name}, ${sql.json([...t.scopes])}, ${t.secretHash}, ${t.createdAt}, ${t.expiresAt},
                ${t.lastUsedAt ?? null}, ${t.revokedAt ?? null})`
          ),
          () => new AlreadyExists({ resource: "token", id: t.name })
        ).pipe(Effect.asVoid),
      get: (id) => orDieSql(db.use((sql) => sql<Array<Row>>`select * from identity_platform_tokens where id = ${id}`)).pipe(Effect.map(one)),
      findBySecretHash: (hash) =>
        orDieSql(db.use((sql) => sql<Array<Row>>`select * from identity_platform_tokens where secret_hash = ${hash}`)).pipe(Effect.map(one)),
      list: (owner, options) =>
        orDieSql(db.use((sql) =>
          sql<Array<Row>>`select * from identity_platform_tokens
            where owner = ${owner} ${options?.includeRevoked === true ? sql`` : sql`and revoked_at is null`}
            order by created_at desc, id desc`
        )).pipe(Effect.map((rows) => rows.map(fromRow))),
      revoke: (id, at) =>
        orDieSql(db.use((sql) => sql`update identity_platform_tokens set revoked_at = ${at} where id = ${id} and revoked_at is null`))
          .pipe(Effect.map((result) => result.count > 0)),
      touch: (id, at) =>
        orDieSql(db.use((sql) => sql`update identity_platform_tokens set last_used_at = ${at} where id = ${id} and revoked_at is null`))
          .pipe(Effect.asVoid)
    })
  })
)
