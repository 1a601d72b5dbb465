// Shared by this app's tests: a server on a free port with an in-memory PGlite platform, and a
// log that is captured line by line.
import { Writable } from "node:stream"
import { layerAuditLog, layer as databaseLayer } from "@aquifer/metadata-postgres"
import { Layer } from "effect"
import type { Hono } from "hono"
import type { Env } from "./app.ts"
import type { Runner } from "./http_effect.ts"
import type { Platform } from "./platform.ts"
import type { ServerConfig } from "./config.ts"
import { appStoreTestLayer } from "./appstore/testing.ts"
import { identityTestLayer } from "./identity/testing.ts"
import { makeLog } from "./logging.ts"
import { freePort } from "../../scripts/testing/ports.ts"
import { type RunningServer, startServer } from "./server.ts"

export const captureLog = () => {
  const lines: Array<Record<string, unknown>> = []
  const raw: Array<string> = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) {
        raw.push(line)
        lines.push(JSON.parse(line) as Record<string, unknown>)
      }
      done()
    }
  })
  return { log: makeLog("debug", stream), lines, raw }
}

export const testConfig = (overrides: Partial<ServerConfig> = {}): ServerConfig => ({
  host: "127.0.0.1",
  port: 0,
  publicUrl: undefined,
  home: "/nonexistent",
  logLevel: "debug",
  shutdownGraceMillis: 5000,
  ...overrides
})

export const startTestServer = async (
  options: { extend?: (app: Hono<Env>, runner: Runner<Platform>) => void; config?: Partial<ServerConfig> } = {}
): Promise<RunningServer & { logs: ReturnType<typeof captureLog> }> => {
  const logs = captureLog()
  // A known port, so the embedded issuer knows the origin browsers will use.
  const port = options.config?.port || await freePort()
  const server = await startServer({
    config: testConfig({ ...options.config, port }),
    log: logs.log,
    layer: Layer.mergeAll(layerAuditLog, identityTestLayer(port), appStoreTestLayer(port).pipe(Layer.provide(layerAuditLog))).pipe(Layer.provideMerge(databaseLayer({}))),
    extend: options.extend
  })
  return { ...server, logs }
}

/** Polls `url` until it answers `status`. */
export const waitForStatus = async (url: string, status: number, timeoutMs = 30_000): Promise<Response> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const response = await fetch(url).catch(() => undefined)
    if (response?.status === status) return response
    await response?.body?.cancel()
    if (Date.now() > deadline) throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${response?.status})`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
