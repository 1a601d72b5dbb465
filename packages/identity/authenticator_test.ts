import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { TestClock } from "effect/testing"
import { Principal } from "@aquifer/core"
import {
  Authenticator,
  createPlatformToken,
  layerAuthenticator,
  layerMemory,
  listPlatformTokens,
  PlatformTokenStore,
  revokePlatformToken,
  SessionStore,
  UserDirectory
} from "./mod.ts"
import { makeFakeIssuer, testPrincipal } from "./testing.ts"

const redirectUri = "https://aquifer.test/auth/callback"
const minute = 60_000

const setup = () => {
  const { fake, layer } = makeFakeIssuer()
  const services = layerAuthenticator({ idleTimeoutMillis: 30 * minute, absoluteTimeoutMillis: 120 * minute }).pipe(
    Layer.provideMerge(layerMemory),
    Layer.provideMerge(layer)
  )
  return { fake, provide: <A, E>(effect: Effect.Effect<A, E, Authenticator | SessionStore | UserDirectory | PlatformTokenStore>) => Effect.provide(effect, services) }
}

const signIn = Effect.fnUntraced(function*(fake: ReturnType<typeof makeFakeIssuer>["fake"], principal: Principal, returnTo?: string) {
  const auth = yield* Authenticator
  const begun = yield* auth.beginSignIn({ redirectUri, returnTo })
  const callbackUrl = yield* fake.approve(begun.url, principal)
  return yield* auth.finishSignIn({ callbackUrl, redirectUri, binding: Redacted.value(begun.binding) })
})

