import { AlreadyExists, NotFound } from "@aquifer/core"
import { Bucket, BucketRepository, Member, Quota, QuotaExceeded, quotaProblem, Usage } from "@aquifer/drive"
import { Effect, Layer } from "effect"
import type { Sql } from "postgres"
import { Database, orDieSql } from "./database.ts"

interface BucketRow {
  readonly name: string
  readonly storage_id: string
  readonly owner: string
  readonly home: boolean
  readonly created_at: Date
  readonly max_bytes: string | null
  readonly max_objects: string | null
  readonly used_bytes: string
  readonly used_objects: string
}

interface MemberRow {
  readonly bucket: string
  readonly kind: "user" | "group"
  readonly member: string
  readonly access: "read" | "read-write"
}

const columns = (sql: Sql) =>
  sql`b.name, b.storage_id, b.owner, b.home, b.created_at, b.max_bytes, b.max_objects, b.used_bytes, b.used_objects`

const withMembers = async (sql: Sql, rows: ReadonlyArray<BucketRow>): Promise<Array<Bucket>> => {
  if (rows.length === 0) return []
  const members = await sql<Array<MemberRow>>`select bucket, kind, member, access from drive_bucket_members
    where bucket in ${sql(rows.map((row) => row.name))} order by bucket, position`
  return rows.map((row) =>
    new Bucket({
      name: row.name as Bucket["name"],
      storageId: row.storage_id,
      owner: row.owner,
      home: row.home,
      createdAt: row.created_at,
      members: members.filter((m) => m.bucket === row.name).map((m) => new Member({ kind: m.kind, id: m.member, access: m.access })),
      quota: new Quota({
        ...(row.max_bytes === null ? {} : { maxBytes: Number(row.max_bytes) }),
        ...(row.max_objects === null ? {} : { maxObjects: Number(row.max_objects) })
      }),
      usage: new Usage({ bytes: Number(row.used_bytes), objects: Number(row.used_objects) })
    })
  )
}

const insertMembers = (sql: Sql, bucket: string, members: ReadonlyArray<Member>) =>
  members.length === 0
    ? Promise.resolve()
    : sql`insert into drive_bucket_members ${
      sql(members.map((m, position) => ({ bucket, position, kind: m.kind, member: m.id, access: m.access })))
    }`.then(() => undefined)

/** The Drive's buckets in the metadata database (tables `drive_buckets`, `drive_bucket_members`, migration 0400). */
export const layerDriveBuckets: Layer.Layer<BucketRepository, never, Database> = Layer.effect(
  BucketRepository,
  Effect.gen(function*() {
    const db = yield* Database
    const get = (name: string) =>
      orDieSql(db.use(async (sql) =>
        (await withMembers(sql, await sql<Array<BucketRow>>`select ${columns(sql)} from drive_buckets b where b.name = ${name}`))[0]
      ))
    return BucketRepository.of({
      insert: (bucket) =>
        db.use((sql) =>
          sql.begin(async (tx) => {
            await tx`insert into drive_buckets
              (name, storage_id, owner, home, created_at, max_bytes, max_objects, used_bytes, used_objects)
              values (${bucket.name}, ${bucket.storageId}, ${bucket.owner}, ${bucket.home}, ${bucket.createdAt},
                ${bucket.quota.maxBytes ?? null}::bigint, ${bucket.quota.maxObjects ?? null}::bigint, ${bucket.usage.bytes}::bigint, ${bucket.usage.objects}::bigint)`
            await insertMembers(tx as unknown as Sql, bucket.name, bucket.members)
          })
        ).pipe(
          Effect.catchTag("SqlError", (error) => {
            if (error.code !== "23505") return Effect.die(error)
            const constraint = (error.cause as { constraint_name?: string })?.constraint_name
            return Effect.fail(
              constraint === "drive_buckets_one_home"
                ? new AlreadyExists({ resource: "home", id: bucket.owner })
                : new AlreadyExists({ resource: "bucket", id: bucket.name })
            )
          })
        ),
      get,
      home: (owner) =>
        orDieSql(db.use(async (sql) =>
          (await withMembers(sql, await sql<Array<BucketRow>>`select ${columns(sql)} from drive_buckets b where b.owner = ${owner} and b.home`))[0]
        )),
      listAccessible: (principal, groups) =>
        orDieSql(db.use(async (sql) =>
          withMembers(
            sql,
            await sql<Array<BucketRow>>`select ${columns(sql)} from drive_buckets b
              where b.owner = ${principal}
                or b.name in (select bucket from drive_bucket_members
                  where (kind = 'user' and member = ${principal})
                    ${groups.length === 0 ? sql`` : sql`or (kind = 'group' and member in ${sql([...groups])})`})
              order by b.name collate "C" limit 1000`
          )
        )),
      update: (name, changes) =>
        Effect.gen(function*() {
          const found = yield* orDieSql(db.use((sql) =>
            sql.begin(async (tx) => {
              const rows = changes.quota === undefined
                ? await tx`select name from drive_buckets where name = ${name} for update`
                : await tx`update drive_buckets set max_bytes = ${changes.quota.maxBytes ?? null}::bigint,
                    max_objects = ${changes.quota.maxObjects ?? null}::bigint where name = ${name} returning name`
              if (rows.length === 0) return false
              if (changes.members !== undefined) {
                await tx`delete from drive_bucket_members where bucket = ${name}`
                await insertMembers(tx as unknown as Sql, name, changes.members)
              }
              return true
            })
          ))
          const bucket = found ? yield* get(name) : undefined
          if (bucket === undefined) return yield* new NotFound({ resource: "bucket", id: name })
          return bucket
        }),
      remove: (name) => orDieSql(db.use((sql) => sql`delete from drive_buckets where name = ${name}`)).pipe(Effect.asVoid),
      adjustUsage: (name, delta, enforce) =>
        Effect.gen(function*() {
          const rows = yield* orDieSql(db.use((sql) =>
            sql<Array<{ used_bytes: string; used_objects: string }>>`update drive_buckets set
                used_bytes = greatest(0, used_bytes + ${delta.bytes}::bigint),
                used_objects = greatest(0, used_objects + ${delta.objects}::bigint)
              where name = ${name} and (${!enforce}::boolean
                or ((${delta.bytes}::bigint <= 0 or max_bytes is null or used_bytes + ${delta.bytes}::bigint <= max_bytes)
                  and (${delta.objects}::bigint <= 0 or max_objects is null or used_objects + ${delta.objects}::bigint <= max_objects)))
              returning used_bytes, used_objects`
          ))
          const row = rows[0]
          if (row !== undefined) return new Usage({ bytes: Number(row.used_bytes), objects: Number(row.used_objects) })
          const current = yield* get(name)
          if (current === undefined) return yield* new NotFound({ resource: "bucket", id: name })
          return yield* new QuotaExceeded({ bucket: name, message: quotaProblem(current, delta) ?? "the bucket's quota would be exceeded" })
        }),
      setUsage: (name, usage) =>
        Effect.gen(function*() {
          const rows = yield* orDieSql(db.use((sql) =>
            sql`update drive_buckets set used_bytes = ${usage.bytes}::bigint, used_objects = ${usage.objects}::bigint where name = ${name} returning name`
          ))
          if (rows.length === 0) return yield* new NotFound({ resource: "bucket", id: name })
        })
    })
  })
)
