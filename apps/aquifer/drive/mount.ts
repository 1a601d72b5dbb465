/**
 * Mounts the Drive on the app: the S3 API (SigV4 requests, STS on its root) under `/drive`,
 * ahead of identity's bearer/cookie middleware (S3 clients sign their own requests), and the
 * web UI's JSON API under `/api/v1/drive`, which takes the caller from `authenticate`.
 */
import { type DriveRuntime, makeJsonApi, makeS3Handler, rawOf } from "@aquifer/drive-server"
import { Effect, type ManagedRuntime, Option } from "effect"
import type { Context, Hono } from "hono"
import type { Runner } from "../http_effect.ts"
import { authenticate, type IdentityEnv } from "../identity/authenticate.ts"
import type { IdentityServices } from "../identity/layer.ts"
import { problemOf, problemResponse } from "../problems.ts"
import { DriveHttp } from "./layer.ts"

export const drivePath = "/drive"

const notConfigured = () =>
  problemResponse(problemOf({ _tag: "RouteNotFound", message: "the Drive is not configured on this server" }))

/**
 * `runtime` must hold the Drive's services (`DrivePlatformServices`, see `platform.ts`); when it
 * does not, every Drive route answers 404.
 */
export const mountDrive = (
  app: Hono<any>,
  runner: Runner<IdentityServices>,
  runtime: ManagedRuntime.ManagedRuntime<IdentityServices, unknown>
): void => {
  const driveRuntime = runtime as unknown as DriveRuntime
  const configured = runtime.runPromise(Effect.serviceOption(DriveHttp)).then((found) => Option.getOrUndefined(found), () => undefined)
  let handler: Promise<ReturnType<typeof makeS3Handler> | undefined> | undefined
  const s3 = () =>
    handler ??= configured.then((http) =>
      http === undefined ? undefined : makeS3Handler({
        runtime: driveRuntime,
        basePath: drivePath,
        region: http.region,
        virtualHostDomain: http.virtualHostDomain,
        etagsAreMd5: http.etagsAreMd5,
        onInternalError: (requestId, cause) =>
          runtime.runFork(Effect.logError(`drive: internal error: ${String(cause)}`).pipe(Effect.annotateLogs({ requestId })))
      })
    )
  const serve = async (c: Context) => {
    const handle = await s3()
    return handle === undefined ? notConfigured() : handle(c.req.raw, rawOf(c.env))
  }
  app.all(drivePath, serve)
  app.all(`${drivePath}/*`, serve)
  const api = app as unknown as Hono<IdentityEnv>
  const json = makeJsonApi({ runtime: driveRuntime, callerOf: (c) => (c as Context<IdentityEnv>).get("auth")?.caller })
  api.use("/api/v1/drive/*", async (c, next) => ((await configured) === undefined ? notConfigured() : authenticate(runner)(c, next)))
  api.route("/api/v1/drive", json)
}