describe("Authenticator (fake issuer)", () => {
  it.effect("signs in, resolves the session cookie to the principal, and records the user", () => {
    const { fake, provide } = setup()
    return provide(Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 11, 6, 12))
      const auth = yield* Authenticator
      const alice = testPrincipal({ email: "alice@example.com" })
      const signed = yield* signIn(fake, alice, "/apps?x=1")
      assert.strictEqual(signed.returnTo, "/apps?x=1")
      const resolved = yield* auth.resolveSession(Redacted.value(signed.sessionSecret))
      assert.strictEqual(resolved.via, "session")
      assert.strictEqual(resolved.caller.principal.key, alice.key)
      assert.isUndefined(resolved.caller.scopes)
      assert.strictEqual(Redacted.value(resolved.accessToken!), Redacted.value(signed.session.accessToken))
      assert.strictEqual((yield* (yield* UserDirectory).get(alice.key))?.email, "alice@example.com")
      const stored = yield* (yield* SessionStore).get(signed.session.id)
      assert.notStrictEqual(stored?.secretHash, Redacted.value(signed.sessionSecret), "only a hash is stored")
      assert.strictEqual((yield* Effect.flip(auth.resolveSession("x".repeat(43))))._tag, "Unauthenticated")
    }))
  })

  it.effect("sanitises the return target: an open redirect becomes /", () => {
    const { fake, provide } = setup()
    return provide(Effect.gen(function*() {
      for (const target of ["//evil.example", "/\\evil.example", "https:evil.example", "%2F%2Fevil.example"]) {
        assert.strictEqual((yield* signIn(fake, testPrincipal(), target)).returnTo, "/")
      }
    }))
  })

  it.effect("refuses a callback with a missing, foreign, replayed or expired state", () => {
    const { fake, provide } = setup()
    return provide(Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 11, 6, 12))
      const auth = yield* Authenticator
      const begun = yield* auth.beginSignIn({ redirectUri })
      const callbackUrl = yield* fake.approve(begun.url, testPrincipal())
      const binding = Redacted.value(begun.binding)
      const withoutState = new URL(callbackUrl)
      withoutState.searchParams.delete("state")
      const failures = [
        yield* Effect.flip(auth.finishSignIn({ callbackUrl: withoutState.toString(), redirectUri, binding })),
        yield* Effect.flip(auth.finishSignIn({ callbackUrl, redirectUri, binding: undefined })),
        yield* Effect.flip(auth.finishSignIn({ callbackUrl, redirectUri, binding: "another-browser-binding" })),
        yield* Effect.flip(auth.finishSignIn({ callbackUrl: "not a url", redirectUri, binding }))
      ]
      for (const failure of failures) assert.strictEqual(failure._tag, "SignInFailed")
      // The rightful browser still finishes; the same state cannot be used twice.
      yield* auth.finishSignIn({ callbackUrl, redirectUri, binding })
      const replay = yield* Effect.flip(auth.finishSignIn({ callbackUrl, redirectUri, binding }))
      assert.strictEqual(replay._tag, "SignInFailed")
      assert.match(replay.message, /already used/)

      const late = yield* auth.beginSignIn({ redirectUri })
      const lateCallback = yield* fake.approve(late.url, testPrincipal())
      yield* TestClock.adjust(11 * minute)
      const expired = yield* Effect.flip(auth.finishSignIn({ callbackUrl: lateCallback, redirectUri, binding: Redacted.value(late.binding) }))
      assert.match(expired.message, /expired/)
    }))
  })

  it.effect("rotates the session on sign-in: the cookie held before is revoked", () => {
    const { fake, provide } = setup()
    return provide(Effect.gen(function*() {
      const auth = yield* Authenticator
      const alice = testPrincipal()
      const first = yield* signIn(fake, alice)
      const begun = yield* auth.beginSignIn({ redirectUri })
      const second = yield* auth.finishSignIn({
        callbackUrl: yield* fake.approve(begun.url, alice),
        redirectUri,
        binding: Redacted.value(begun.binding),
        previousSessionSecret: Redacted.value(first.sessionSecret)
      })
      assert.notStrictEqual(second.session.id, first.session.id)
      assert.strictEqual((yield* Effect.flip(auth.resolveSession(Redacted.value(first.sessionSecret))))._tag, "Unauthenticated")
      yield* auth.resolveSession(Redacted.value(second.sessionSecret))
    }))
  })

  it.effect("refreshes the access token before it expires, once for concurrent requests", () => {
    const { fake, provide } = setup()
    return provide(Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 11, 6, 12))
      fake.setAccessTokenTtl(5 * minute)
      const auth = yield* Authenticator
      const signed = yield* signIn(fake, testPrincipal())
      const secret = Redacted.value(signed.sessionSecret)
      yield* TestClock.adjust(3 * minute)
      assert.strictEqual(Redacted.value((yield* auth.resolveSession(secret)).accessToken!), Redacted.value(signed.session.accessToken))
      assert.strictEqual(fake.refreshCalls(), 0)
      yield* TestClock.adjust(minute + 30_000) // 30 s before expiry: inside the refresh margin
      const resolved = yield* Effect.forEach([1, 2, 3, 4, 5], () => auth.resolveSession(secret), { concurrency: 5 })
      assert.strictEqual(fake.refreshCalls(), 1)
      const fresh = new Set(resolved.map((r) => Redacted.value(r.accessToken!)))
      assert.strictEqual(fresh.size, 1)
      assert.notInclude([...fresh], Redacted.value(signed.session.accessToken))
      const row = yield* (yield* SessionStore).get(signed.session.id)
      assert.strictEqual(row?.version, 1)
      assert.isAbove(row!.accessTokenExpiresAt.getTime(), Date.UTC(2026, 11, 6, 12, 9))
    }))
  })

  it.effect("ends the session when the issuer refuses the refresh, and rides out an issuer outage while the token lasts", () => {
    const { fake, provide } = setup()
    return provide(Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 11, 6, 12))
      fake.setAccessTokenTtl(5 * minute)
      const auth = yield* Authenticator
      const outage = yield* signIn(fake, testPrincipal())
      const refused = yield* signIn(fake, testPrincipal())
      yield* TestClock.adjust(4 * minute + 30_000)
      fake.setDown(true)
      yield* auth.resolveSession(Redacted.value(outage.sessionSecret))
      yield* TestClock.adjust(minute)
      assert.strictEqual((yield* Effect.flip(auth.resolveSession(Redacted.value(outage.sessionSecret))))._tag, "Unavailable")
      fake.setDown(false)
      yield* auth.resolveSession(Redacted.value(outage.sessionSecret))
      fake.revokeRefreshTokens()
      assert.strictEqual((yield* Effect.flip(auth.resolveSession(Redacted.value(refused.sessionSecret))))._tag, "Unauthenticated")
      assert.isDefined((yield* (yield* SessionStore).get(refused.session.id))?.revokedAt)
    }))
  })

  it.effect("expires idle sessions, and every session at its absolute limit however active", () => {
    const { fake, provide } = setup()
    return provide(Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 11, 6, 12))
      fake.setAccessTokenTtl(24 * 60 * minute)
      const auth = yield* Authenticator
      const idle = yield* signIn(fake, testPrincipal())
      const busy = yield* signIn(fake, testPrincipal())
      for (let i = 0; i < 5; i++) {
        yield* TestClock.adjust(20 * minute)
        yield* auth.resolveSession(Redacted.value(busy.sessionSecret))
      }
      assert.strictEqual((yield* Effect.flip(auth.resolveSession(Redacted.value(idle.sessionSecret))))._tag, "Unauthenticated")
      yield* TestClock.adjust(20 * minute + 1) // 120 min after sign-in: the absolute limit
      const error = yield* Effect.flip(auth.resolveSession(Redacted.value(busy.sessionSecret)))
      assert.match(error.message, /expired/)
    }))
  })

  it.effect("signs out: revokes the session, ends it at the issuer, and refuses the cookie afterwards", () => {
    const { fake, provide } = setup()
    return provide(Effect.gen(function*() {
      const auth = yield* Authenticator
      const signed = yield* signIn(fake, testPrincipal())
      const secret = Redacted.value(signed.sessionSecret)
      const out = yield* auth.signOut({ sessionSecret: secret, postLogoutRedirectUri: "https://aquifer.test/" })
      assert.strictEqual(out.logoutUrl, `${fake.issuer}/logout`)
      assert.strictEqual(fake.signOutCalls()[0]?.idToken, Redacted.value(signed.session.idToken!))
      assert.strictEqual((yield* Effect.flip(auth.resolveSession(secret)))._tag, "Unauthenticated")
      assert.deepStrictEqual(yield* auth.signOut({ sessionSecret: secret }), {})
      assert.deepStrictEqual(yield* auth.signOut({ sessionSecret: undefined }), {})
      assert.strictEqual(fake.signOutCalls().length, 1)
      const other = yield* signIn(fake, testPrincipal())
      fake.setDown(true)
      assert.deepStrictEqual(yield* auth.signOut({ sessionSecret: Redacted.value(other.sessionSecret) }), {}, "an issuer outage does not keep anyone signed in")
      fake.setDown(false)
      assert.strictEqual((yield* Effect.flip(auth.resolveSession(Redacted.value(other.sessionSecret))))._tag, "Unauthenticated")
    }))
  })

  it.effect("resolves an issuer access token as a bearer, and refuses it once expired", () => {
    const { fake, provide } = setup()
    return provide(Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 11, 6, 12))
      const auth = yield* Authenticator
      const bob = testPrincipal({ roles: ["visitor"] })
      const signed = yield* signIn(fake, bob)
      const bearer = yield* auth.resolveBearer(Redacted.value(signed.session.accessToken))
      assert.strictEqual(bearer.via, "bearer")
      assert.strictEqual(bearer.caller.principal.key, bob.key)
      yield* TestClock.adjust(10 * minute)
      assert.strictEqual((yield* Effect.flip(auth.resolveBearer(Redacted.value(signed.session.accessToken))))._tag, "Unauthenticated")
    }))
  })
})

