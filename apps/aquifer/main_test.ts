// The real entry point as a user runs it: `node apps/aquifer/main.ts` in a child process.
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { AuditLog } from "@aquifer/audit"
import { layer as databaseLayer, layerAuditLog } from "@aquifer/metadata-postgres"
import { Effect, Layer } from "effect"
import { afterAll, assert, describe, it } from "vitest"
import { freePort } from "../../scripts/testing/ports.ts"
import { waitForStatus } from "./_test_support.ts"

const main = join(import.meta.dirname, "main.ts")
const home = mkdtempSync(join(tmpdir(), "aquifer-main-"))
afterAll(() => rmSync(home, { recursive: true, force: true }))

interface Started {
  readonly child: ChildProcess
  readonly url: string
  readonly lines: Array<string>
  readonly exited: Promise<number | null>
}

const start = (env: Record<string, string>): Promise<Started> =>
  new Promise((resolve, reject) => {
    const { DATABASE_URL: _omit, ...inherited } = process.env
    const child = spawn(process.execPath, [main], {
      env: { ...inherited, AQUIFER_HOME: home, AQUIFER_PORT: "0", AQUIFER_LOG_LEVEL: "info", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    const lines: Array<string> = []
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)))
    let buffer = ""
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString()
      const parts = buffer.split("\n")
      buffer = parts.pop()!
      for (const line of parts) {
        lines.push(line)
        const url = /"url":"(http:\/\/[^"]+)"/.exec(line)?.[1]
        if (url !== undefined && line.includes("listening")) resolve({ child, url, lines, exited })
      }
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
    child.on("exit", (code) => reject(new Error(`exited with ${code} before listening:\n${lines.join("\n")}`)))
  })

const stop = async (server: Started) => {
  server.child.kill("SIGTERM")
  return server.exited
}

describe("main.ts (real child processes)", () => {
  it("starts on embedded PGlite, shuts down cleanly on SIGTERM, and keeps its data across restarts", async () => {
    for (let run = 0; run < 2; run++) {
      const server = await start({})
      await waitForStatus(`${server.url}/readyz`, 200)
      assert.strictEqual(await stop(server), 0)
      assert.isTrue(server.lines.some((line) => line.includes('"msg":"stopped"')))
      assert.isTrue(server.lines.every((line) => line.startsWith("{")), server.lines.join("\n"))
    }
    // Both starts are in the audit log of the same data directory.
    const starts = await Effect.runPromise(
      Effect.gen(function*() {
        const audit = yield* AuditLog
        return (yield* audit.list({ action: "platform.started" })).items.length
      }).pipe(Effect.provide(layerAuditLog.pipe(Layer.provide(databaseLayer({ dataDir: join(home, "pglite") })))))
    )
    assert.strictEqual(starts, 2)
  }, 90_000)

  const badDatabases = [
    ["a malformed DATABASE_URL", () => Promise.resolve("postgres//user:hunter2@@nowhere"), /DATABASE_URL/],
    ["an unreachable database", async () => `postgres://user:hunter2@127.0.0.1:${await freePort()}/db`, /ECONNREFUSED/]
  ] as const
  for (const [name, url, reason] of badDatabases) {
    it(`with ${name}: one clear error line, /readyz 503, no crash, no stack, no password`, async () => {
      const server = await start({ DATABASE_URL: await url() })
      // Until the first attempt fails the detail says "connecting"; then it gives the reason.
      let problem = { type: "", detail: "" }
      for (let attempt = 0; attempt < 100 && !reason.test(problem.detail); attempt++) {
        const ready = await waitForStatus(`${server.url}/readyz`, 503)
        problem = await ready.json() as typeof problem
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      assert.strictEqual(problem.type, "urn:aquifer:problem:unavailable")
      assert.match(problem.detail, reason)
      await new Promise((resolve) => setTimeout(resolve, 1500))
      assert.strictEqual(server.child.exitCode, null, "the server is still running")
      assert.strictEqual((await fetch(`${server.url}/healthz`)).status, 200)
      assert.strictEqual(await stop(server), 0)
      const errors = server.lines.filter((line) => line.includes('"level":"error"'))
      assert.strictEqual(errors.length, 1, errors.join("\n"))
      assert.match(errors[0]!, reason)
      assert.isFalse(server.lines.some((line) => line.includes("hunter2")), "no password in the log")
      assert.isFalse(server.lines.some((line) => /\s+at\s+\S+ \(/.test(line)), "no stack trace in the log")
    }, 60_000)
  }
})
