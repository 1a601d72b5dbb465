import { createServer as createHttpServer } from "node:http"
import type { AddressInfo } from "node:net"
import { serve, type ServerType } from "@hono/node-server"
import { AuditLog } from "@aquifer/audit"
import { withPooledBodies } from "@aquifer/drive-server"
import { Effect, Layer, ManagedRuntime } from "effect"
import type { Hono } from "hono"
import { makeApp, type Env } from "./app.ts"
import type { Runner } from "./http_effect.ts"
import type { ServerConfig } from "./config.ts"
import { type Log, loggerLayer } from "./logging.ts"
import { makeMetrics } from "./observability.ts"
import { type Platform, platformLayer } from "./platform.ts"
import { platformRouter } from "./router/mount.ts"

export interface RunningServer {
  /** Where the server listens, e.g. `http://127.0.0.1:8080`. */
  readonly url: string
  readonly app: Hono<Env>
  readonly runtime: ManagedRuntime.ManagedRuntime<Platform, unknown>
  /**
   * Stops accepting connections, lets in-flight requests finish (up to the grace period, then
   * closes what is left), and disposes the runtime (database, background fibers).
   */
  readonly shutdown: () => Promise<void>
}

export interface StartOptions {
  readonly config: ServerConfig
  readonly log: Log
  /** Replaces the platform's Layer (tests). */
  readonly layer?: Layer.Layer<Platform, unknown> | undefined
  /** Adds routes before the server starts listening (tests). */
  readonly extend?: ((app: Hono<Env>, runner: Runner<Platform>) => void) | undefined
}

export const startServer = async (options: StartOptions): Promise<RunningServer> => {
  const { config, log } = options
  const runtime = ManagedRuntime.make(
    (options.layer ?? platformLayer).pipe(Layer.provide(loggerLayer(log)), Layer.provideMerge(loggerLayer(log)))
  )
  let draining = false
  const metrics = makeMetrics()
  const { app, runner } = makeApp({ runtime, log, metrics, draining: () => draining })
  options.extend?.(app, runner)

  // App instances are proxied on node's server itself, ahead of Hono (docs/router.md).
  const router = platformRouter(runtime, (error, context) => log.warn({ err: { message: error.message }, context }, "router error"))
  const withRouter = ((serverOptions: Parameters<typeof createHttpServer>[0], listener: Parameters<typeof createHttpServer>[1]) => {
    const http = createHttpServer(serverOptions, (req, res) => (router.handles(req) ? router.handleRequest(req, res) : listener!(req, res)))
    http.on("upgrade", router.handleUpgrade)
    return http
  }) as typeof createHttpServer

  const server: ServerType = await new Promise((resolve) => {
    const listening = serve({ fetch: withPooledBodies(app.fetch), hostname: config.host, port: config.port, createServer: withRouter }, () => resolve(listening))
  })
  const address = server.address() as AddressInfo
  const url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`

  // Built now so the database starts connecting at once; failures stay inside the Database.
  runtime.runFork(
    Effect.gen(function*() {
      const audit = yield* AuditLog
      yield* audit.record({ actor: "system", action: "platform.started", resource: { kind: "platform", id: "aquifer" } })
    }).pipe(Effect.catch((error) => Effect.logWarning(`could not record the start in the audit log: ${error.message}`)))
  )

  let stopping: Promise<void> | undefined
  const shutdown = () =>
    stopping ??= (async () => {
      draining = true
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      // Keep-alive connections turn idle as their last response ends: close them as they do.
      const idle = setInterval(() => "closeIdleConnections" in server && server.closeIdleConnections(), 50)
      if ("closeIdleConnections" in server) server.closeIdleConnections()
      const grace = setTimeout(() => {
        if ("closeAllConnections" in server) server.closeAllConnections()
      }, config.shutdownGraceMillis)
      await closed
      clearInterval(idle)
      clearTimeout(grace)
      router.close()
      await runtime.dispose()
    })()

  return { url, app, runtime, shutdown }
}