describe("platform tokens (fake issuer)", () => {
  it.effect("creates a token shown once, resolves it with its scopes, lists it without its secret, and refuses it once revoked", () => {
    const { fake, provide } = setup()
    return provide(Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 11, 6, 12))
      const auth = yield* Authenticator
      const alice = testPrincipal({ roles: ["full"] })
      yield* signIn(fake, alice)
      const { token, secret } = yield* createPlatformToken({ principal: alice }, { name: "laptop", scopes: ["read"], expiresInDays: 30 })
      assert.match(Redacted.value(secret), /^aqt_[A-Za-z0-9_-]{43}$/)
      assert.strictEqual(token.expiresAt.toISOString(), new Date(Date.UTC(2027, 0, 5, 12)).toISOString())
      const resolved = yield* auth.resolveBearer(Redacted.value(secret))
      assert.strictEqual(resolved.via, "platform-token")
      assert.strictEqual(resolved.caller.principal.key, alice.key)
      assert.deepStrictEqual(resolved.caller.scopes, ["read"])
      assert.isUndefined(resolved.accessToken)
      const listed = yield* listPlatformTokens({ principal: alice })
      assert.deepStrictEqual(listed.map((t) => t.name), ["laptop"])
      yield* revokePlatformToken({ principal: alice }, token.id)
      assert.strictEqual((yield* Effect.flip(auth.resolveBearer(Redacted.value(secret))))._tag, "Unauthenticated")
      assert.deepStrictEqual(yield* listPlatformTokens({ principal: alice }), [])
    }))
  })

  it.effect("refuses expired, unknown and forged tokens", () => {
    const { fake, provide } = setup()
    return provide(Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 11, 6, 12))
      const auth = yield* Authenticator
      const alice = testPrincipal()
      yield* signIn(fake, alice)
      const { secret } = yield* createPlatformToken({ principal: alice }, { name: "short", scopes: ["write"], expiresInDays: 1 })
      yield* TestClock.adjust(86_400_000)
      assert.match((yield* Effect.flip(auth.resolveBearer(Redacted.value(secret)))).message, /expired/)
      for (const forged of ["aqt_", "aqt_AAAA", `aqt_${"A".repeat(43)}`, `aqt_${"x".repeat(5000)}`]) {
        assert.strictEqual((yield* Effect.flip(auth.resolveBearer(forged)))._tag, "Unauthenticated")
      }
    }))
  })

  it.effect("enforces who may create which scopes, and that only the owner (or an admin) revokes", () => {
    const { fake, provide } = setup()
    return provide(Effect.gen(function*() {
      const alice = testPrincipal({ roles: ["full"] })
      const visitor = testPrincipal({ roles: ["visitor"] })
      const admin = testPrincipal({ roles: ["admin"] })
      for (const p of [alice, visitor, admin]) yield* signIn(fake, p)
      const adminScope = yield* Effect.flip(createPlatformToken({ principal: alice }, { name: "x", scopes: ["admin"] }))
      assert.strictEqual(adminScope._tag, "InvalidInput")
      const escalate = yield* Effect.flip(createPlatformToken({ principal: alice, scopes: ["read"] }, { name: "x", scopes: ["write"] }))
      assert.strictEqual(escalate._tag, "Forbidden", "a read-only token cannot create tokens at all")
      const subset = yield* Effect.flip(createPlatformToken({ principal: alice, scopes: ["write"] }, { name: "x", scopes: ["read", "write", "admin"] }))
      assert.strictEqual(subset._tag, "InvalidInput")
      for (const bad of [{ name: "", scopes: ["read"] }, { name: "x", scopes: [] }, { name: "x", scopes: ["root"] }, { name: "x", scopes: ["read"], expiresInDays: 9999 }, { name: "a\nb", scopes: ["read"] }]) {
        assert.strictEqual((yield* Effect.flip(createPlatformToken({ principal: alice }, bad)))._tag, "InvalidInput", JSON.stringify(bad))
      }
      yield* createPlatformToken({ principal: visitor }, { name: "cli", scopes: ["read"] })
      const { token } = yield* createPlatformToken({ principal: alice }, { name: "ci", scopes: ["read", "write"] })
      const duplicate = yield* Effect.flip(createPlatformToken({ principal: alice }, { name: "ci", scopes: ["read"] }))
      assert.strictEqual(duplicate._tag, "InvalidInput")
      assert.strictEqual((yield* Effect.flip(revokePlatformToken({ principal: visitor }, token.id)))._tag, "NotFound")
      assert.strictEqual((yield* Effect.flip(revokePlatformToken(undefined, token.id)))._tag, "Unauthenticated")
      assert.strictEqual((yield* Effect.flip(createPlatformToken(undefined, { name: "x", scopes: ["read"] })))._tag, "Unauthenticated")
      yield* revokePlatformToken({ principal: admin }, token.id)
      assert.deepStrictEqual(yield* listPlatformTokens({ principal: alice }), [])
    }))
  })

  it.effect("acts as the user's latest known principal: a demotion at the issuer reaches the token at next sign-in", () => {
    const { fake, provide } = setup()
    return provide(Effect.gen(function*() {
      const auth = yield* Authenticator
      const alice = testPrincipal({ roles: ["admin"] })
      yield* signIn(fake, alice)
      const { secret } = yield* createPlatformToken({ principal: alice }, { name: "ops", scopes: ["read", "write", "admin"] })
      assert.isTrue((yield* auth.resolveBearer(Redacted.value(secret))).caller.principal.isAdmin)
      yield* TestClock.adjust(2 * minute)
      yield* signIn(fake, Principal.make({ ...alice, roles: ["visitor"] }))
      assert.isTrue((yield* auth.resolveBearer(Redacted.value(secret))).caller.principal.isVisitor)
    }))
  })
})
