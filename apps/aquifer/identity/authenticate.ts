/**
 * Who is calling: one Hono middleware every route of the platform uses (App Store, Drive, the
 * router…). It resolves, in this order, an `Authorization: Bearer` credential (a platform token
 * or an issuer access token) or the session cookie, into `c.var.auth`; a request with neither is
 * anonymous (`undefined`) and each route decides what that may do, through the policy.
 *
 * - A bearer credential that does not verify is refused at once (401): the client asked to be
 *   someone and is not.
 * - A session cookie that is no longer valid (signed out, expired) makes the request anonymous
 *   and clears the cookie.
 * - Unsafe methods (POST, PUT, PATCH, DELETE) authenticated by the cookie must come from the
 *   platform's own origin (`Origin`, or `Sec-Fetch-Site: same-origin`): 403 otherwise (CSRF).
 */
import { Effect } from "effect"
import type { Context, MiddlewareHandler } from "hono"
import { getCookie } from "hono/cookie"
import { Forbidden, Unauthenticated } from "@aquifer/core"
import { type Authenticated, Authenticator, type Caller } from "@aquifer/identity"
import type { Runner } from "../http_effect.ts"
import { problemOf, problemResponse } from "../problems.ts"
import { IdentityHttp, type IdentityServices } from "./layer.ts"

export type IdentityEnv = { Variables: { requestId: string; auth: Authenticated | undefined } }

export const sessionCookie = "aquifer_session"
export const cookiePrefix = (secure: boolean) => secure ? "host" as const : undefined

const unsafeMethods = new Set(["POST", "PUT", "PATCH", "DELETE"])

/** True when an unsafe request demonstrably comes from the platform's own pages. */
export const isSameOrigin = (c: Context, publicUrl: string): boolean => {
  const origin = c.req.header("origin")
  if (origin !== undefined) return origin === new URL(publicUrl).origin
  return c.req.header("sec-fetch-site") === "same-origin"
}

const ok = new Response(null, { status: 204 })

/** Runs an effect through the app's runner, handing back its value, or the problem response to return. */
export const runValue = async <A, E extends { readonly _tag: string }, R>(
  runner: Runner<R>,
  c: Context,
  effect: Effect.Effect<A, E, R>
): Promise<{ value: A } | { response: Response }> => {
  let value: A | undefined
  let done = false
  const response = await runner.run(c, effect, (result) => {
    value = result
    done = true
    return ok
  })
  return done ? { value: value as A } : { response }
}

/** The middleware; see the module documentation. */
export const authenticate = (runner: Runner<IdentityServices>): MiddlewareHandler<IdentityEnv> => async (c, next) => {
  const header = c.req.header("authorization")
  const resolved = await runValue(runner, c, Effect.gen(function*() {
    const http = yield* IdentityHttp
    const auth = yield* Authenticator
    if (header !== undefined) {
      const match = /^Bearer ([\x21-\x7e]+)$/i.exec(header.trim())
      if (match === null) return yield* new Unauthenticated({ message: "the Authorization header must be `Bearer <token>`" })
      return { http, auth: yield* auth.resolveBearer(match[1]!), viaCookie: false, stale: false }
    }
    const secret = getCookie(c, sessionCookie, cookiePrefix(http.secureCookies))
    if (secret === undefined || secret === "") return { http, auth: undefined, viaCookie: false, stale: false }
    const session = yield* auth.resolveSession(secret).pipe(
      Effect.catchTag("Unauthenticated", () => Effect.succeed(undefined))
    )
    if (session !== undefined && unsafeMethods.has(c.req.method) && !isSameOrigin(c, http.publicUrl)) {
      return yield* new Forbidden({ message: "a request changing something with the session cookie must come from Aquifer's own origin" })
    }
    return { http, auth: session, viaCookie: session !== undefined, stale: session === undefined }
  }))
  if ("response" in resolved) {
    if (resolved.response.status === 401 && header !== undefined) resolved.response.headers.set("www-authenticate", "Bearer")
    return resolved.response
  }
  const { http, auth, stale } = resolved.value
  c.set("auth", auth)
  await next()
  // Appended to the final response, whichever way the route built it.
  if (stale) c.res.headers.append("set-cookie", clearedSessionCookie(http.secureCookies))
}

/** A Set-Cookie value that removes the session cookie. */
export const clearedSessionCookie = (secure: boolean): string =>
  `${secure ? "__Host-" : ""}${sessionCookie}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`

/** Lets only authenticated requests through (401 problem otherwise). Use after {@link authenticate}. */
export const requireSignIn: MiddlewareHandler<IdentityEnv> = async (c, next) => {
  if (c.get("auth") === undefined) {
    const response = problemResponse(problemOf(new Unauthenticated({ message: "sign in, or send a bearer token" })), c.get("requestId"))
    response.headers.set("www-authenticate", "Bearer")
    return response
  }
  await next()
}

/** The caller of a request that went through {@link authenticate} (undefined: anonymous). */
export const callerOf = (c: Context<IdentityEnv>): Caller | undefined => c.get("auth")?.caller
