/**
 * Conformance kits of the identity repositories, and a fake issuer for unit tests of the use
 * cases. Every repository implementation runs the kits in one line:
 *
 * ```ts
 * import { suite } from "@aquifer/identity/testing"
 * suite("postgres", myIdentityRepositoriesLayer)
 * ```
 *
 * The layer is built once per kit and may already hold rows (a shared database): every case
 * works with principals, ids and names of its own.
 * @module
 */
import { assert, describe, layer, type Vitest } from "@effect/vitest"
import { Effect, Exit, Layer, Redacted } from "effect"
import { newSessionId, newTokenId, Principal, randomId, type Role, Unauthenticated, Unavailable } from "@aquifer/core"
import { Identity, SignInFailed, type TokenSet } from "./identity.ts"
import { IssuerRecord, IssuerStateStore } from "./issuer_state.ts"
import { LocalAccount, LocalAccountStore } from "./local_accounts.ts"
import { PendingSignIn, PendingSignInStore } from "./pending_sign_ins.ts"
import { PlatformToken, PlatformTokenStore } from "./platform_tokens.ts"
import { Session, SessionStore } from "./sessions.ts"
import { UserDirectory } from "./users.ts"

const timeout = { timeout: 120_000 }
const hex = () => randomId("h").slice(2)

/** A principal of its own for one case. */
export const testPrincipal = (options: { subject?: string; issuer?: string; email?: string; roles?: ReadonlyArray<Role>; groups?: ReadonlyArray<string> } = {}) =>
  Principal.make({
    issuer: options.issuer ?? "https://issuer.test",
    subject: options.subject ?? randomId("sub"),
    name: "Test Person ✓",
    email: options.email,
    groups: [...(options.groups ?? ["data-science"])],
    roles: [...(options.roles ?? ["full"])]
  })

const at = (iso: string) => new Date(iso)

const session = (principal: Principal, overrides: Partial<ConstructorParameters<typeof Session>[0]> = {}) =>
  new Session({
    id: newSessionId(),
    secretHash: hex(),
    principal,
    accessToken: Redacted.make(`at-${hex()}`),
    accessTokenExpiresAt: at("2026-12-06T12:05:00.000Z"),
    refreshToken: Redacted.make(`rt-${hex()}`),
    idToken: Redacted.make(`id-${hex()}`),
    createdAt: at("2026-12-06T12:00:00.000Z"),
    lastSeenAt: at("2026-12-06T12:00:00.000Z"),
    idleExpiresAt: at("2026-12-06T14:00:00.000Z"),
    absoluteExpiresAt: at("2026-12-07T12:00:00.000Z"),
    version: 0,
    ...overrides
  })

/** Own enumerable fields without the ones set to undefined: an absent optional is absent either way. */
const defined = <A extends object>(value: A | undefined): Partial<A> | undefined =>
  value === undefined ? undefined : Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<A>

const plain = (session: Session | undefined) =>
  session === undefined ? undefined : {
    ...defined(session),
    principal: defined({ ...session.principal }),
    accessToken: Redacted.value(session.accessToken),
    ...(session.refreshToken === undefined ? {} : { refreshToken: Redacted.value(session.refreshToken) }),
    ...(session.idToken === undefined ? {} : { idToken: Redacted.value(session.idToken) })
  }

