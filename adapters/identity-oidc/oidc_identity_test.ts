import { assert, describe, it, layer } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import { exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT } from "jose"
import { Identity, type SignInChallenge } from "@aquifer/identity"
import { layer as oidcLayer, type OidcOptions } from "./mod.ts"
import { Browser } from "../../scripts/testing/browser.ts"
import { newSigningKey, startProvider, type TestProvider } from "./testdata/provider.ts"
import { freePort } from "../../scripts/testing/ports.ts"

class Fixture extends Context.Service<Fixture, TestProvider>()("test/OidcFixture") {}

const providerLayer = Layer.effect(
  Fixture,
  Effect.acquireRelease(Effect.promise(() => startProvider()), (provider) => Effect.promise(() => provider.close()))
)

const optionsFor = (provider: TestProvider, extra: Partial<OidcOptions> = {}): OidcOptions => ({
  issuer: provider.issuer,
  clientId: provider.clientId,
  clientSecret: Redacted.make(provider.clientSecret),
  allowInsecureRequests: true,
  jwksCooldownMillis: 0,
  ...extra
})

const fixtureLayer = Layer.unwrap(Effect.gen(function*() {
  return oidcLayer(optionsFor(yield* Fixture))
})).pipe(
  Layer.provideMerge(providerLayer)
)

const login = (sub: string) => (fields: ReadonlyArray<string>) => fields.includes("login") ? { login: sub, password: "any" } : undefined

/** Begins a sign-in and lets the browser sign in as `sub`; returns the challenge and the callback URL. */
const authorize = Effect.fnUntraced(function*(sub: string) {
  const provider = yield* Fixture
  const identity = yield* Identity
  const challenge = yield* identity.beginSignIn({ redirectUri: provider.redirectUri })
  const callbackUrl = yield* Effect.promise(() => new Browser().drive(challenge.url, provider.redirectUri, login(sub)))
  return { challenge, callbackUrl }
})

const expected = (challenge: SignInChallenge) => ({ state: challenge.state, nonce: challenge.nonce, codeVerifier: challenge.codeVerifier })

const signIn = Effect.fnUntraced(function*(sub: string) {
  const provider = yield* Fixture
  const { challenge, callbackUrl } = yield* authorize(sub)
  return yield* (yield* Identity).finishSignIn({ callbackUrl, redirectUri: provider.redirectUri, expected: expected(challenge) })
})

const seconds = () => Math.floor(Date.now() / 1000)

