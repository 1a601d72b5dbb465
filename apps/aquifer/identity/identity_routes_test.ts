import { Effect, Layer, Redacted } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { Authenticator, UserDirectory } from "@aquifer/identity"
import { layer as databaseLayer, layerAuditLog } from "@aquifer/metadata-postgres"
import { captureLog, testConfig } from "../_test_support.ts"
import { type RunningServer, startServer } from "../server.ts"
import { addTestUser, Browser, identityTestLayer, issuerReady, signInAs, testAdmin } from "./testing.ts"
import { freePort } from "../../../scripts/testing/ports.ts"
import { appStoreTestLayer } from "../appstore/testing.ts"

// A real all-in-one: Hono on a real port, PGlite, the embedded oidc-provider under /oidc, reached
// by the OIDC adapter over loopback. Access tokens live 30 s, inside the 60 s refresh margin, so
// every session request refreshes for real.
let server: RunningServer
let origin: string

const json = async (response: Response) => (await response.json()) as Record<string, unknown>
const sessionSecretOf = (browser: Browser) => [...browser.cookies.values()].find((c) => c.name === "aquifer_session")?.value
const withCookie = (secret: string) => ({ cookie: `aquifer_session=${secret}` })

beforeAll(async () => {
  const port = await freePort()
  origin = `http://127.0.0.1:${port}`
  server = await startServer({
    config: testConfig({ port }),
    log: captureLog().log,
    layer: Layer.mergeAll(layerAuditLog, identityTestLayer(port, { issuer: { accessTokenTtlSeconds: 30 } }), appStoreTestLayer(port).pipe(Layer.provide(layerAuditLog))).pipe(
      Layer.provideMerge(databaseLayer({}))
    )
  })
  await issuerReady(origin)
}, 60_000)
afterAll(() => server?.shutdown())