const sessionCases = (it: Vitest.MethodsNonLive<SessionStore>): void => {
  describe("SessionStore", () => {
    it.effect("stores a session and finds it by id and by secret hash with every field intact", () =>
      Effect.gen(function*() {
        const store = yield* SessionStore
        const full = session(testPrincipal({ email: "ünï@example.com", groups: ["a", "b"], roles: ["admin"] }))
        const bare = session(testPrincipal(), { refreshToken: undefined, idToken: undefined })
        yield* store.create(full)
        yield* store.create(bare)
        assert.deepStrictEqual(plain(yield* store.get(full.id)), plain(full))
        assert.deepStrictEqual(plain(yield* store.findBySecretHash(full.secretHash)), plain(full))
        const back = yield* store.findBySecretHash(bare.secretHash)
        assert.isUndefined(back?.refreshToken)
        assert.isUndefined(back?.idToken)
        assert.isUndefined(back?.revokedAt)
        assert.strictEqual((yield* store.get(full.id))?.principal.key, full.principal.key)
        assert.isUndefined(yield* store.get(newSessionId()))
        assert.isUndefined(yield* store.findBySecretHash(hex()))
      }))

    it.effect("refuses a second session with the same id or secret hash, leaving the first untouched", () =>
      Effect.gen(function*() {
        const store = yield* SessionStore
        const first = session(testPrincipal())
        yield* store.create(first)
        for (const clash of [session(testPrincipal(), { id: first.id }), session(testPrincipal(), { secretHash: first.secretHash })]) {
          const error = yield* Effect.flip(store.create(clash))
          assert.strictEqual(error._tag, "AlreadyExists")
        }
        assert.deepStrictEqual(plain(yield* store.get(first.id)), plain(first))
      }))

    it.effect("updates tokens only at the expected version, keeping tokens left undefined", () =>
      Effect.gen(function*() {
        const store = yield* SessionStore
        const principal = testPrincipal()
        const original = session(principal)
        yield* store.create(original)
        const renamed = Principal.make({ ...principal, name: "Renamed", roles: ["visitor"] })
        const updated = yield* store.updateTokens(original.id, 0, {
          principal: renamed,
          accessToken: Redacted.make("fresh"),
          accessTokenExpiresAt: at("2026-12-06T12:10:00.000Z")
        })
        assert.strictEqual(updated.version, 1)
        assert.strictEqual(Redacted.value(updated.accessToken), "fresh")
        assert.strictEqual(Redacted.value(updated.refreshToken!), Redacted.value(original.refreshToken!))
        assert.strictEqual(Redacted.value(updated.idToken!), Redacted.value(original.idToken!))
        assert.strictEqual(updated.principal.name, "Renamed")
        assert.deepStrictEqual(updated.principal.roles, ["visitor"])
        assert.deepStrictEqual(plain(yield* store.get(original.id)), plain(updated))
        const stale = yield* Effect.flip(store.updateTokens(original.id, 0, {
          principal,
          accessToken: Redacted.make("stale"),
          accessTokenExpiresAt: at("2026-12-06T12:10:00.000Z"),
          refreshToken: Redacted.make("stale-rt")
        }))
        assert.strictEqual(stale._tag, "Conflict")
        assert.strictEqual(Redacted.value((yield* store.get(original.id))!.accessToken), "fresh")
        const missing = yield* Effect.flip(store.updateTokens(newSessionId(), 0, {
          principal,
          accessToken: Redacted.make("x"),
          accessTokenExpiresAt: at("2026-12-06T12:10:00.000Z")
        }))
        assert.strictEqual(missing._tag, "NotFound")
      }))

    it.effect("lets exactly one of two concurrent refreshes of one version win", () =>
      Effect.gen(function*() {
        const store = yield* SessionStore
        const original = session(testPrincipal())
        yield* store.create(original)
        const results = yield* Effect.forEach(["a", "b", "c", "d"], (tag) =>
          Effect.exit(store.updateTokens(original.id, 0, {
            principal: original.principal,
            accessToken: Redacted.make(tag),
            accessTokenExpiresAt: at("2026-12-06T12:10:00.000Z")
          })), { concurrency: 4 })
        assert.strictEqual(results.filter(Exit.isSuccess).length, 1)
        assert.strictEqual((yield* store.get(original.id))!.version, 1)
      }))

    it.effect("revokes idempotently and for good: no refresh or touch revives a revoked session", () =>
      Effect.gen(function*() {
        const store = yield* SessionStore
        const original = session(testPrincipal())
        yield* store.create(original)
        assert.isTrue(yield* store.revoke(original.id, at("2026-12-06T12:30:00.000Z")))
        assert.isFalse(yield* store.revoke(original.id, at("2026-12-06T12:31:00.000Z")))
        assert.isFalse(yield* store.revoke(newSessionId(), at("2026-12-06T12:31:00.000Z")))
        const refresh = yield* Effect.flip(store.updateTokens(original.id, 0, {
          principal: original.principal,
          accessToken: Redacted.make("after"),
          accessTokenExpiresAt: at("2026-12-06T13:00:00.000Z")
        }))
        assert.strictEqual(refresh._tag, "Conflict")
        yield* store.touch(original.id, at("2026-12-06T12:40:00.000Z"), at("2026-12-06T14:40:00.000Z"))
        const row = yield* store.get(original.id)
        assert.strictEqual(row?.revokedAt?.toISOString(), "2026-12-06T12:30:00.000Z")
        assert.strictEqual(row?.lastSeenAt.toISOString(), original.lastSeenAt.toISOString())
        assert.strictEqual(Redacted.value(row!.accessToken), Redacted.value(original.accessToken))
      }))

    it.effect("touches a live session", () =>
      Effect.gen(function*() {
        const store = yield* SessionStore
        const original = session(testPrincipal())
        yield* store.create(original)
        yield* store.touch(original.id, at("2026-12-06T12:20:00.000Z"), at("2026-12-06T14:20:00.000Z"))
        const row = yield* store.get(original.id)
        assert.strictEqual(row?.lastSeenAt.toISOString(), "2026-12-06T12:20:00.000Z")
        assert.strictEqual(row?.idleExpiresAt.toISOString(), "2026-12-06T14:20:00.000Z")
        assert.strictEqual(row?.version, 0)
      }))

    it.effect("revokes every live session of one principal only (same e-mail, other subject: untouched)", () =>
      Effect.gen(function*() {
        const store = yield* SessionStore
        const mail = `${hex()}@example.com`
        const alice = testPrincipal({ email: mail })
        const twin = testPrincipal({ email: mail })
        const sessions = [session(alice), session(alice), session(alice), session(twin)]
        for (const s of sessions) yield* store.create(s)
        yield* store.revoke(sessions[2]!.id, at("2026-12-06T12:01:00.000Z"))
        assert.strictEqual(yield* store.revokeAllOf(alice.key, at("2026-12-06T12:02:00.000Z")), 2)
        for (const s of sessions.slice(0, 2)) assert.isDefined((yield* store.get(s.id))?.revokedAt)
        assert.strictEqual((yield* store.get(sessions[2]!.id))?.revokedAt?.toISOString(), "2026-12-06T12:01:00.000Z")
        assert.isUndefined((yield* store.get(sessions[3]!.id))?.revokedAt)
      }))

    it.effect("deletes sessions that ended before a time, and only those", () =>
      Effect.gen(function*() {
        const store = yield* SessionStore
        const p = testPrincipal()
        const idle = session(p, { idleExpiresAt: at("2020-01-01T01:00:00.000Z"), absoluteExpiresAt: at("2020-01-02T00:00:00.000Z") })
        const absolute = session(p, { idleExpiresAt: at("2020-01-01T01:00:00.000Z"), absoluteExpiresAt: at("2020-01-01T00:30:00.000Z") })
        const revoked = session(p, { idleExpiresAt: at("2030-01-01T00:00:00.000Z"), absoluteExpiresAt: at("2030-01-01T00:00:00.000Z") })
        const live = session(p, { idleExpiresAt: at("2030-01-01T00:00:00.000Z"), absoluteExpiresAt: at("2030-01-02T00:00:00.000Z") })
        for (const s of [idle, absolute, revoked, live]) yield* store.create(s)
        yield* store.revoke(revoked.id, at("2020-06-01T00:00:00.000Z"))
        assert.isAtLeast(yield* store.deleteEnded(at("2021-01-01T00:00:00.000Z")), 3)
        for (const gone of [idle, absolute, revoked]) assert.isUndefined(yield* store.get(gone.id))
        assert.isDefined(yield* store.get(live.id))
      }))
  })
}

