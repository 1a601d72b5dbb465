/**
 * Platform tokens for the CLI and SDKs:
 * - `POST /api/v1/tokens` `{ "name", "scopes": ["read"|"write"|"admin"], "expiresInDays"? }` →
 *   201 with the token's secret, shown this once;
 * - `GET /api/v1/tokens` → the caller's live tokens (never a secret or its hash);
 * - `DELETE /api/v1/tokens/{id}` → 204 (an unknown or foreign id: 404).
 */
import { Effect, Redacted, Schema } from "effect"
import { Hono } from "hono"
import { InvalidInput, TokenId } from "@aquifer/core"
import { createPlatformToken, listPlatformTokens, type PlatformToken, revokePlatformToken } from "@aquifer/identity"
import type { Runner } from "../http_effect.ts"
import { callerOf, type IdentityEnv, requireSignIn } from "./authenticate.ts"
import type { IdentityServices } from "./layer.ts"

const maxBody = 16_384
const noStore = { "cache-control": "no-store" }

const view = (token: PlatformToken) => ({
  id: token.id,
  name: token.name,
  scopes: token.scopes,
  createdAt: token.createdAt.toISOString(),
  expiresAt: token.expiresAt.toISOString(),
  lastUsedAt: token.lastUsedAt?.toISOString() ?? null
})

const readJson = (text: string) =>
  Effect.try({
    try: () => {
      if (text.length > maxBody) throw new Error("too large")
      return JSON.parse(text) as unknown
    },
    catch: () => new InvalidInput({ message: `the body must be a JSON object of at most ${maxBody} bytes` })
  })

export const tokenRoutes = (runner: Runner<IdentityServices>): Hono<IdentityEnv> => {
  const routes = new Hono<IdentityEnv>()
  routes.use("/api/v1/tokens", requireSignIn)
  routes.use("/api/v1/tokens/*", requireSignIn)

  routes.get("/api/v1/tokens", (c) =>
    runner.run(c, listPlatformTokens(callerOf(c)), (tokens) => c.json({ items: tokens.map(view) }, 200, noStore)))

  routes.post("/api/v1/tokens", async (c) => {
    const text = await c.req.text()
    return runner.run(
      c,
      Effect.flatMap(readJson(text), (body) => createPlatformToken(callerOf(c), body)),
      ({ token, secret }) => c.json({ ...view(token), token: Redacted.value(secret) }, 201, noStore)
    )
  })

  routes.delete("/api/v1/tokens/:id", (c) =>
    runner.run(
      c,
      Effect.flatMap(
        Schema.decodeUnknownEffect(TokenId)(c.req.param("id")).pipe(
          Effect.mapError(() => new InvalidInput({ message: "not a token id", field: "id" }))
        ),
        (id) => revokePlatformToken(callerOf(c), id)
      ),
      () => c.body(null, 204)
    ))

  return routes
}
