import { createServer, request as httpRequest, type Server } from "node:http"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Redacted, Scope } from "effect"
import { createRemoteJWKSet, jwtVerify } from "jose"
import * as oauth from "oauth4webapi"
import { Unavailable } from "@aquifer/core"
import { IssuerStateStore, layerIssuerStateMemory, layerLocalAccountsMemory, LocalAccount, LocalAccountStore } from "@aquifer/identity"
import { createAccount, EmbeddedIssuer, type EmbeddedIssuerOptions, make } from "./mod.ts"
import { Browser } from "../../scripts/testing/browser.ts"
import { freePort } from "../../scripts/testing/ports.ts"

interface Running {
  readonly origin: string
  readonly issuer: EmbeddedIssuer["Service"]
  readonly announced: Array<string>
  readonly close: () => Promise<void>
}

/** Starts the issuer under /oidc of a real HTTP server on 127.0.0.1, over the given stores. */
const start = async (
  stores: Layer.Layer<IssuerStateStore | LocalAccountStore>,
  options: Partial<EmbeddedIssuerOptions> = {},
  port?: number,
  waitUntilReady = true
): Promise<Running> => {
  const listenOn = port ?? await freePort()
  const origin = `http://127.0.0.1:${listenOn}`
  const announced: Array<string> = []
  const scope = Effect.runSync(Scope.make())
  const issuer = await Effect.runPromise(
    make({ publicUrl: origin, announce: (text) => void announced.push(text), ...options }).pipe(
      Effect.provide(stores),
      Scope.provide(scope)
    )
  )
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith("/oidc")) return issuer.handle(req, res)
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(listenOn, "127.0.0.1", () => resolve()))
  for (let i = 0; waitUntilReady && i < 400 && Exit.isFailure(await Effect.runPromiseExit(issuer.readiness)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return {
    origin,
    issuer,
    announced,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  }
}

const memoryStores = () => Layer.mergeAll(layerIssuerStateMemory, layerLocalAccountsMemory)

/** One set of memory stores shared by several issuer instances (a restart) and the test itself. */
const sharedStores = async (): Promise<Layer.Layer<IssuerStateStore | LocalAccountStore>> =>
  Layer.succeedContext(await Effect.runPromise(Layer.build(memoryStores()).pipe(Scope.provide(Effect.runSync(Scope.make())))))

const otpOf = (announced: ReadonlyArray<string>) => /one-time password\s+(\S+)/.exec(announced.join(""))?.[1]

/** An RP of the issuer, driven the way identity-oidc drives it (oauth4webapi), with a browser. */
const relyingParty = async (running: Running) => {
  const issuerUrl = new URL(running.issuer.issuer)
  const insecure = { [oauth.allowInsecureRequests]: true }
  const as = await oauth.processDiscoveryResponse(issuerUrl, await oauth.discoveryRequest(issuerUrl, insecure))
  const client: oauth.Client = { client_id: running.issuer.clientId }
  const auth = oauth.ClientSecretBasic(Redacted.value(running.issuer.clientSecret))
  const redirectUri = `${running.origin}/auth/callback`
  const begin = async () => {
    const verifier = oauth.generateRandomCodeVerifier()
    const state = oauth.generateRandomState()
    const nonce = oauth.generateRandomNonce()
    const url = new URL(as.authorization_endpoint!)
    for (const [k, v] of Object.entries({
      client_id: client.client_id, redirect_uri: redirectUri, response_type: "code", scope: "openid profile email",
      state, nonce, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256"
    })) url.searchParams.set(k, v)
    return { url: url.toString(), verifier, state, nonce }
  }
  const exchange = async (callback: string, started: Awaited<ReturnType<typeof begin>>) => {
    const params = oauth.validateAuthResponse(as, client, new URL(callback), started.state)
    const response = await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, started.verifier, insecure)
    return oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: started.nonce, requireIdToken: true })
  }
  const signIn = async (fill: Parameters<Browser["drive"]>[2], browser = new Browser()) => {
    const started = await begin()
    return exchange(await browser.drive(started.url, redirectUri, fill), started)
  }
  const refresh = async (refreshToken: string) =>
    oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, refreshToken, insecure))
  const verify = (token: string) =>
    jwtVerify(token, createRemoteJWKSet(new URL(as.jwks_uri!)), { issuer: running.issuer.issuer, audience: "aquifer", typ: "at+jwt" })
  return { as, begin, signIn, refresh, verify, redirectUri }
}

const credentials = (username: string, password: string) => (fields: ReadonlyArray<string>) =>
  fields.includes("username") ? { username, password } : undefined