/** The `SessionStore` kit. */
export const sessionStoreSuite = <E>(name: string, storeLayer: Layer.Layer<SessionStore, E>): void => {
  describe(`SessionStore conformance: ${name}`, () => {
    layer(storeLayer, timeout)(sessionCases)
  })
}

const attempt = (overrides: Partial<ConstructorParameters<typeof PendingSignIn>[0]> = {}) =>
  new PendingSignIn({
    state: randomId("st"),
    bindingHash: hex(),
    nonce: randomId("n"),
    codeVerifier: Redacted.make(randomId("v")),
    returnTo: "/apps?x=1#y",
    createdAt: at("2026-12-06T12:00:00.000Z"),
    expiresAt: at("2026-12-06T12:10:00.000Z"),
    ...overrides
  })

const pendingSignInCases = (it: Vitest.MethodsNonLive<PendingSignInStore>): void => {
  describe("PendingSignInStore", () => {
    it.effect("hands an attempt back once, to the browser that began it", () =>
      Effect.gen(function*() {
        const store = yield* PendingSignInStore
        const mine = attempt()
        yield* store.put(mine)
        assert.isUndefined(yield* store.take(mine.state, hex()), "a foreign binding gets nothing")
        const taken = yield* store.take(mine.state, mine.bindingHash)
        assert.isDefined(taken, "…and did not destroy the rightful attempt")
        assert.strictEqual(taken!.nonce, mine.nonce)
        assert.strictEqual(Redacted.value(taken!.codeVerifier), Redacted.value(mine.codeVerifier))
        assert.strictEqual(taken!.returnTo, "/apps?x=1#y")
        assert.strictEqual(taken!.expiresAt.toISOString(), mine.expiresAt.toISOString())
        assert.isUndefined(yield* store.take(mine.state, mine.bindingHash), "a replayed state finds nothing")
        assert.isUndefined(yield* store.take(randomId("st"), mine.bindingHash))
      }))

    it.effect("refuses a duplicate state", () =>
      Effect.gen(function*() {
        const store = yield* PendingSignInStore
        const first = attempt()
        yield* store.put(first)
        const error = yield* Effect.flip(store.put(attempt({ state: first.state })))
        assert.strictEqual(error._tag, "AlreadyExists")
        assert.strictEqual((yield* store.take(first.state, first.bindingHash))?.nonce, first.nonce)
      }))

    it.effect("gives a raced attempt to exactly one taker", () =>
      Effect.gen(function*() {
        const store = yield* PendingSignInStore
        const raced = attempt()
        yield* store.put(raced)
        const results = yield* Effect.forEach([1, 2, 3, 4, 5], () => store.take(raced.state, raced.bindingHash), { concurrency: 5 })
        assert.strictEqual(results.filter((r) => r !== undefined).length, 1)
      }))

    it.effect("sweeps expired attempts and keeps the others", () =>
      Effect.gen(function*() {
        const store = yield* PendingSignInStore
        const old = attempt({ expiresAt: at("2020-01-01T00:00:00.000Z") })
        const fresh = attempt({ expiresAt: at("2030-01-01T00:00:00.000Z") })
        yield* store.put(old)
        yield* store.put(fresh)
        assert.isAtLeast(yield* store.deleteExpired(at("2021-01-01T00:00:00.000Z")), 1)
        assert.isUndefined(yield* store.take(old.state, old.bindingHash))
        assert.isDefined(yield* store.take(fresh.state, fresh.bindingHash))
      }))
  })
}

