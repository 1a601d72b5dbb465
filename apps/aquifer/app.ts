import { Effect, type ManagedRuntime } from "effect"
import { Hono } from "hono"
import { HTTPException } from "hono/http-exception"
import { Database } from "@aquifer/metadata-postgres"
import { makeRunner, type Runner } from "./http_effect.ts"
import { appStoreRoutes } from "./appstore/routes.ts"
import { mountDrive } from "./drive/mount.ts"
import { mountIdentity } from "./identity/mount.ts"
import type { Log } from "./logging.ts"
import { observe, type Metrics } from "./observability.ts"
import type { Platform } from "./platform.ts"
import { problemOf, problemResponse } from "./problems.ts"

export type Env = { Variables: { requestId: string } }

export interface AppDeps {
  readonly runtime: ManagedRuntime.ManagedRuntime<Platform, unknown>
  readonly log: Log
  readonly metrics: Metrics
  /** True once shutdown began: readiness turns 503 so load balancers stop sending traffic. */
  readonly draining: () => boolean
}

/** The all-in-one HTTP surface: operational endpoints, then each domain's routes. */
export const makeApp = (deps: AppDeps): { app: Hono<Env>; runner: Runner<Platform> } => {
  const app = new Hono<Env>()
  const runner = makeRunner(deps.runtime)
  app.use("*", observe(deps.log, deps.metrics))

  app.get("/healthz", (c) => c.json({ status: "ok" }))

  app.get("/readyz", (c) =>
    deps.draining()
      ? problemResponse({ ...problemOf({ _tag: "NotReady", message: "shutting down" }) }, c.get("requestId"))
      : runner.run(
        c,
        Effect.gen(function*() {
          const db = yield* Database
          yield* db.readiness
          return { status: "ready", checks: { database: db.kind } }
        }),
        (body) => c.json(body),
        { quiet: true }
      ))

  app.get("/metrics", async (c) =>
    c.body(await deps.metrics.registry.metrics(), 200, { "content-type": deps.metrics.registry.contentType }))

  // The Drive's S3 API signs its own requests (SigV4): mounted ahead of identity's middleware.
  mountDrive(app, runner, deps.runtime)
  // Sign-in, the embedded issuer, and `c.var.auth` for every route mounted after this line.
  mountIdentity(app, runner)
  app.route("/", appStoreRoutes(runner) as unknown as Hono<Env>)

  app.notFound((c) =>
    problemResponse(problemOf({ _tag: "RouteNotFound", message: `no route for ${c.req.method} ${c.req.path}` }), c.get("requestId")))

  app.onError((error, c) => {
    if (error instanceof HTTPException && error.status < 500) {
      const tag = ({ 400: "InvalidInput", 401: "Unauthenticated", 403: "Forbidden", 404: "RouteNotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge" } as Record<number, string>)[error.status]
      const problem = problemOf({ _tag: tag ?? "InvalidInput", message: error.message })
      return problemResponse({ ...problem, status: error.status }, c.get("requestId"))
    }
    deps.log.error({ requestId: c.get("requestId"), err: { type: error.name, message: error.message, stack: error.stack } }, "unhandled error")
    return problemResponse(problemOf({ _tag: "Internal" }), c.get("requestId"))
  })

  return { app, runner }
}
