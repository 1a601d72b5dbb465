import { spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { AuditLog } from "@aquifer/audit"
import { Effect, Layer, Redacted } from "effect"
import { Database, layer, layerAuditLog, parseDatabaseUrl } from "./mod.ts"
import { freePort } from "../../scripts/testing/ports.ts"

describe("Database", () => {
  it("explains a malformed DATABASE_URL without echoing it", () => {
    assert.match(parseDatabaseUrl("not a url with password hunter2")!, /not a valid URL/)
    assert.notInclude(parseDatabaseUrl("not a url with password hunter2")!, "hunter2")
    assert.match(parseDatabaseUrl("mysql://u:hunter2@db/x")!, /postgres:\/\/ scheme/)
    assert.isUndefined(parseDatabaseUrl("postgres://postgres@127.0.0.1:5432/test"))
  })

  it.live("a malformed URL: the layer still builds, readiness and queries fail with Unavailable", () =>
    Effect.gen(function*() {
      const db = yield* Database
      const readiness = yield* Effect.flip(db.readiness)
      assert.strictEqual(readiness._tag, "Unavailable")
      assert.match(readiness.message, /not a valid URL/)
      assert.notInclude(readiness.message, "hunter2")
      const query = yield* Effect.flip(db.use((sql) => sql`select 1`))
      assert.strictEqual(query._tag, "Unavailable")
    }).pipe(Effect.provide(layer({ url: Redacted.make("::bad hunter2::") }))))

  it.live("an unreachable server: Unavailable with a reason, never a crash", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(freePort)
      const program = Effect.gen(function*() {
        const db = yield* Database
        yield* Effect.sleep(300)
        const readiness = yield* Effect.flip(db.readiness)
        assert.match(readiness.message, /ECONNREFUSED|connect/i)
        assert.notInclude(readiness.message, "s3cret")
        const audit = yield* AuditLog
        const error = yield* Effect.flip(audit.list({}))
        assert.strictEqual(error._tag, "Unavailable")
      })
      yield* program.pipe(Effect.provide(layerAuditLog.pipe(
        Layer.provideMerge(layer({ url: Redacted.make(`postgres://u:s3cret@127.0.0.1:${port}/x`), startWaitMillis: 500 }))
      )))
    }), 30_000)

  it.live("embedded PGlite keeps its data across restarts and refuses a second process on the same directory", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "aquifer-pglite-"))
      const dataDir = join(dir, "pglite")
      const withLog = <A, E>(effect: Effect.Effect<A, E, AuditLog | Database>) =>
        effect.pipe(Effect.provide(layerAuditLog.pipe(Layer.provideMerge(layer({ dataDir })))))
      try {
        yield* withLog(Effect.gen(function*() {
          const audit = yield* AuditLog
          yield* audit.record({ actor: "system", action: "platform.started", resource: { kind: "platform", id: "one" } })
        }))
        const events = yield* withLog(Effect.gen(function*() {
          const audit = yield* AuditLog
          yield* audit.record({ actor: "system", action: "platform.started", resource: { kind: "platform", id: "two" } })
          return (yield* audit.list({ action: "platform.started" })).items.map((e) => e.resource.id)
        }))
        assert.deepStrictEqual(events, ["two", "one"])
        // Another live process holding the directory: refused with a clear reason, data untouched.
        const holder = spawn("sleep", ["30"], { stdio: "ignore" })
        try {
          writeFileSync(`${dataDir}.pid`, String(holder.pid))
          const refused = yield* Effect.gen(function*() {
            const db = yield* Database
            yield* Effect.sleep(200)
            return yield* Effect.flip(db.readiness)
          }).pipe(Effect.provide(layer({ dataDir })))
          assert.match(refused.message, new RegExp(`another Aquifer process \\(pid ${holder.pid}\\)`))
        } finally {
          holder.kill("SIGKILL")
        }
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }), 60_000)
})