/** The `PendingSignInStore` kit. */
export const pendingSignInSuite = <E>(name: string, storeLayer: Layer.Layer<PendingSignInStore, E>): void => {
  describe(`PendingSignInStore conformance: ${name}`, () => {
    layer(storeLayer, timeout)(pendingSignInCases)
  })
}

const platformToken = (owner: string, overrides: Partial<ConstructorParameters<typeof PlatformToken>[0]> = {}) =>
  new PlatformToken({
    id: newTokenId(),
    owner,
    name: "laptop",
    scopes: ["read", "write"],
    secretHash: hex(),
    createdAt: at("2026-12-06T12:00:00.000Z"),
    expiresAt: at("2027-03-06T12:00:00.000Z"),
    ...overrides
  })

const platformTokenCases = (it: Vitest.MethodsNonLive<PlatformTokenStore>): void => {
  describe("PlatformTokenStore", () => {
    it.effect("stores a token and finds it by id and secret hash", () =>
      Effect.gen(function*() {
        const store = yield* PlatformTokenStore
        const token = platformToken(testPrincipal().key, { name: "ci ✓ 'quoted' %", scopes: ["admin", "read"] })
        yield* store.create(token)
        assert.deepStrictEqual(defined(yield* store.get(token.id)), defined(token))
        assert.deepStrictEqual(defined(yield* store.findBySecretHash(token.secretHash)), defined(token))
        assert.isUndefined(yield* store.get(newTokenId()))
        assert.isUndefined(yield* store.findBySecretHash(hex()))
      }))

    it.effect("lists an owner's tokens newest first, revoked ones only when asked", () =>
      Effect.gen(function*() {
        const store = yield* PlatformTokenStore
        const owner = testPrincipal().key
        const a = platformToken(owner, { name: "a", createdAt: at("2026-01-01T00:00:00.000Z") })
        const b = platformToken(owner, { name: "b", createdAt: at("2026-02-01T00:00:00.000Z") })
        const c = platformToken(owner, { name: "c", createdAt: at("2026-03-01T00:00:00.000Z") })
        const foreign = platformToken(testPrincipal().key, { name: "a" })
        for (const t of [a, b, c, foreign]) yield* store.create(t)
        yield* store.revoke(b.id, at("2026-04-01T00:00:00.000Z"))
        assert.deepStrictEqual((yield* store.list(owner)).map((t) => t.name), ["c", "a"])
        const all = yield* store.list(owner, { includeRevoked: true })
        assert.deepStrictEqual(all.map((t) => t.name), ["c", "b", "a"])
        assert.strictEqual(all[1]!.revokedAt?.toISOString(), "2026-04-01T00:00:00.000Z")
      }))

    it.effect("keeps live names unique per owner, and hashes unique everywhere", () =>
      Effect.gen(function*() {
        const store = yield* PlatformTokenStore
        const owner = testPrincipal().key
        const first = platformToken(owner)
        yield* store.create(first)
        assert.strictEqual((yield* Effect.flip(store.create(platformToken(owner))))._tag, "AlreadyExists")
        assert.strictEqual((yield* Effect.flip(store.create(platformToken(testPrincipal().key, { secretHash: first.secretHash }))))._tag, "AlreadyExists")
        yield* store.revoke(first.id, at("2026-12-07T00:00:00.000Z"))
        yield* store.create(platformToken(owner))
        assert.strictEqual((yield* store.list(owner)).length, 1)
      }))

    it.effect("revokes idempotently and records use of live tokens only", () =>
      Effect.gen(function*() {
        const store = yield* PlatformTokenStore
        const token = platformToken(testPrincipal().key)
        yield* store.create(token)
        yield* store.touch(token.id, at("2026-12-06T13:00:00.000Z"))
        assert.strictEqual((yield* store.get(token.id))?.lastUsedAt?.toISOString(), "2026-12-06T13:00:00.000Z")
        assert.isTrue(yield* store.revoke(token.id, at("2026-12-06T14:00:00.000Z")))
        assert.isFalse(yield* store.revoke(token.id, at("2026-12-06T15:00:00.000Z")))
        yield* store.touch(token.id, at("2026-12-06T16:00:00.000Z"))
        const row = yield* store.get(token.id)
        assert.strictEqual(row?.lastUsedAt?.toISOString(), "2026-12-06T13:00:00.000Z")
        assert.strictEqual(row?.revokedAt?.toISOString(), "2026-12-06T14:00:00.000Z")
      }))
  })
}

