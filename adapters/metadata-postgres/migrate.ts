import { createHash } from "node:crypto"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import type { Sql } from "postgres"

/** The migrations shipped with this adapter. */
export const migrationsDir = join(import.meta.dirname, "migrations")

export interface Migration {
  readonly id: string
  readonly sql: string
  readonly checksum: string
}

/** Reads `NNNN_name.sql` files of a folder, in order. Other files are ignored. */
export const readMigrations = (dir: string = migrationsDir): Array<Migration> =>
  readdirSync(dir)
    .filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => {
      const sql = readFileSync(join(dir, file), "utf8")
      return { id: file.replace(/\.sql$/, ""), sql, checksum: createHash("sha256").update(sql).digest("hex") }
    })

// One key for every Aquifer replica: transactions below serialise on it.
const lockKey = 0x41515546

/**
 * Applies every migration not yet recorded in `aquifer_migrations`, each in its own
 * transaction together with its record, under a transaction-scoped advisory lock so that
 * replicas starting together apply each migration once. A failing migration rolls back
 * whole: the schema stays exactly as it was before it, and the error propagates.
 * Returns the ids applied by this call.
 */
export const migrate = async (sql: Sql, migrations: ReadonlyArray<Migration> = readMigrations()): Promise<Array<string>> => {
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${lockKey})`
    await tx`create table if not exists aquifer_migrations (
      id text primary key,
      checksum text not null,
      applied_at timestamptz not null default now()
    )`
  })
  const applied: Array<string> = []
  for (const migration of migrations) {
    const done = await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${lockKey})`
      const [row] = await tx`select checksum from aquifer_migrations where id = ${migration.id}`
      if (row !== undefined) return true
      await tx.unsafe(migration.sql)
      await tx`insert into aquifer_migrations (id, checksum) values (${migration.id}, ${migration.checksum})`
      return false
    })
    if (!done) applied.push(migration.id)
  }
  return applied
}
