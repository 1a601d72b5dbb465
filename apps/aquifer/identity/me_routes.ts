/** `GET /api/v1/me`: who the request is authenticated as, however it was (cookie, bearer, platform token). */
import { Hono } from "hono"
import { type IdentityEnv, requireSignIn } from "./authenticate.ts"

export const meRoutes = (): Hono<IdentityEnv> => {
  const routes = new Hono<IdentityEnv>()
  routes.get("/api/v1/me", requireSignIn, (c) => {
    const auth = c.get("auth")!
    const p = auth.caller.principal
    return c.json({
      issuer: p.issuer,
      subject: p.subject,
      key: p.key,
      name: p.name,
      email: p.email ?? null,
      groups: p.groups,
      roles: p.roles,
      via: auth.via,
      scopes: auth.caller.scopes ?? null
    }, 200, { "cache-control": "no-store" })
  })
  return routes
}