/** The `PlatformTokenStore` kit. */
export const platformTokenSuite = <E>(name: string, storeLayer: Layer.Layer<PlatformTokenStore, E>): void => {
  describe(`PlatformTokenStore conformance: ${name}`, () => {
    layer(storeLayer, timeout)(platformTokenCases)
  })
}

const userDirectoryCases = (it: Vitest.MethodsNonLive<UserDirectory>): void => {
  describe("UserDirectory", () => {
    it.effect("mints a user once and keeps its id and creation time while attributes change", () =>
      Effect.gen(function*() {
        const users = yield* UserDirectory
        const p = testPrincipal({ email: "old@example.com", roles: ["visitor"] })
        const first = yield* users.record(p, at("2026-12-06T12:00:00.000Z"))
        assert.match(first.id, /^usr_[0-9a-f]{32}$/)
        const changed = Principal.make({ ...p, name: "New Name", email: undefined, groups: ["x", "y"], roles: ["admin", "full"] })
        const second = yield* users.record(changed, at("2026-12-06T13:00:00.000Z"))
        assert.strictEqual(second.id, first.id)
        assert.strictEqual(second.createdAt.toISOString(), "2026-12-06T12:00:00.000Z")
        assert.strictEqual(second.lastSeenAt.toISOString(), "2026-12-06T13:00:00.000Z")
        const back = yield* users.get(p.key)
        assert.deepStrictEqual(defined(back), defined(second))
        assert.strictEqual(back!.principal.key, p.key)
        assert.deepStrictEqual(back!.principal.roles, ["admin", "full"])
        assert.isUndefined(back!.email)
        assert.isUndefined(yield* users.get(testPrincipal().key))
      }))

    it.effect("keeps two accounts with one e-mail (or one subject at two issuers) as two users", () =>
      Effect.gen(function*() {
        const users = yield* UserDirectory
        const mail = `${hex()}@example.com`
        const subject = randomId("sub")
        const a = yield* users.record(testPrincipal({ email: mail }), at("2026-12-06T12:00:00.000Z"))
        const b = yield* users.record(testPrincipal({ email: mail }), at("2026-12-06T12:00:00.000Z"))
        const c = yield* users.record(testPrincipal({ subject, issuer: "https://one.test" }), at("2026-12-06T12:00:00.000Z"))
        const d = yield* users.record(testPrincipal({ subject, issuer: "https://two.test" }), at("2026-12-06T12:00:00.000Z"))
        assert.strictEqual(new Set([a.id, b.id, c.id, d.id]).size, 4)
      }))

    it.effect("ends concurrent first sightings of one principal with one user", () =>
      Effect.gen(function*() {
        const users = yield* UserDirectory
        const p = testPrincipal()
        const recorded = yield* Effect.forEach([1, 2, 3, 4, 5, 6], () => users.record(p, at("2026-12-06T12:00:00.000Z")), { concurrency: 6 })
        assert.strictEqual(new Set(recorded.map((u) => u.id)).size, 1)
      }))
  })
}

/** The `UserDirectory` kit. */
export const userDirectorySuite = <E>(name: string, storeLayer: Layer.Layer<UserDirectory, E>): void => {
  describe(`UserDirectory conformance: ${name}`, () => {
    layer(storeLayer, timeout)(userDirectoryCases)
  })
}

const account = (overrides: Partial<ConstructorParameters<typeof LocalAccount>[0]> = {}) =>
  new LocalAccount({
    subject: randomId("sub"),
    username: `user-${hex().slice(0, 12)}`,
    name: "Local Person",
    email: undefined,
    groups: [],
    roles: ["full"],
    passwordHash: Redacted.make(`scrypt$${hex()}`),
    mustChangePassword: false,
    disabled: false,
    createdAt: at("2026-12-06T12:00:00.000Z"),
    updatedAt: at("2026-12-06T12:00:00.000Z"),
    ...overrides
  })

