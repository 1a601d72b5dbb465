/**
 * Mounts identity on the app: the embedded issuer (when the platform runs its own) under
 * `/oidc`, the `authenticate` middleware for every other route, and the sign-in, `me` and token
 * routes. Later domains read `c.var.auth` (see `authenticate.ts`) and ask the policy.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { Effect } from "effect"
import type { Hono } from "hono"
import type { Runner } from "../http_effect.ts"
import { authRoutes } from "./auth_routes.ts"
import { authenticate, type IdentityEnv, runValue } from "./authenticate.ts"
import { IdentityHttp, type IdentityServices } from "./layer.ts"
import { meRoutes } from "./me_routes.ts"
import { tokenRoutes } from "./token_routes.ts"

// @hono/node-server leaves the response alone when it carries this header: the issuer wrote it.
const alreadySent = () => new Response(null, { headers: { "x-hono-already-sent": "1" } })

export const mountIdentity = (app: Hono<any>, runner: Runner<IdentityServices>): void => {
  app.all("/oidc/*", async (c) => {
    const found = await runValue(runner, c, Effect.gen(function*() {
      return (yield* IdentityHttp).issuerMount
    }))
    if ("response" in found) return found.response
    const node = c.env as { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined
    if (found.value === undefined || node?.incoming === undefined || node.outgoing === undefined) return c.notFound()
    found.value.handle(node.incoming, node.outgoing)
    return alreadySent()
  })
  const identity = app as unknown as Hono<IdentityEnv>
  identity.use("*", async (c, next) => (c.req.path.startsWith("/oidc/") ? next() : authenticate(runner)(c, next)))
  identity.route("/", authRoutes(runner))
  identity.route("/", meRoutes())
  identity.route("/", tokenRoutes(runner))
}
