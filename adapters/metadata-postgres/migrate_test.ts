import { createHash } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Database, layer, type Migration } from "./mod.ts"
import { migrate } from "./migrate.ts"
import { serverAvailable, testServerUrl } from "./testing.ts"
import postgres from "postgres"
import { randomBytes } from "node:crypto"

const migration = (id: string, sql: string): Migration => ({ id, sql, checksum: createHash("sha256").update(sql).digest("hex") })

const good = migration("0001_widgets", "create table widgets (id text primary key); insert into widgets values ('w1');")
const bad = migration(
  "0002_broken",
  "create table gadgets (id text primary key); alter table widgets add column size int; select no_such_function();"
)
const later = migration("0003_later", "create table later_things (id int);")

const tables = (sql: postgres.Sql) =>
  sql<Array<{ table_name: string }>>`select table_name from information_schema.tables where table_schema = 'public' order by 1`
    .then((rows) => rows.map((row) => row.table_name))

const scenario = async (sql: postgres.Sql) => {
  assert.deepStrictEqual(await migrate(sql, [good]), ["0001_widgets"])
  const error = await migrate(sql, [good, bad, later]).then(() => undefined, (e: unknown) => e)
  assert.match(String((error as Error)?.message), /no_such_function/)
  // The failing migration left nothing behind, and nothing after it ran.
  assert.deepStrictEqual(await tables(sql), ["aquifer_migrations", "widgets"])
  const columns = await sql`select column_name from information_schema.columns where table_name = 'widgets'`
  assert.deepStrictEqual(columns.map((c) => c.column_name), ["id"])
  const applied = await sql`select id from aquifer_migrations order by id`
  assert.deepStrictEqual(applied.map((r) => r.id), ["0001_widgets"])
  // Applying again is a no-op; a fixed set goes on where it stopped.
  assert.deepStrictEqual(await migrate(sql, [good]), [])
  assert.deepStrictEqual(await migrate(sql, [good, later]), ["0003_later"])
  assert.deepStrictEqual((await sql`select id from widgets`).map((r) => r.id), ["w1"])
}

describe("migrations", () => {
  it.live("on PGlite: a failing migration leaves the schema exactly as before", () =>
    Effect.gen(function*() {
      const db = yield* Database
      yield* db.use(scenario)
    }).pipe(Effect.provide(layer({ migrations: [] }))), 60_000)

  it.live.skipIf(!serverAvailable)("on the PostgreSQL server: the same, and concurrent replicas apply each migration once", () =>
    Effect.promise(async () => {
      const name = `aquifer_test_${randomBytes(6).toString("hex")}`
      const admin = postgres(testServerUrl, { max: 1, onnotice: () => {} })
      await admin.unsafe(`create database ${name}`)
      const url = new URL(testServerUrl)
      url.pathname = `/${name}`
      const replicas = [1, 2, 3].map(() => postgres(url.toString(), { max: 2, onnotice: () => {} }))
      try {
        await scenario(replicas[0]!)
        const extra = [1, 2, 3, 4, 5].map((n) => migration(`001${n}_extra`, `create table extra_${n} (id int);`))
        const results = await Promise.all(replicas.map((sql) => migrate(sql, [good, later, ...extra])))
        assert.deepStrictEqual(results.flat().sort(), extra.map((m) => m.id))
      } finally {
        await Promise.all(replicas.map((sql) => sql.end({ timeout: 1 })))
        await admin.unsafe(`drop database if exists ${name} with (force)`)
        await admin.end()
      }
    }), 60_000)
})