const localAccountCases = (it: Vitest.MethodsNonLive<LocalAccountStore>): void => {
  describe("LocalAccountStore", () => {
    it.effect("stores an account and finds it by subject and by username, case-insensitively", () =>
      Effect.gen(function*() {
        const store = yield* LocalAccountStore
        const mine = account({ email: "me@example.com", groups: ["g"], roles: ["admin"], mustChangePassword: true })
        const before = yield* store.count()
        yield* store.create(mine)
        assert.strictEqual(yield* store.count(), before + 1)
        const bySubject = yield* store.get(mine.subject)
        assert.deepStrictEqual({ ...defined(bySubject), passwordHash: Redacted.value(bySubject!.passwordHash) }, {
          ...defined(mine),
          passwordHash: Redacted.value(mine.passwordHash)
        })
        assert.strictEqual((yield* store.findByUsername(mine.username.toUpperCase()))?.subject, mine.subject)
        assert.isUndefined(yield* store.findByUsername("nobody-here"))
        assert.isUndefined(yield* store.get(randomId("sub")))
      }))

    it.effect("refuses a taken username (any case) or subject", () =>
      Effect.gen(function*() {
        const store = yield* LocalAccountStore
        const mine = account()
        yield* store.create(mine)
        assert.strictEqual((yield* Effect.flip(store.create(account({ username: mine.username })))).
          _tag, "AlreadyExists")
        assert.strictEqual((yield* Effect.flip(store.create(account({ subject: mine.subject })))).
          _tag, "AlreadyExists")
      }))

    it.effect("changes a password and its one-time flag", () =>
      Effect.gen(function*() {
        const store = yield* LocalAccountStore
        const mine = account({ mustChangePassword: true })
        yield* store.create(mine)
        yield* store.setPassword(mine.subject, Redacted.make("scrypt$new"), false, at("2026-12-06T13:00:00.000Z"))
        const row = yield* store.get(mine.subject)
        assert.strictEqual(Redacted.value(row!.passwordHash), "scrypt$new")
        assert.isFalse(row!.mustChangePassword)
        assert.strictEqual(row!.updatedAt.toISOString(), "2026-12-06T13:00:00.000Z")
        const error = yield* Effect.flip(store.setPassword(randomId("sub"), Redacted.make("x"), false, at("2026-12-06T13:00:00.000Z")))
        assert.strictEqual(error._tag, "NotFound")
      }))
  })
}

/** The `LocalAccountStore` kit. */
export const localAccountSuite = <E>(name: string, storeLayer: Layer.Layer<LocalAccountStore, E>): void => {
  describe(`LocalAccountStore conformance: ${name}`, () => {
    layer(storeLayer, timeout)(localAccountCases)
  })
}

