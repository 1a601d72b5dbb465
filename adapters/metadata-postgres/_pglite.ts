// Embedded PostgreSQL: PGlite served on a private Unix socket by pglite-socket, so the
// `postgres` client — the only SQL client Aquifer has — speaks to it exactly as to a server.
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { createHash } from "node:crypto"
import postgres from "postgres"
import { migrate, readMigrations } from "./migrate.ts"

const pgliteVersion = (JSON.parse(
  readFileSync(join(dirname(createRequire(import.meta.url).resolve("@electric-sql/pglite")), "..", "package.json"), "utf8")
) as { version: string }).version
const cacheDir = join(import.meta.dirname, "node_modules", ".cache")

/** Serves `db` on a Unix socket in a private folder (socket paths are limited to ~107 bytes). */
const serve = async (db: PGlite) => {
  const socketDir = join(tmpdir(), `aquifer-pg-${process.pid}-${Math.random().toString(36).slice(2, 8)}`)
  mkdirSync(socketDir, { mode: 0o700 })
  const path = join(socketDir, ".s.PGSQL.5432")
  const server = new PGLiteSocketServer({ db, path })
  await server.start()
  return {
    connection: { path, user: "postgres", database: "postgres" },
    stop: async () => {
      await server.stop()
      rmSync(socketDir, { recursive: true, force: true })
    }
  }
}

const fingerprint = (migrated: boolean) =>
  migrated
    ? `-m${createHash("sha256").update(readMigrations().map((m) => `${m.id}:${m.checksum}`).join("\n")).digest("hex").slice(0, 16)}`
    : ""

const applyMigrations = async (db: PGlite) => {
  const served = await serve(db)
  const sql = postgres({ ...served.connection, max: 1, onnotice: () => {} })
  try {
    await migrate(sql)
  } finally {
    await sql.end({ timeout: 5 })
    await served.stop()
  }
}

/**
 * The embedded database's templates, made once per machine, PGlite version and set of migrations
 * (`migrated`: with the shipped migrations applied; migrations added later still apply on
 * start). A new database starts from one and skips initdb and those migrations:
 * - `ensureTemplateDir`: a data directory, copied for a new on-disk database (~0.35 s instead of
 *   ~2.5 s for initdb on this project's machines);
 * - `ensureSeed`: a gzipped tarball of one, loaded by an in-memory database (the tests').
 */
export const ensureTemplateDir = async (migrated = true): Promise<string> => {
  const dir = join(cacheDir, `pglite-template-${pgliteVersion}${fingerprint(migrated)}`)
  if (existsSync(join(dir, "PG_VERSION"))) return dir
  const partial = `${dir}.${process.pid}.partial`
  rmSync(partial, { recursive: true, force: true })
  mkdirSync(cacheDir, { recursive: true })
  const db = await PGlite.create({ dataDir: partial })
  try {
    if (migrated) await applyMigrations(db)
  } finally {
    await db.close()
  }
  rmSync(dir, { recursive: true, force: true })
  renameSync(partial, dir)
  return dir
}

export const ensureSeed = async (migrated = true): Promise<string> => {
  const seedFile = join(cacheDir, `pglite-seed-${pgliteVersion}${fingerprint(migrated)}.tar.gz`)
  if (existsSync(seedFile)) return seedFile
  const db = await PGlite.create()
  try {
    if (migrated) await applyMigrations(db)
    const blob = await db.dumpDataDir("gzip")
    mkdirSync(cacheDir, { recursive: true })
    const partial = `${seedFile}.${process.pid}.partial`
    writeFileSync(partial, new Uint8Array(await blob.arrayBuffer()))
    renameSync(partial, seedFile)
  } finally {
    await db.close()
  }
  return seedFile
}

export interface Embedded {
  /** Options for the `postgres` client. */
  readonly connection: { readonly path: string; readonly user: string; readonly database: string }
  readonly close: () => Promise<void>
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** Holds `<dataDir>.pid` so two processes never open one PGlite data directory. */
const lockDataDir = (dataDir: string): (() => void) => {
  const pidFile = `${dataDir}.pid`
  mkdirSync(dirname(dataDir), { recursive: true, mode: 0o700 })
  if (existsSync(pidFile)) {
    const holder = Number(readFileSync(pidFile, "utf8"))
    if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
      throw new Error(`another Aquifer process (pid ${holder}) is using the embedded database at ${dataDir}`)
    }
  }
  writeFileSync(pidFile, String(process.pid))
  return () => rmSync(pidFile, { force: true })
}

/**
 * Starts PGlite on `dataDir` (in memory when absent), seeded from the template when the
 * directory is new, and serves it on a Unix socket in a private folder.
 */
export const startEmbedded = async (dataDir: string | undefined, options: { readonly migrated: boolean }): Promise<Embedded> => {
  const unlock = dataDir === undefined ? () => {} : lockDataDir(dataDir)
  try {
    let seed: string | undefined
    if (dataDir === undefined) {
      seed = await ensureSeed(options.migrated).catch(() => undefined)
    } else if (!existsSync(join(dataDir, "PG_VERSION"))) {
      // Without a template (it failed to build), PGlite runs initdb itself.
      const template = await ensureTemplateDir(options.migrated).catch(() => undefined)
      if (template !== undefined) cpSync(template, dataDir, { recursive: true })
      else mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    }
    const db = await PGlite.create({
      ...(dataDir === undefined ? {} : { dataDir }),
      ...(seed === undefined ? {} : { loadDataDir: new Blob([readFileSync(seed)]) })
    })
    const served = await serve(db)
    return {
      connection: served.connection,
      close: async () => {
        await served.stop()
        await db.close()
        unlock()
      }
    }
  } catch (error) {
    unlock()
    throw error
  }
}