describe("identity routes of the all-in-one (real embedded issuer, real HTTP)", () => {
  it("signs in with code + PKCE through the issuer's page, sets a hardened session cookie, and serves /api/v1/me with it", async () => {
    const browser = new Browser()
    const callback = await browser.drive(`${origin}/auth/login?returnTo=${encodeURIComponent("/apps?tab=mine")}`,
      (url) => new URL(url).pathname === "/auth/callback",
      (fields) => fields.includes("username") ? { username: testAdmin.username, password: testAdmin.password } : undefined)
    const landing = await browser.request(callback)
    assert.strictEqual(landing.status, 302)
    assert.strictEqual(landing.headers.get("location"), "/apps?tab=mine")
    const cookie = landing.headers.getSetCookie().find((line) => line.startsWith("aquifer_session="))!
    assert.match(cookie, /HttpOnly/i)
    assert.match(cookie, /SameSite=Lax/i)
    assert.match(cookie, /Path=\//)
    assert.match(cookie, /Max-Age=86400/)
    assert.notMatch(cookie, /Secure/, "no Secure flag on a plain-http origin (browsers would drop the cookie)")
    const me = await browser.request(`${origin}/api/v1/me`)
    assert.strictEqual(me.status, 200)
    const body = await json(me)
    assert.strictEqual(body.issuer, `${origin}/oidc`)
    assert.strictEqual(body.name, "Administrator")
    assert.deepStrictEqual(body.roles, ["admin"])
    assert.strictEqual(body.via, "session")
  }, 60_000)

  it("refreshes the access token before it expires, and accepts it as a bearer token", async () => {
    const { browser } = await signInAs(origin, testAdmin.username, testAdmin.password)
    const secret = sessionSecretOf(browser)!
    const tokenNow = () =>
      server.runtime.runPromise(Effect.gen(function*() {
        const resolved = yield* (yield* Authenticator).resolveSession(secret)
        return { token: Redacted.value(resolved.accessToken!), version: resolved.session!.version }
      }))
    const first = await tokenNow()
    assert.strictEqual((await browser.request(`${origin}/api/v1/me`)).status, 200)
    const second = await tokenNow()
    assert.notStrictEqual(second.token, first.token)
    assert.isAbove(second.version, first.version)
    const bearer = await fetch(`${origin}/api/v1/me`, { headers: { authorization: `Bearer ${second.token}` } })
    assert.strictEqual(bearer.status, 200)
    assert.strictEqual((await json(bearer)).via, "bearer")
  }, 60_000)

  it("signs out: CSRF-checked, session revoked, cookie cleared, browser sent to the issuer's logout; the old cookie is refused", async () => {
    const { browser } = await signInAs(origin, testAdmin.username, testAdmin.password)
    const secret = sessionSecretOf(browser)!
    const forged = await fetch(`${origin}/auth/logout`, { method: "POST", headers: { ...withCookie(secret), origin: "http://evil.example" } })
    assert.strictEqual(forged.status, 403)
    assert.strictEqual((await fetch(`${origin}/api/v1/me`, { headers: withCookie(secret) })).status, 200, "a forged sign-out did nothing")
    const out = await browser.request(`${origin}/auth/logout`, { method: "POST", headers: { origin } })
    assert.strictEqual(out.status, 303)
    const logout = new URL(out.headers.get("location")!)
    assert.strictEqual(logout.origin + logout.pathname, `${origin}/oidc/session/end`)
    assert.strictEqual(logout.searchParams.get("post_logout_redirect_uri"), `${origin}/`)
    assert.isTrue(out.headers.getSetCookie().some((line) => line.startsWith("aquifer_session=;") && /Max-Age=0/i.test(line)))
    const confirm = await browser.request(logout.toString())
    assert.strictEqual(confirm.status, 200)
    assert.include(await confirm.text(), "Sign out of Aquifer")
    const after = await fetch(`${origin}/api/v1/me`, { headers: withCookie(secret) })
    assert.strictEqual(after.status, 401)
    assert.strictEqual((await json(after)).type, "urn:aquifer:problem:unauthenticated")
  }, 60_000)

  it("refuses callbacks with a missing, foreign or replayed state with 400 and no session", async () => {
    const missing = await fetch(`${origin}/auth/callback?code=abc`)
    assert.strictEqual(missing.status, 400)
    assert.strictEqual((await json(missing)).type, "urn:aquifer:problem:sign-in-failed")

    const victim = new Browser()
    const victimCallback = await victim.drive(`${origin}/auth/login`, (url) => new URL(url).pathname === "/auth/callback",
      (fields) => fields.includes("username") ? { username: testAdmin.username, password: testAdmin.password } : undefined)
    const attacker = new Browser()
    await attacker.request(`${origin}/auth/login`) // gets a binding cookie of its own
    const foreign = await attacker.request(victimCallback)
    assert.strictEqual(foreign.status, 400)
    assert.isFalse(foreign.headers.getSetCookie().some((line) => line.startsWith("aquifer_session=") && !/Max-Age=0/i.test(line)))
    const binding = [...victim.cookies.values()].find((c) => c.name === "aquifer_signin")!.value
    const rightful = await victim.request(victimCallback)
    assert.strictEqual(rightful.status, 302, "the foreign attempt did not spoil the rightful one")
    const replayed = await fetch(victimCallback, { redirect: "manual", headers: { cookie: `aquifer_signin=${binding}` } })
    assert.strictEqual(replayed.status, 400)
    assert.match(String((await json(replayed)).detail), /already used/)
  }, 60_000)

  it("sends the browser only to same-origin paths after sign-in", async () => {
    for (const target of ["//evil.example", "/\\evil.example", "https:evil.example", "%2F%2Fevil.example", "https://evil.example/x"]) {
      const { landed } = await signInAs(origin, testAdmin.username, testAdmin.password, target)
      assert.strictEqual(landed, `${origin}/`, target)
    }
  }, 90_000)

  it("manages platform tokens: created once with a secret, usable as a bearer with its scopes, listed without secrets, revoked for good", async () => {
    const { browser } = await signInAs(origin, testAdmin.username, testAdmin.password)
    const post = (body: unknown, headers: Record<string, string> = { origin }) =>
      browser.request(`${origin}/api/v1/tokens`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) })
    assert.strictEqual((await post({ name: "cli", scopes: ["read"] }, {})).status, 403, "cookie + no Origin: CSRF refused")
    assert.strictEqual((await post({ name: "", scopes: ["read"] })).status, 400)
    const created = await post({ name: "cli", scopes: ["read", "write"], expiresInDays: 7 })
    assert.strictEqual(created.status, 201)
    const token = await json(created)
    assert.match(String(token.token), /^aqt_/)
    const bearer = { authorization: `Bearer ${String(token.token)}` }
    const me = await json(await fetch(`${origin}/api/v1/me`, { headers: bearer }))
    assert.strictEqual(me.via, "platform-token")
    assert.deepStrictEqual(me.scopes, ["read", "write"])
    assert.deepStrictEqual(me.roles, ["admin"])
    const listed = await json(await fetch(`${origin}/api/v1/tokens`, { headers: bearer }))
    const items = listed.items as Array<Record<string, unknown>>
    assert.isTrue(items.some((item) => item.id === token.id))
    assert.isFalse(JSON.stringify(listed).includes(String(token.token)))
    assert.isFalse(JSON.stringify(listed).includes("secretHash"))
    const deleted = await browser.request(`${origin}/api/v1/tokens/${String(token.id)}`, { method: "DELETE", headers: { origin } })
    assert.strictEqual(deleted.status, 204)
    const revoked = await fetch(`${origin}/api/v1/me`, { headers: bearer })
    assert.strictEqual(revoked.status, 401)
    assert.strictEqual(revoked.headers.get("www-authenticate"), "Bearer")
    assert.strictEqual((await browser.request(`${origin}/api/v1/tokens/tok_${"0".repeat(32)}`, { method: "DELETE", headers: { origin } })).status, 404)
    assert.strictEqual((await browser.request(`${origin}/api/v1/tokens/not-an-id`, { method: "DELETE", headers: { origin } })).status, 400)
  }, 60_000)

  it("answers anonymous and hostile credentials with 401, clearing a dead session cookie", async () => {
    const anonymous = await fetch(`${origin}/api/v1/me`)
    assert.strictEqual(anonymous.status, 401)
    const none = `${Buffer.from(JSON.stringify({ alg: "none", typ: "at+jwt" })).toString("base64url")}.${
      Buffer.from(JSON.stringify({ iss: `${origin}/oidc`, sub: "x", aud: "aquifer", exp: 9_999_999_999 })).toString("base64url")}.`
    for (const authorization of [`Bearer ${none}`, "Bearer garbage", "Basic YWRtaW46YWRtaW4=", "Bearer", `Bearer aqt_${"A".repeat(43)}`]) {
      const response = await fetch(`${origin}/api/v1/me`, { headers: { authorization } })
      assert.strictEqual(response.status, 401, authorization)
    }
    const dead = await fetch(`${origin}/api/v1/me`, { headers: withCookie("x".repeat(43)) })
    assert.strictEqual(dead.status, 401)
    assert.isTrue(dead.headers.getSetCookie().some((line) => line.startsWith("aquifer_session=;")))
  }, 60_000)

  it("keeps two accounts with one e-mail and different subjects as two users", async () => {
    const first = await addTestUser(server.runtime, { username: "twin-a", roles: ["full"], email: "twin@example.com" })
    const second = await addTestUser(server.runtime, { username: "twin-b", roles: ["visitor"], email: "twin@example.com" })
    const a = await json(await (await signInAs(origin, "twin-a", first)).browser.request(`${origin}/api/v1/me`))
    const b = await json(await (await signInAs(origin, "twin-b", second)).browser.request(`${origin}/api/v1/me`))
    assert.strictEqual(a.email, b.email)
    assert.notStrictEqual(a.subject, b.subject)
    assert.deepStrictEqual([a.roles, b.roles], [["full"], ["visitor"]])
    const users = await server.runtime.runPromise(Effect.gen(function*() {
      const directory = yield* UserDirectory
      return [yield* directory.get(String(a.key)), yield* directory.get(String(b.key))]
    }))
    assert.notStrictEqual(users[0]!.id, users[1]!.id)
  }, 60_000)
})