/** Opens the sign-in page of a fresh attempt; returns the browser and the page's form action. */
const openSignIn = async (running: Running) => {
  const rp = await relyingParty(running)
  const browser = new Browser()
  const started = await rp.begin()
  const redirect = await browser.request(started.url)
  const pageUrl = new URL(redirect.headers.get("location")!, running.origin).toString()
  const page = await (await browser.request(pageUrl)).text()
  const action = /action="([^"]+)"/.exec(page)![1]!.replaceAll("&#x2F;", "/")
  const post = (fields: Record<string, string>, headers: Record<string, string> = { origin: running.origin }) =>
    browser.request(new URL(action, running.origin).toString(), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams(fields)
    })
  return { page, post }
}

describe("the embedded issuer", () => {
  it.live("first run: an admin with a one-time password shown once, its own sign-in page, a forced password change, JWT access tokens for aquifer", () =>
    Effect.promise(async () => {
      const running = await start(memoryStores())
      try {
        const otp = otpOf(running.announced)
        assert.isDefined(otp)
        assert.strictEqual(running.announced.length, 1)
        const rp = await relyingParty(running)
        const pages: Array<string> = []
        const result = await rp.signIn((fields, page): Record<string, string> | undefined => {
          pages.push(page)
          if (fields.includes("username")) return { username: "Admin", password: otp! }
          if (fields.includes("confirm")) {
            const attempt = pages.filter((p) => p.includes("Choose a new password")).length
            if (attempt === 1) return { password: "short", confirm: "short" }
            if (attempt === 2) return { password: "a-Long-enough-passphrase", confirm: "something else entirely" }
            if (attempt === 3) return { password: otp!, confirm: otp! }
            return { password: "correct horse battery staple", confirm: "correct horse battery staple" }
          }
          return undefined
        })
        assert.include(pages[0], "Sign in to Aquifer")
        assert.notInclude(pages[0], "Enter any login", "no development interactions")
        assert.include(pages[2], "at least 12 characters")
        assert.include(pages[3], "differ")
        assert.include(pages[4], "other than the one-time password")
        const { payload, protectedHeader } = await rp.verify(result.access_token)
        assert.strictEqual(protectedHeader.typ, "at+jwt")
        assert.strictEqual(payload.aud, "aquifer")
        assert.strictEqual(payload.client_id, "aquifer")
        assert.deepStrictEqual(payload.roles, ["admin"])
        assert.strictEqual(payload.preferred_username, "admin")
        assert.isString(result.refresh_token)
        // The one-time password is spent; the new one works.
        const again = await relyingParty(running)
        await again.signIn(credentials("admin", "correct horse battery staple"))
        const spent = await openSignIn(running)
        assert.strictEqual((await spent.post({ username: "admin", password: otp! })).status, 401)
      } finally {
        await running.close()
      }
    }), 60_000)

  it.live("restarts without losing accounts, keys or grants: nothing printed again, old tokens verify, refresh works", () =>
    Effect.promise(async () => {
      const shared = await sharedStores()
      const port = await freePort()
      let running = await start(shared, { admin: { password: Redacted.make("a-strong-initial-passphrase") } }, port)
      assert.deepStrictEqual(running.announced, [], "a password given by the operator is not printed")
      const first = await (await relyingParty(running)).signIn(credentials("admin", "a-strong-initial-passphrase"))
      await running.close()
      running = await start(shared, {}, port)
      try {
        assert.deepStrictEqual(running.announced, [])
        const rp = await relyingParty(running)
        await rp.verify(first.access_token)
        const refreshed = await rp.refresh(first.refresh_token!)
        const { payload } = await rp.verify(refreshed.access_token)
        assert.strictEqual(payload.preferred_username, "admin")
      } finally {
        await running.close()
      }
    }), 60_000)

  it.live("answers a wrong password and an unknown user alike, locks a username after repeated failures, refuses disabled accounts", () =>
    Effect.promise(async () => {
      const stores = await sharedStores()
      const running = await start(stores, { admin: { password: Redacted.make("the-right-passphrase-1") }, maxFailedSignIns: 3 })
      try {
        const wrong = await openSignIn(running)
        const wrongPage = await wrong.post({ username: "admin", password: "nope" })
        const unknown = await (await openSignIn(running)).post({ username: "nobody", password: "nope" })
        assert.strictEqual(wrongPage.status, 401)
        assert.strictEqual(unknown.status, 401)
        assert.include(await wrongPage.text(), "Wrong username or password.")
        assert.include(await unknown.text(), "Wrong username or password.")
        for (let i = 0; i < 2; i++) await (await openSignIn(running)).post({ username: "admin", password: "nope" })
        const locked = await (await openSignIn(running)).post({ username: "ADMIN", password: "the-right-passphrase-1" })
        assert.strictEqual(locked.status, 429)
        assert.include(await locked.text(), "Too many failed attempts")

        const dora = await Effect.runPromise(Effect.gen(function*() {
          const accounts = yield* LocalAccountStore
          const made = yield* createAccount({ username: "Dora", name: "Dora", roles: ["full"] })
          const duplicate = yield* Effect.flip(createAccount({ username: "dora", name: "Other", roles: ["full"] }))
          assert.strictEqual(duplicate._tag, "AlreadyExists")
          const invalid = yield* Effect.flip(createAccount({ username: "no spaces", name: "x", roles: ["full"] }))
          assert.strictEqual(invalid._tag, "InvalidInput")
          const account = (yield* accounts.get(made.account.subject))!
          yield* accounts.create(new LocalAccount({ ...account, subject: `${account.subject}-off`, username: "dora-off", disabled: true }))
          return { made, account }
        }).pipe(Effect.provide(stores)))
        assert.strictEqual(dora.account.username, "dora")
        const otp = Redacted.value(dora.made.oneTimePassword)
        assert.strictEqual((await (await openSignIn(running)).post({ username: "dora-off", password: otp })).status, 401, "a disabled account")
        const first = await (await openSignIn(running)).post({ username: "dora", password: otp })
        assert.include(await first.text(), "Choose a new password")
      } finally {
        await running.close()
      }
    }), 60_000)

  it.live("refuses forms posted from another origin, and escapes what it echoes", () =>
    Effect.promise(async () => {
      const running = await start(memoryStores(), { admin: { password: Redacted.make("the-right-passphrase-1") } })
      try {
        const attempt = await openSignIn(running)
        const foreign = await attempt.post({ username: "admin", password: "the-right-passphrase-1" }, { origin: "http://evil.example" })
        assert.strictEqual(foreign.status, 403)
        const crossSite = await attempt.post({ username: "admin", password: "the-right-passphrase-1" }, { "sec-fetch-site": "cross-site" })
        assert.strictEqual(crossSite.status, 403)
        const echoed = await (await openSignIn(running)).post({ username: "<script>alert(1)</script>", password: "x" })
        const html = await echoed.text()
        assert.notInclude(html, "<script>")
        assert.include(html, "&lt;script&gt;")
        assert.match(echoed.headers.get("content-security-policy") ?? "", /default-src 'none'/)
        assert.strictEqual(echoed.headers.get("x-frame-options"), "DENY")
      } finally {
        await running.close()
      }
    }), 60_000)

  it.live("builds every URL from the public origin, whatever Host a request carries", () =>
    Effect.promise(async () => {
      const running = await start(memoryStores())
      try {
        const { port } = new URL(running.origin)
        const body = await new Promise<string>((resolve, reject) => {
          const req = httpRequest({ host: "127.0.0.1", port, path: "/oidc/.well-known/openid-configuration", headers: { host: "evil.example", "x-forwarded-host": "evil.example" } }, (res) => {
            let text = ""
            res.on("data", (chunk) => (text += chunk))
            res.on("end", () => resolve(text))
          })
          req.on("error", reject)
          req.end()
        })
        const metadata = JSON.parse(body) as Record<string, string>
        assert.strictEqual(metadata.issuer, `${running.origin}/oidc`)
        for (const endpoint of ["authorization_endpoint", "token_endpoint", "jwks_uri", "end_session_endpoint"]) {
          assert.isTrue(metadata[endpoint]!.startsWith(`${running.origin}/oidc/`), endpoint)
        }
      } finally {
        await running.close()
      }
    }), 60_000)

  it.live("answers 503 until its store is ready (a store double that fails: nothing real can be made to fail on cue)", () =>
    Effect.promise(async () => {
      const failing = Layer.succeed(IssuerStateStore, IssuerStateStore.of({
        put: () => Effect.fail(new Unavailable({ message: "database starting" })),
        get: () => Effect.fail(new Unavailable({ message: "database starting" })),
        findByUid: () => Effect.fail(new Unavailable({ message: "database starting" })),
        findByUserCode: () => Effect.fail(new Unavailable({ message: "database starting" })),
        consume: () => Effect.fail(new Unavailable({ message: "database starting" })),
        delete: () => Effect.fail(new Unavailable({ message: "database starting" })),
        deleteGrant: () => Effect.fail(new Unavailable({ message: "database starting" })),
        deleteExpired: () => Effect.fail(new Unavailable({ message: "database starting" }))
      }))
      const running = await start(Layer.mergeAll(failing, layerLocalAccountsMemory), {}, undefined, false)
      try {
        const response = await fetch(`${running.origin}/oidc/.well-known/openid-configuration`)
        assert.strictEqual(response.status, 503)
        assert.strictEqual(response.headers.get("retry-after"), "1")
        const readiness = await Effect.runPromise(Effect.flip(running.issuer.readiness))
        assert.match(readiness.message, /database starting/)
      } finally {
        await running.close()
      }
    }), 60_000)
})
