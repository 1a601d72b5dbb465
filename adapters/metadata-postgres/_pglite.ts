// Embedded PostgreSQL: PGlite served on a private Unix socket by pglite-socket, so the
// `postgres` client — the only SQL client Aquifer has — speaks to it exactly as to a server.
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"

const pgliteVersion = (JSON.parse(
  readFileSync(join(dirname(createRequire(import.meta.url).resolve("@electric-sql/pglite")), "..", "package.json"), "utf8")
) as { version: string }).version
const seedFile = join(import.meta.dirname, "node_modules", ".cache", `pglite-seed-${pgliteVersion}.tar.gz`)

/**
 * Makes (once per machine and PGlite version) a gzipped tarball of a freshly initialised data
 * directory. Starting from it skips initdb: ~0.7 s instead of ~2.5 s on this project's machines.
 */
export const ensureSeed = async (): Promise<string> => {
  if (existsSync(seedFile)) return seedFile
  const db = await PGlite.create()
  try {
    const blob = await db.dumpDataDir("gzip")
    mkdirSync(join(seedFile, ".."), { recursive: true })
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
export const startEmbedded = async (dataDir: string | undefined): Promise<Embedded> => {
  const unlock = dataDir === undefined ? () => {} : lockDataDir(dataDir)
  try {
    const fresh = dataDir === undefined || !existsSync(join(dataDir, "PG_VERSION"))
    if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    const seed = fresh ? await ensureSeed().catch(() => undefined) : undefined
    const db = await PGlite.create({
      ...(dataDir === undefined ? {} : { dataDir }),
      ...(seed === undefined ? {} : { loadDataDir: new Blob([readFileSync(seed)]) })
    })
    // Unix socket paths are limited to ~107 bytes: keep the folder short and private.
    const socketDir = join(tmpdir(), `aquifer-pg-${process.pid}-${Math.random().toString(36).slice(2, 8)}`)
    mkdirSync(socketDir, { mode: 0o700 })
    const path = join(socketDir, ".s.PGSQL.5432")
    const server = new PGLiteSocketServer({ db, path })
    await server.start()
    return {
      connection: { path, user: "postgres", database: "postgres" },
      close: async () => {
        await server.stop()
        await db.close()
        rmSync(socketDir, { recursive: true, force: true })
        unlock()
      }
    }
  } catch (error) {
    unlock()
    throw error
  }
}
