/**
 * Databases for the tests of SQL repositories: embedded PGlite (always) and the PostgreSQL
 * server of `AQUIFER_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`),
 * each test file getting a database of its own that is dropped afterwards.
 *
 * ```ts
 * import { describe } from "vitest"
 * import { pgliteTestLayer, postgresTestLayer, serverAvailable } from "@aquifer/metadata-postgres/testing"
 * suite("pglite", layerMyRepo.pipe(Layer.provide(pgliteTestLayer())))
 * describe.skipIf(!serverAvailable)(…)
 * ```
 * @module
 */
import { randomBytes } from "node:crypto"
import { Effect, Layer, Redacted } from "effect"
import postgres from "postgres"
import { Database, layer, make } from "./database.ts"

export const testServerUrl = process.env.AQUIFER_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"

const probe = async (): Promise<boolean> => {
  const sql = postgres(testServerUrl, { max: 1, connect_timeout: 3, onnotice: () => {} })
  try {
    await sql`select 1`
    return true
  } catch {
    return false
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {})
  }
}

/**
 * Whether the PostgreSQL test server answers. In CI (`CI=true`) its absence is an error, not a
 * reason to skip: the suite must run there.
 */
export const serverAvailable: boolean = await probe()
if (!serverAvailable) {
  if (process.env.CI === "true") throw new Error(`CI=true but the PostgreSQL test server at ${testServerUrl} does not answer`)
  process.stderr.write(`SKIPPING PostgreSQL-server tests: nothing answers at ${testServerUrl} (PGlite tests still run)\n`)
}

/** A fresh in-memory PGlite database, migrated, for one test file. */
export const pgliteTestLayer = (): Layer.Layer<Database> => layer({})

/** A fresh database on the test server (created and dropped around the layer's lifetime). */
export const postgresTestLayer = (): Layer.Layer<Database> =>
  Layer.effect(
    Database,
    Effect.gen(function*() {
      const name = `aquifer_test_${randomBytes(6).toString("hex")}`
      const admin = postgres(testServerUrl, { max: 1, onnotice: () => {} })
      yield* Effect.acquireRelease(
        Effect.promise(() => admin.unsafe(`create database ${name}`)),
        () =>
          Effect.promise(async () => {
            await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {})
            await admin.end({ timeout: 2 })
          })
      )
      const url = new URL(testServerUrl)
      url.pathname = `/${name}`
      return yield* make({ url: Redacted.make(url.toString()), maxConnections: 4 })
    })
  )