const issuerStateCases = (it: Vitest.MethodsNonLive<IssuerStateStore>): void => {
  describe("IssuerStateStore", () => {
    const now = at("2026-12-06T12:00:00.000Z")
    const later = at("2026-12-06T13:00:00.000Z")
    const record = (overrides: Partial<ConstructorParameters<typeof IssuerRecord>[0]> = {}) =>
      new IssuerRecord({
        kind: "AuthorizationCode",
        id: randomId("code"),
        payload: { accountId: "a", scope: "openid", nested: { list: [1, "two", null], flag: true }, text: "ünï ✓" },
        expiresAt: at("2026-12-06T12:30:00.000Z"),
        ...overrides
      })

    it.effect("stores, replaces and finds records with their JSON payload intact, until they expire", () =>
      Effect.gen(function*() {
        const store = yield* IssuerStateStore
        const code = record({ grantId: "g1", uid: randomId("uid") })
        yield* store.put(code)
        const back = yield* store.get(code.kind, code.id, now)
        assert.deepStrictEqual(back?.payload, code.payload)
        assert.strictEqual(back?.grantId, "g1")
        assert.strictEqual(back?.expiresAt?.toISOString(), "2026-12-06T12:30:00.000Z")
        assert.strictEqual((yield* store.findByUid(code.kind, code.uid!, now))?.id, code.id)
        assert.isUndefined(yield* store.get("Session", code.id, now), "kinds are separate")
        assert.isUndefined(yield* store.get(code.kind, code.id, later), "an expired record is gone")
        yield* store.put(new IssuerRecord({ ...code, payload: { replaced: true }, expiresAt: undefined }))
        assert.deepStrictEqual((yield* store.get(code.kind, code.id, later))?.payload, { replaced: true })
        const device = record({ kind: "DeviceCode", userCode: randomId("uc") })
        yield* store.put(device)
        assert.strictEqual((yield* store.findByUserCode("DeviceCode", device.userCode!, now))?.id, device.id)
        assert.isUndefined(yield* store.findByUserCode("DeviceCode", device.userCode!, later))
      }))

    it.effect("consumes a record once, keeping it readable", () =>
      Effect.gen(function*() {
        const store = yield* IssuerStateStore
        const code = record()
        yield* store.put(code)
        const results = yield* Effect.forEach([1, 2, 3], () => store.consume(code.kind, code.id, now), { concurrency: 3 })
        assert.deepStrictEqual(results.filter(Boolean).length, 1)
        assert.strictEqual((yield* store.get(code.kind, code.id, now))?.consumedAt?.toISOString(), now.toISOString())
        assert.isFalse(yield* store.consume(code.kind, randomId("code"), now))
      }))

    it.effect("deletes one record, every record of a grant, and expired records", () =>
      Effect.gen(function*() {
        const store = yield* IssuerStateStore
        const grant = randomId("grant")
        const tokens = [record({ kind: "RefreshToken", grantId: grant }), record({ kind: "AccessToken", grantId: grant }), record({ kind: "AuthorizationCode", grantId: grant })]
        const other = record({ kind: "RefreshToken", grantId: randomId("grant") })
        const single = record()
        const stale = record({ expiresAt: at("2020-01-01T00:00:00.000Z") })
        for (const r of [...tokens, other, single, stale]) yield* store.put(r)
        assert.strictEqual(yield* store.deleteGrant(grant), 3)
        for (const r of tokens) assert.isUndefined(yield* store.get(r.kind, r.id, now))
        assert.isDefined(yield* store.get(other.kind, other.id, now))
        yield* store.delete(single.kind, single.id)
        assert.isUndefined(yield* store.get(single.kind, single.id, now))
        assert.isAtLeast(yield* store.deleteExpired(at("2021-01-01T00:00:00.000Z")), 1)
        assert.isDefined(yield* store.get(other.kind, other.id, now))
      }))
  })
}

/** The `IssuerStateStore` kit. */
export const issuerStateSuite = <E>(name: string, storeLayer: Layer.Layer<IssuerStateStore, E>): void => {
  describe(`IssuerStateStore conformance: ${name}`, () => {
    layer(storeLayer, timeout)(issuerStateCases)
  })
}

/** Every identity repository kit, for a layer providing all six repositories. */
export const suite = <E>(
  name: string,
  repositories: Layer.Layer<SessionStore | PendingSignInStore | PlatformTokenStore | UserDirectory | LocalAccountStore | IssuerStateStore, E>
): void => {
  describe(`identity repositories conformance: ${name}`, () => {
    layer(repositories, timeout)((it) => {
      sessionCases(it)
      pendingSignInCases(it)
      platformTokenCases(it)
      userDirectoryCases(it)
      localAccountCases(it)
      issuerStateCases(it)
    })
  })
}

/**
 * A fake OpenID Provider behind the `Identity` port, for unit tests of the use cases (a test
 * double: the real adapter is tested against a real `oidc-provider`). It keeps codes, access
 * and refresh tokens in memory, checks state, PKCE S256 and nonce like an issuer would, and
 * reads time from the `Clock` (so `TestClock` expires its tokens).
 */
export interface FakeIssuer {
  readonly issuer: string
  /** The browser's part: approve the authorization URL as `principal`; returns the callback URL. */
  approve(authorizationUrl: string, principal: Principal): Effect.Effect<string>
  /** Access token lifetime for tokens issued from now on. */
  setAccessTokenTtl(millis: number): void
  /** Refuse every refresh token issued so far (the user signed out at the issuer). */
  revokeRefreshTokens(): void
  /** Make the issuer unreachable (or reachable again). */
  setDown(down: boolean): void
  readonly refreshCalls: () => number
  readonly signOutCalls: () => ReadonlyArray<{ idToken?: string | undefined; refreshToken?: string | undefined }>
}

const s256 = (verifier: string) =>
  Effect.promise(async () => {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)))
    let binary = ""
    for (const byte of digest) binary += String.fromCharCode(byte)
    return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "")
  })

