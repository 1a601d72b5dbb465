// The Drive as its own service (the distributed shape): the S3 API at the root, the web UI's
// JSON API under `/_drive/api`, health at `/_drive/healthz`.
import type { AddressInfo } from "node:net"
import { serve, type ServerType } from "@hono/node-server"
import { Effect, type Layer, ManagedRuntime } from "effect"
import { Hono } from "hono"
import type { DriveRuntime, DriveServices } from "./context.ts"
import { makeJsonApi, type JsonApiOptions } from "./json_api.ts"
import { withPooledBodies } from "./pooled_response.ts"
import { makeS3Handler, rawOf, type S3Options } from "./s3_app.ts"

export interface DriveServerOptions {
  readonly layer: Layer.Layer<DriveServices, unknown>
  readonly host?: string | undefined
  readonly port?: number | undefined
  readonly s3?: Omit<S3Options, "runtime"> | undefined
  readonly api?: Omit<JsonApiOptions, "runtime"> | undefined
}

export interface RunningDrive {
  readonly url: string
  readonly runtime: DriveRuntime
  readonly server: ServerType
  readonly shutdown: () => Promise<void>
}

/** The Drive's routes on one Hono app. */
export const makeDriveApp = (runtime: DriveRuntime, options: Pick<DriveServerOptions, "s3" | "api"> = {}): Hono => {
  const app = new Hono()
  const s3 = makeS3Handler({ ...options.s3, runtime })
  app.get("/_drive/healthz", (c) => c.json({ status: "ok" }))
  app.route("/_drive/api", makeJsonApi({ ...options.api, runtime }))
  app.all("*", (c) => s3(c.req.raw, rawOf(c.env)))
  return app
}

export const startDriveServer = async (options: DriveServerOptions): Promise<RunningDrive> => {
  const runtime: DriveRuntime = ManagedRuntime.make(options.layer)
  await runtime.runPromise(Effect.void)
  const app = makeDriveApp(runtime, options)
  const server: ServerType = await new Promise((resolve) => {
    const listening = serve({ fetch: withPooledBodies(app.fetch), hostname: options.host ?? "127.0.0.1", port: options.port ?? 0 }, () => resolve(listening))
  })
  const address = server.address() as AddressInfo
  const url = `http://${address.address}:${address.port}`
  let stopping: Promise<void> | undefined
  const shutdown = () =>
    stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      if ("closeIdleConnections" in server) server.closeIdleConnections()
      const grace = setTimeout(() => "closeAllConnections" in server && server.closeAllConnections(), 5000)
      await closed
      clearTimeout(grace)
      await runtime.dispose()
    })()
  return { url, runtime, server, shutdown }
}
