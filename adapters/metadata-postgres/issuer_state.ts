import { Effect, Layer } from "effect"
import { IssuerRecord, IssuerStateStore } from "@aquifer/identity"
import { Database, orDieSql } from "./database.ts"

interface Row {
  readonly kind: string
  readonly id: string
  readonly payload: Record<string, unknown>
  readonly grant_id: string | null
  readonly uid: string | null
  readonly user_code: string | null
  readonly expires_at: Date | null
  readonly consumed_at: Date | null
}

const fromRow = (row: Row) =>
  new IssuerRecord({
    kind: row.kind,
    id: row.id,
    payload: row.payload,
    grantId: row.grant_id ?? undefined,
    uid: row.uid ?? undefined,
    userCode: row.user_code ?? undefined,
    expiresAt: row.expires_at ?? undefined,
    consumedAt: row.consumed_at ?? undefined
  })

const first = (rows: ReadonlyArray<Row>) => rows[0] === undefined ? undefined : fromRow(rows[0])

/** The embedded issuer's state in the metadata database (table `identity_issuer_records`, migration 0101). */
export const layerIssuerStateStore: Layer.Layer<IssuerStateStore, never, Database> = Layer.effect(
  IssuerStateStore,
  Effect.gen(function*() {
    const db = yield* Database
    return IssuerStateStore.of({
      put: (r) =>
        orDieSql(db.use((sql) =>
          sql`insert into identity_issuer_records (kind, id, payload, grant_id, uid, user_code, expires_at, consumed_at)
            values (${r.kind}, ${r.id}, ${sql.json(r.payload as never)}, ${r.grantId ?? null}, ${r.uid ?? null}, ${r.userCode ?? null},
              ${r.expiresAt ?? null}, ${r.consumedAt ?? null})
            on conflict (kind, id) do update set payload = excluded.payload, grant_id = excluded.grant_id, uid = excluded.uid,
              user_code = excluded.user_code, expires_at = excluded.expires_at, consumed_at = excluded.consumed_at`
        )).pipe(Effect.asVoid),
      get: (kind, id, now) =>
        orDieSql(db.use((sql) =>
          sql<Array<Row>>`select * from identity_issuer_records
            where kind = ${kind} and id = ${id} and (expires_at is null or expires_at > ${now})`
        )).pipe(Effect.map(first)),
      findByUid: (kind, uid, now) =>
        orDieSql(db.use((sql) =>
          sql<Array<Row>>`select * from identity_issuer_records
            where kind = ${kind} and uid = ${uid} and (expires_at is null or expires_at > ${now}) limit 1`
        )).pipe(Effect.map(first)),
      findByUserCode: (kind, userCode, now) =>
        orDieSql(db.use((sql) =>
          sql<Array<Row>>`select * from identity_issuer_records
            where kind = ${kind} and user_code = ${userCode} and (expires_at is null or expires_at > ${now}) limit 1`
        )).pipe(Effect.map(first)),
      consume: (kind, id, at) =>
        orDieSql(db.use((sql) =>
          sql`update identity_issuer_records set consumed_at = ${at}
            where kind = ${kind} and id = ${id} and consumed_at is null and (expires_at is null or expires_at > ${at})`
        )).pipe(Effect.map((result) => result.count > 0)),
      delete: (kind, id) =>
        orDieSql(db.use((sql) => sql`delete from identity_issuer_records where kind = ${kind} and id = ${id}`)).pipe(Effect.asVoid),
      deleteGrant: (grantId) =>
        orDieSql(db.use((sql) => sql`delete from identity_issuer_records where grant_id = ${grantId}`)).pipe(Effect.map((r) => r.count)),
      deleteExpired: (now) =>
        orDieSql(db.use((sql) => sql`delete from identity_issuer_records where expires_at <= ${now}`)).pipe(Effect.map((r) => r.count))
    })
  })
)