/** Builds a fake issuer and the `Identity` layer that talks to it. */
export const makeFakeIssuer = (issuer = "https://fake-issuer.test"): { readonly fake: FakeIssuer; readonly layer: Layer.Layer<Identity> } => {
  const codes = new Map<string, { principal: Principal; nonce: string; challenge: string; redirectUri: string }>()
  const access = new Map<string, { principal: Principal; exp: number }>()
  const refresh = new Map<string, Principal>()
  let ttl = 300_000
  let down = false
  let refreshes = 0
  const signOuts: Array<{ idToken?: string | undefined; refreshToken?: string | undefined }> = []

  const issue = Effect.fnUntraced(function*(principal: Principal, withRefresh: boolean) {
    const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
    const token = randomId("fat")
    access.set(token, { principal, exp: now + ttl })
    const refreshToken = withRefresh ? randomId("frt") : undefined
    if (refreshToken !== undefined) refresh.set(refreshToken, principal)
    return {
      principal,
      accessToken: Redacted.make(token),
      accessTokenExpiresAt: new Date(now + ttl),
      refreshToken: refreshToken === undefined ? undefined : Redacted.make(refreshToken),
      idToken: Redacted.make(randomId("fid"))
    } satisfies TokenSet
  })
  const unavailable = Effect.fail(new Unavailable({ message: "the fake issuer is down" }))

  const fake: FakeIssuer = {
    issuer,
    approve: (url, principal) =>
      Effect.sync(() => {
        const params = new URL(url).searchParams
        const code = randomId("code")
        codes.set(code, {
          principal,
          nonce: params.get("nonce")!,
          challenge: params.get("code_challenge")!,
          redirectUri: params.get("redirect_uri")!
        })
        const callback = new URL(params.get("redirect_uri")!)
        callback.searchParams.set("code", code)
        callback.searchParams.set("state", params.get("state")!)
        return callback.toString()
      }),
    setAccessTokenTtl: (millis) => {
      ttl = millis
    },
    revokeRefreshTokens: () => refresh.clear(),
    setDown: (value) => {
      down = value
    },
    refreshCalls: () => refreshes,
    signOutCalls: () => signOuts
  }

  const layer = Layer.succeed(Identity, Identity.of({
    issuer,
    beginSignIn: ({ redirectUri }) =>
      Effect.gen(function*() {
        if (down) return yield* unavailable
        const state = randomId("state")
        const nonce = randomId("nonce")
        const verifier = `${randomId("v")}${randomId("v")}`
        const url = new URL(`${issuer}/authorize`)
        url.searchParams.set("redirect_uri", redirectUri)
        url.searchParams.set("state", state)
        url.searchParams.set("nonce", nonce)
        url.searchParams.set("code_challenge", yield* s256(verifier))
        url.searchParams.set("code_challenge_method", "S256")
        return { url: url.toString(), state, nonce, codeVerifier: Redacted.make(verifier) }
      }),
    finishSignIn: ({ callbackUrl, redirectUri, expected }) =>
      Effect.gen(function*() {
        if (down) return yield* unavailable
        const params = new URL(callbackUrl).searchParams
        if (params.get("state") !== expected.state) return yield* new SignInFailed({ message: "state mismatch" })
        const code = params.get("code") ?? ""
        const grant = codes.get(code)
        codes.delete(code)
        if (grant === undefined) return yield* new SignInFailed({ message: "invalid_grant" })
        if (grant.redirectUri !== redirectUri) return yield* new SignInFailed({ message: "redirect_uri mismatch" })
        if ((yield* s256(Redacted.value(expected.codeVerifier))) !== grant.challenge) {
          return yield* new SignInFailed({ message: "PKCE verification failed" })
        }
        if (grant.nonce !== expected.nonce) return yield* new SignInFailed({ message: "nonce mismatch" })
        return yield* issue(grant.principal, true)
      }),
    refresh: (token) =>
      Effect.gen(function*() {
        refreshes++
        if (down) return yield* unavailable
        const principal = refresh.get(Redacted.value(token))
        if (principal === undefined) return yield* new Unauthenticated({ message: "invalid_grant" })
        refresh.delete(Redacted.value(token))
        return yield* issue(principal, true)
      }),
    signOut: ({ idToken, refreshToken }) =>
      down ? unavailable : Effect.sync(() => {
        signOuts.push({
          idToken: idToken === undefined ? undefined : Redacted.value(idToken),
          refreshToken: refreshToken === undefined ? undefined : Redacted.value(refreshToken)
        })
        if (refreshToken !== undefined) refresh.delete(Redacted.value(refreshToken))
        return { logoutUrl: `${issuer}/logout` }
      }),
    verifyAccessToken: (token) =>
      Effect.gen(function*() {
        if (down) return yield* unavailable
        const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
        const entry = access.get(token)
        if (entry === undefined || entry.exp <= now) return yield* new Unauthenticated({ message: "invalid token" })
        return { principal: entry.principal, token: Redacted.make(token), expiresAt: new Date(entry.exp), scopes: [] }
      }),
    serviceToken: () =>
      Effect.gen(function*() {
        if (down) return yield* unavailable
        const set = yield* issue(testPrincipal({ subject: "service", roles: ["full"] }), false)
        return { accessToken: set.accessToken, expiresAt: set.accessTokenExpiresAt }
      })
  }))

  return { fake, layer }
}

