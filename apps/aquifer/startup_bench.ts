// ./aq bench apps/aquifer — start-up to ready, and the audit-log query path on each backend
// next to the same SQL through a bare `postgres` client (the direct path).
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { AuditLog, layerMemory } from "@aquifer/audit"
import { Database, layer as databaseLayer, layerAuditLog } from "@aquifer/metadata-postgres"
import { Effect, Layer, Logger, ManagedRuntime, Redacted } from "effect"

const main = join(import.meta.dirname, "main.ts")
const serverUrl = process.env.AQUIFER_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"
const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const progress = (text: string) => process.stderr.write(`  ${text}\n`)

/** Spawns the server and measures until /readyz answers 200 (ms), then stops it. */
const timeToReady = async (env: Record<string, string>): Promise<number> => {
  const started = performance.now()
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, AQUIFER_PORT: "0", AQUIFER_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "inherit"]
  })
  const url = await new Promise<string>((resolve) => {
    child.stdout.on("data", (chunk: Buffer) => {
      const match = /"url":"(http:\/\/[^"]+)"/.exec(chunk.toString())
      if (match) resolve(match[1]!)
    })
  })
  for (;;) {
    const response = await fetch(`${url}/readyz`).catch(() => undefined)
    if (response?.status === 200) break
    await response?.body?.cancel()
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  const elapsed = performance.now() - started
  child.kill("SIGTERM")
  await new Promise((resolve) => child.on("exit", resolve))
  return elapsed
}

const startup = async () => {
  const rows: Array<[string, number]> = []
  const runs = 3
  const fresh: Array<number> = []
  const existing: Array<number> = []
  for (let i = 0; i < runs; i++) {
    const home = mkdtempSync(join(tmpdir(), "aquifer-bench-"))
    try {
      fresh.push(await timeToReady({ AQUIFER_HOME: home }))
      existing.push(await timeToReady({ AQUIFER_HOME: home }))
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  }
  rows.push(["embedded PGlite, new data directory (from the template)", median(fresh)])
  rows.push(["embedded PGlite, existing data directory", median(existing)])
  const server: Array<number> = []
  for (let i = 0; i < runs; i++) server.push(await timeToReady({ AQUIFER_HOME: "/nonexistent", DATABASE_URL: serverUrl }))
  rows.push(["PostgreSQL server (`DATABASE_URL`)", median(server)])
  const bareNode: Array<number> = []
  for (let i = 0; i < runs; i++) {
    const t = performance.now()
    await new Promise((resolve) => spawn(process.execPath, ["-e", "0"]).on("exit", resolve))
    bareNode.push(performance.now() - t)
  }
  rows.push(["(anchor) `node -e 0`: a bare Node process start and exit", median(bareNode)])
  return rows
}

const timeLoop = async (n: number, op: () => Promise<unknown>) => {
  for (let i = 0; i < 20; i++) await op()
  const samples: Array<number> = []
  const started = performance.now()
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await op()
    samples.push(performance.now() - t)
  }
  return { perSecond: n / ((performance.now() - started) / 1000), p50: median(samples) }
}

const queryPath = async () => {
  const n = 300
  const results: Array<{ name: string; record: { perSecond: number; p50: number }; list: { perSecond: number; p50: number }; direct?: { perSecond: number; p50: number } }> = []
  const backends: Array<[string, Layer.Layer<AuditLog | Database, unknown> | Layer.Layer<AuditLog>]> = [
    ["memory", layerMemory],
    ["PGlite (embedded, via pglite-socket)", layerAuditLog.pipe(Layer.provideMerge(databaseLayer({})))],
    ["PostgreSQL server", layerAuditLog.pipe(Layer.provideMerge(databaseLayer({ url: Redacted.make(serverUrl), maxConnections: 1 })))]
  ]
  for (const [name, layer] of backends) {
    progress(`query path: ${name}`)
    const runtime = ManagedRuntime.make((layer as Layer.Layer<AuditLog>).pipe(Layer.provide(Logger.layer([]))))
    const actor = `bench-${Date.now()}`
    let i = 0
    const record = await timeLoop(n, () =>
      runtime.runPromise(Effect.gen(function*() {
        const audit = yield* AuditLog
        return yield* audit.record({ actor, action: "bench.write", resource: { kind: "bench", id: String(i++) } })
      })))
    const list = await timeLoop(n, () =>
      runtime.runPromise(Effect.gen(function*() {
        const audit = yield* AuditLog
        return yield* audit.list({ actor, limit: 50 })
      })))
    let direct
    if (name !== "memory") {
      // The same SELECT through the `postgres` client the adapter uses, without Effect or decoding.
      direct = await (runtime as unknown as ManagedRuntime.ManagedRuntime<Database, never>).runPromise(
        Effect.gen(function*() {
          const db = yield* Database
          return yield* db.use((sql) =>
            timeLoop(n, () =>
              sql`select id, at, actor, action, resource_kind, resource_id, outcome, request_id, details
                from audit_events where actor = ${actor} order by at desc, id desc limit 51`)
          )
        })
      )
    }
    results.push({ name, record, list, direct })
    await runtime.dispose()
  }
  return results
}

process.stderr.write("startup: spawning the server 9 times\n")
const startRows = await startup()
const query = await queryPath()
const fmt = (x: number) => x.toFixed(x < 10 ? 2 : 0)
console.log(`## Start-up and the metadata query path (issue 2)

Start-up: \`node apps/aquifer/main.ts\` spawned until \`GET /readyz\` answers 200, median of 3.

| configuration | ms to ready |
|---|---|
${startRows.map(([name, ms]) => `| ${name} | ${fmt(ms)} |`).join("\n")}

Query path: the audit log through the \`AuditLog\` port (one caller, sequential), ${300} operations
after 20 warm-up ones; \`list\` reads a page of 50. "direct" runs the same SELECT through a bare
\`postgres\` client on the same connection, without Effect, Schema decoding or cursor work.

| backend | record /s | record p50 ms | list /s | list p50 ms | direct SELECT /s | list ÷ direct |
|---|---|---|---|---|---|---|
${query.map((r) => `| ${r.name} | ${fmt(r.record.perSecond)} | ${fmt(r.record.p50)} | ${fmt(r.list.perSecond)} | ${fmt(r.list.p50)} | ${r.direct ? fmt(r.direct.perSecond) : "—"} | ${r.direct ? `${(r.list.perSecond / r.direct.perSecond * 100).toFixed(0)} %` : "—"} |`).join("\n")}`)