describe("identity-oidc against a real oidc-provider", () => {
  // Real time: tokens carry real `exp`, `iat` and `nbf`.
  layer(fixtureLayer, { timeout: 60_000, excludeTestServices: true })((it) => {
    it.effect("signs in with authorization code + PKCE: the URL carries S256, state and nonce; the principal comes from the verified access token", () =>
      Effect.gen(function*() {
        const provider = yield* Fixture
        provider.accounts.set("alice", { sub: "alice", name: "Alice Ada", email: "alice@example.com", roles: ["admin"], groups: ["ml", "ops"] })
        const { challenge } = yield* authorize("alice")
        const url = new URL(challenge.url)
        assert.strictEqual(url.searchParams.get("code_challenge_method"), "S256")
        assert.strictEqual(url.searchParams.get("state"), challenge.state)
        assert.strictEqual(url.searchParams.get("nonce"), challenge.nonce)
        assert.notInclude(challenge.url, Redacted.value(challenge.codeVerifier))
        const tokens = yield* signIn("alice")
        assert.strictEqual(tokens.principal.key, `${provider.issuer}#alice`)
        assert.strictEqual(tokens.principal.name, "Alice Ada")
        assert.strictEqual(tokens.principal.email, "alice@example.com")
        assert.deepStrictEqual(tokens.principal.roles, ["admin"])
        assert.deepStrictEqual(tokens.principal.groups, ["ml", "ops"])
        assert.isDefined(tokens.refreshToken)
        assert.isDefined(tokens.idToken)
        assert.isAbove(tokens.accessTokenExpiresAt.getTime(), Date.now())
        const verified = yield* (yield* Identity).verifyAccessToken(Redacted.value(tokens.accessToken))
        assert.strictEqual(verified.principal.key, tokens.principal.key)
        assert.strictEqual(verified.clientId, "aquifer")
      }))

    it.effect("maps an account without a known role to visitor, and keeps two accounts with one e-mail apart", () =>
      Effect.gen(function*() {
        const provider = yield* Fixture
        provider.accounts.set("twin-1", { sub: "twin-1", email: "twin@example.com", roles: ["nothing-we-know"] })
        provider.accounts.set("twin-2", { sub: "twin-2", email: "twin@example.com", roles: ["full"] })
        const one = yield* signIn("twin-1")
        const two = yield* signIn("twin-2")
        assert.deepStrictEqual(one.principal.roles, ["visitor"])
        assert.deepStrictEqual(two.principal.roles, ["full"])
        assert.notStrictEqual(one.principal.key, two.principal.key)
        assert.strictEqual(one.principal.email, two.principal.email)
      }))

    it.effect("refreshes, then signs out: refresh token revoked at the issuer, RP-initiated logout URL returned", () =>
      Effect.gen(function*() {
        const provider = yield* Fixture
        const identity = yield* Identity
        const tokens = yield* signIn("bob")
        const refreshed = yield* identity.refresh(tokens.refreshToken!)
        assert.strictEqual(refreshed.principal.key, tokens.principal.key)
        assert.notStrictEqual(Redacted.value(refreshed.accessToken), Redacted.value(tokens.accessToken))
        yield* identity.verifyAccessToken(Redacted.value(refreshed.accessToken))
        const current = refreshed.refreshToken ?? tokens.refreshToken!
        const out = yield* identity.signOut({ idToken: tokens.idToken, refreshToken: current, postLogoutRedirectUri: `${provider.rpOrigin}/` })
        const logout = new URL(out.logoutUrl!)
        assert.strictEqual(logout.origin, provider.issuer)
        assert.strictEqual(logout.searchParams.get("id_token_hint"), Redacted.value(tokens.idToken!))
        assert.strictEqual(logout.searchParams.get("post_logout_redirect_uri"), `${provider.rpOrigin}/`)
        const page = yield* Effect.promise(() => fetch(logout).then((r) => r.status))
        assert.strictEqual(page, 200, "the issuer shows its sign-out confirmation")
        const refused = yield* Effect.flip(identity.refresh(current))
        assert.strictEqual(refused._tag, "Unauthenticated")
      }))

    it.effect("refuses callbacks with a foreign state, an error, a missing code, a replayed code, a wrong PKCE verifier or a wrong nonce", () =>
      Effect.gen(function*() {
        const provider = yield* Fixture
        const identity = yield* Identity
        const finish = (callbackUrl: string, values: ReturnType<typeof expected>) =>
          Effect.flip(identity.finishSignIn({ callbackUrl, redirectUri: provider.redirectUri, expected: values }))

        const foreign = yield* authorize("carol")
        assert.strictEqual((yield* finish(foreign.callbackUrl, { ...expected(foreign.challenge), state: "someone-elses-state" }))._tag, "SignInFailed")

        const denied = `${provider.redirectUri}?error=access_denied&state=${foreign.challenge.state}&iss=${encodeURIComponent(provider.issuer)}`
        assert.match((yield* finish(denied, expected(foreign.challenge))).message, /access_denied/)
        const noCode = `${provider.redirectUri}?state=${foreign.challenge.state}&iss=${encodeURIComponent(provider.issuer)}`
        assert.strictEqual((yield* finish(noCode, expected(foreign.challenge)))._tag, "SignInFailed")

        const replay = yield* authorize("carol")
        yield* identity.finishSignIn({ callbackUrl: replay.callbackUrl, redirectUri: provider.redirectUri, expected: expected(replay.challenge) })
        const replayed = yield* finish(replay.callbackUrl, expected(replay.challenge))
        assert.match(replayed.message, /invalid_grant/)

        const pkce = yield* authorize("carol")
        const noVerifier = yield* finish(pkce.callbackUrl, { ...expected(pkce.challenge), codeVerifier: Redacted.make("") })
        assert.strictEqual(noVerifier._tag, "SignInFailed")
        const wrongVerifier = yield* finish(pkce.callbackUrl, { ...expected(pkce.challenge), codeVerifier: Redacted.make("x".repeat(43)) })
        assert.match(wrongVerifier.message, /invalid_grant/)

        const nonce = yield* authorize("carol")
        const wrongNonce = yield* finish(nonce.callbackUrl, { ...expected(nonce.challenge), nonce: "not-the-nonce" })
        assert.match(wrongNonce.message, /nonce/)
      }))

    it.effect("issues and caches a service token through client credentials", () =>
      Effect.gen(function*() {
        const identity = yield* Identity
        const first = yield* identity.serviceToken()
        const again = yield* identity.serviceToken()
        assert.strictEqual(Redacted.value(again.accessToken), Redacted.value(first.accessToken))
        const verified = yield* identity.verifyAccessToken(Redacted.value(first.accessToken))
        assert.strictEqual(verified.clientId, "aquifer")
        assert.strictEqual(verified.principal.subject, "aquifer")
        assert.deepStrictEqual(verified.principal.roles, ["visitor"])
      }))

    it.effect("refuses hostile access tokens, each with Unauthenticated", () =>
      Effect.gen(function*() {
        const provider = yield* Fixture
        const identity = yield* Identity
        const key = provider.keys[0]!
        const now = seconds()
        const claims = { iss: provider.issuer, sub: "mallory", aud: "aquifer", client_id: "aquifer", iat: now, exp: now + 300, jti: "j1", scope: "api", roles: ["admin"] }
        const forge = (overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}, signer: CryptoKey | Uint8Array = key.privateKey) =>
          Effect.promise(() =>
            new SignJWT(Object.fromEntries(Object.entries({ ...claims, ...overrides }).filter(([, v]) => v !== undefined)))
              .setProtectedHeader({ alg: "RS256", typ: "at+jwt", kid: key.kid, ...header } as never)
              .sign(signer)
          )
        // The control: a token forged with the issuer's own key and every claim right verifies,
        // so each refusal below is due to the one thing changed.
        const control = yield* identity.verifyAccessToken(yield* forge())
        assert.strictEqual(control.principal.subject, "mallory")

        const attacker = yield* Effect.promise(() => newSigningKey("attacker"))
        const publicPem = yield* Effect.promise(async () => exportSPKI((await generateKeyPair("RS256", { extractable: true })).publicKey))
        const issuerPem = yield* Effect.promise(async () => {
          const { importJWK } = await import("jose")
          return exportSPKI(await importJWK(key.publicJwk, "RS256") as CryptoKey)
        })
        const unsecured = new UnsecuredJWT(claims).encode()
        const [, unsecuredPayload] = unsecured.split(".")
        const noneHeader = Buffer.from(JSON.stringify({ alg: "none", typ: "at+jwt", kid: key.kid })).toString("base64url")
        const signed = yield* signIn("dave")
        const otherClient = yield* Effect.promise(async () => {
          const response = await fetch(`${provider.issuer}/token`, {
            method: "POST",
            headers: {
              authorization: `Basic ${Buffer.from("other-app:other-app-secret-0123456789").toString("base64")}`,
              "content-type": "application/x-www-form-urlencoded"
            },
            body: "grant_type=client_credentials"
          })
          return ((await response.json()) as { access_token: string }).access_token
        })

        const hostile: Record<string, string> = {
          "alg none (unsecured JWT)": unsecured,
          "alg none with a made-up signature": `${noneHeader}.${unsecuredPayload}.c2ln`,
          "HS256 signed with the issuer's RSA public key": yield* forge({}, { alg: "HS256" }, new TextEncoder().encode(issuerPem)),
          "HS256 signed with some public key": yield* forge({}, { alg: "HS256" }, new TextEncoder().encode(publicPem)),
          "unknown kid": yield* forge({}, { kid: "attacker" }, attacker.privateKey),
          "known kid, signed by another key": yield* forge({}, {}, attacker.privateKey),
          "jku header (attacker's key)": yield* forge({}, { jku: "http://evil.example/jwks", kid: "attacker" }, attacker.privateKey),
          "jku header even when signed by the issuer": yield* forge({}, { jku: `${provider.issuer}/jwks` }),
          "x5u header": yield* forge({}, { x5u: "http://evil.example/cert.pem" }),
          "jwk header carrying the attacker's key": yield* forge({}, { jwk: attacker.publicJwk, kid: "attacker" }, attacker.privateKey),
          "wrong iss": yield* forge({ iss: "http://evil.example" }),
          "iss with a trailing slash": yield* forge({ iss: `${provider.issuer}/` }),
          "wrong aud": yield* forge({ aud: "someone-else" }),
          "no aud": yield* forge({ aud: undefined }),
          "no sub": yield* forge({ sub: undefined }),
          "no exp": yield* forge({ exp: undefined }),
          "expired beyond the skew": yield* forge({ exp: now - 120 }),
          "not yet valid": yield* forge({ nbf: now + 600 }),
          "typ JWT under the generic profile": yield* forge({}, { typ: "JWT" }),
          "no typ": yield* forge({}, { typ: undefined }),
          "a foreign client's token": yield* forge({ client_id: "other-app" }),
          "no client": yield* forge({ client_id: undefined }),
          "a real token the issuer gave another client": otherClient,
          "an ID token used as an access token": Redacted.value(signed.idToken!),
          "a refresh token used as an access token": Redacted.value(signed.refreshToken!),
          "garbage": "not.a.jwt",
          "empty": "",
          "too long": `${yield* forge()}${"A".repeat(20_000)}`
        }
        for (const [what, token] of Object.entries(hostile)) {
          const outcome = yield* Effect.flip(identity.verifyAccessToken(token))
          assert.strictEqual(outcome._tag, "Unauthenticated", what)
        }
        // Within the skew: still accepted (clocks drift a little).
        yield* identity.verifyAccessToken(yield* forge({ exp: now - 5 }))
      }))

    it.effect("maps Keycloak-shaped claims under the keycloak profile (tokens forged with the issuer's key: no Keycloak runs here)", () =>
      Effect.gen(function*() {
        const provider = yield* Fixture
        const key = provider.keys[0]!
        const now = seconds()
        const keycloak = (typClaim: string) =>
          Effect.promise(() =>
            new SignJWT({
              iss: provider.issuer, sub: "f3c1-uuid", aud: ["aquifer", "account"], azp: "aquifer", typ: typClaim, iat: now, exp: now + 300,
              preferred_username: "erin", email: "erin@example.com",
              realm_access: { roles: ["offline_access", "admin"] },
              resource_access: { aquifer: { roles: ["full"] }, account: { roles: ["manage-account"] } },
              groups: ["/team/ml", "/ops"]
            }).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: key.kid }).sign(key.privateKey)
          )
        const verified = yield* Effect.gen(function*() {
          const identity = yield* Identity
          const bearer = yield* identity.verifyAccessToken(yield* keycloak("Bearer"))
          const idToken = yield* Effect.flip(identity.verifyAccessToken(yield* keycloak("ID")))
          const refresh = yield* Effect.flip(identity.verifyAccessToken(yield* keycloak("Refresh")))
          assert.strictEqual(idToken._tag, "Unauthenticated")
          assert.strictEqual(refresh._tag, "Unauthenticated")
          return bearer
        }).pipe(Effect.provide(oidcLayer(optionsFor(provider, { profile: "keycloak" }))))
        assert.deepStrictEqual(verified.principal.roles, ["admin", "full"])
        assert.deepStrictEqual(verified.principal.groups, ["ops", "team/ml"])
        assert.strictEqual(verified.principal.name, "erin")
        const realmOnly = yield* Effect.gen(function*() {
          return yield* (yield* Identity).verifyAccessToken(yield* keycloak("Bearer"))
        }).pipe(Effect.provide(oidcLayer(optionsFor(provider, {
          profile: "keycloak",
          claims: { rolesClaims: ["realm_access.roles"], adminRoles: ["nobody"], fullRoles: ["ml"] }
        }))))
        assert.deepStrictEqual(realmOnly.principal.roles, ["visitor"], "group paths lose their slash but do not match partially")
        const byGroup = yield* Effect.gen(function*() {
          return yield* (yield* Identity).verifyAccessToken(yield* keycloak("Bearer"))
        }).pipe(Effect.provide(oidcLayer(optionsFor(provider, { profile: "keycloak", claims: { adminRoles: [], fullRoles: ["team/ml"] } }))))
        assert.deepStrictEqual(byGroup.principal.roles, ["full"])
      }))
  })

  it.live("follows a key rotation: tokens of the new key verify once it is published, tokens of a withdrawn key stop verifying", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(freePort)
      const oldKey = yield* Effect.promise(() => newSigningKey("old"))
      const newKey = yield* Effect.promise(() => newSigningKey("new"))
      let provider = yield* Effect.promise(() => startProvider({ port, keys: [oldKey] }))
      try {
        yield* Effect.gen(function*() {
          const identity = yield* Identity
          const before = yield* signIn("frank").pipe(Effect.provideService(Fixture, provider))
          yield* identity.verifyAccessToken(Redacted.value(before.accessToken))
          yield* Effect.promise(() => provider.close())
          provider = yield* Effect.promise(() => startProvider({ port, keys: [newKey] }))
          const after = yield* signIn("frank").pipe(Effect.provideService(Fixture, provider))
          yield* identity.verifyAccessToken(Redacted.value(after.accessToken))
          const withdrawn = yield* Effect.flip(identity.verifyAccessToken(Redacted.value(before.accessToken)))
          assert.strictEqual(withdrawn._tag, "Unauthenticated")
        }).pipe(Effect.provide(oidcLayer(optionsFor(provider))))
      } finally {
        yield* Effect.promise(() => provider.close())
      }
    }), 60_000)

  it.live("reports an unreachable or misidentified issuer as Unavailable, never a crash", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(freePort)
      const down = yield* Effect.gen(function*() {
        const identity = yield* Identity
        return [
          yield* Effect.flip(identity.verifyAccessToken("a.b.c")),
          yield* Effect.flip(identity.beginSignIn({ redirectUri: "http://rp.test/auth/callback" }))
        ]
      }).pipe(Effect.provide(oidcLayer({ issuer: `http://127.0.0.1:${port}`, clientId: "aquifer", allowInsecureRequests: true, requestTimeoutMillis: 2000 })))
      for (const error of down) {
        assert.strictEqual(error._tag, "Unavailable")
        assert.match(error.message, /cannot be reached/)
      }
      const provider = yield* Effect.promise(() => startProvider())
      try {
        const wrong = yield* Effect.flip(Effect.gen(function*() {
          return yield* (yield* Identity).beginSignIn({ redirectUri: provider.redirectUri })
        }).pipe(Effect.provide(oidcLayer(optionsFor(provider, { issuer: provider.issuer.replace("127.0.0.1", "localhost") })))))
        assert.strictEqual(wrong._tag, "Unavailable")
      } finally {
        yield* Effect.promise(() => provider.close())
      }
    }), 30_000)
})
