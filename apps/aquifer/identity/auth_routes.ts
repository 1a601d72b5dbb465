/**
 * Browser sign-in and sign-out:
 * - `GET /auth/login?returnTo=/path` sends the browser to the issuer (code + PKCE, state, nonce)
 *   with a short-lived binding cookie tying the attempt to this browser;
 * - `GET /auth/callback` finishes it, sets the session cookie (HttpOnly, SameSite=Lax, Secure on
 *   https) and redirects to the same-origin path given at login (anything else: `/`);
 * - `POST /auth/logout` revokes the session, clears the cookie and sends the browser to the
 *   issuer's logout (RP-initiated) when it has one; JSON clients get `{ "logoutUrl": … }`.
 */
import { Effect, Redacted } from "effect"
import { Hono } from "hono"
import { deleteCookie, getCookie, setCookie } from "hono/cookie"
import { Forbidden } from "@aquifer/core"
import { Authenticator } from "@aquifer/identity"
import type { Runner } from "../http_effect.ts"
import { problemOf, problemResponse } from "../problems.ts"
import { cookiePrefix, type IdentityEnv, isSameOrigin, runValue, sessionCookie } from "./authenticate.ts"
import { IdentityHttp, type IdentityServices } from "./layer.ts"

const bindingCookie = "aquifer_signin"
const noStore = { "cache-control": "no-store" }

export const authRoutes = (runner: Runner<IdentityServices>): Hono<IdentityEnv> => {
  const routes = new Hono<IdentityEnv>()

  routes.get("/auth/login", async (c) => {
    const returnTo = c.req.query("returnTo")
    const begun = await runValue(runner, c, Effect.gen(function*() {
      const http = yield* IdentityHttp
      const started = yield* (yield* Authenticator).beginSignIn({ redirectUri: http.redirectUri, returnTo })
      return { http, started }
    }))
    if ("response" in begun) return begun.response
    const { http, started } = begun.value
    setCookie(c, bindingCookie, Redacted.value(started.binding), {
      path: "/auth/callback",
      httpOnly: true,
      secure: http.secureCookies,
      sameSite: "Lax",
      maxAge: Math.max(1, Math.floor((started.expiresAt.getTime() - Date.now()) / 1000))
    })
    return c.redirect(started.url, 302)
  })

  routes.get("/auth/callback", async (c) => {
    const query = new URL(c.req.url).search
    const finished = await runValue(runner, c, Effect.gen(function*() {
      const http = yield* IdentityHttp
      const signedIn = yield* (yield* Authenticator).finishSignIn({
        callbackUrl: `${http.redirectUri}${query}`,
        redirectUri: http.redirectUri,
        binding: getCookie(c, bindingCookie),
        previousSessionSecret: getCookie(c, sessionCookie, cookiePrefix(http.secureCookies))
      })
      return { http, signedIn }
    }))
    deleteCookie(c, bindingCookie, { path: "/auth/callback" })
    if ("response" in finished) {
      const cleared = c.res.headers.get("set-cookie")
      if (cleared !== null) finished.response.headers.append("set-cookie", cleared)
      return finished.response
    }
    const { http, signedIn } = finished.value
    setCookie(c, sessionCookie, Redacted.value(signedIn.sessionSecret), {
      path: "/",
      httpOnly: true,
      secure: http.secureCookies,
      sameSite: "Lax",
      maxAge: http.sessionMaxAgeSeconds,
      prefix: cookiePrefix(http.secureCookies)
    })
    c.header("cache-control", "no-store")
    return c.redirect(signedIn.returnTo, 302)
  })

  routes.post("/auth/logout", async (c) => {
    const out = await runValue(runner, c, Effect.gen(function*() {
      const http = yield* IdentityHttp
      const secret = getCookie(c, sessionCookie, cookiePrefix(http.secureCookies))
      if (secret !== undefined && !isSameOrigin(c, http.publicUrl)) {
        return yield* new Forbidden({ message: "sign-out must come from Aquifer's own origin" })
      }
      const result = yield* (yield* Authenticator).signOut({ sessionSecret: secret, postLogoutRedirectUri: http.postLogoutRedirectUri })
      return { http, logoutUrl: result.logoutUrl }
    }))
    if ("response" in out) return out.response
    const { http, logoutUrl } = out.value
    deleteCookie(c, sessionCookie, { path: "/", secure: http.secureCookies, prefix: cookiePrefix(http.secureCookies) })
    if ((c.req.header("accept") ?? "").includes("application/json")) return c.json({ logoutUrl: logoutUrl ?? null }, 200, noStore)
    return c.redirect(logoutUrl ?? "/", 303)
  })

  routes.on(["GET", "PUT", "PATCH", "DELETE"], "/auth/logout", (c) =>
    problemResponse(problemOf({ _tag: "MethodNotAllowed", message: "sign out with POST /auth/logout" }), c.get("requestId")))

  return routes
}
