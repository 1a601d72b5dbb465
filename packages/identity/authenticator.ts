/**
 * The use cases that turn credentials into a {@link Caller}: browser sign-in and sign-out with
 * server-side sessions, bearer access tokens from the issuer, and platform tokens. Every HTTP
 * surface (the all-in-one, the router, Drive's STS) goes through this one service.
 *
 * What it promises:
 * - Sign-in state is single-use and bound to the browser that began it (a binding cookie whose
 *   hash is kept with the attempt): a missing, foreign, replayed or expired state is
 *   `SignInFailed`, and a foreign attempt does not destroy the rightful one.
 * - A new sign-in always makes a new session with a new secret (the previous one, if presented,
 *   is revoked): session ids are rotated on sign-in.
 * - A session is valid until it is revoked, idle for `idleTimeoutMillis`, or older than
 *   `absoluteTimeoutMillis`, whichever comes first. Its access token is refreshed
 *   `refreshAheadMillis` before expiry, so the token forwarded to apps is always fresh;
 *   concurrent requests of one process share one refresh, and a refresh another replica made
 *   first (a version conflict) is reused. An issuer that refuses the refresh ends the session.
 * - `Authorization: Bearer <token>` is a platform token when it starts with
 *   {@link platformTokenPrefix}, otherwise an access token verified by the `Identity` port.
 * - Failures: `Unauthenticated` (401), `SignInFailed` (400), `Unavailable` (503).
 * @module
 */
import { Context, Deferred, Effect, Layer, Redacted } from "effect"
import { newSessionId, now, Unauthenticated, type Unavailable } from "@aquifer/core"
import { randomSecret, sha256Hex } from "./_crypto.ts"
import { Identity, SignInFailed, type TokenSet } from "./identity.ts"
import { PendingSignIn, PendingSignInStore } from "./pending_sign_ins.ts"
import type { PlatformToken } from "./platform_tokens.ts"
import { PlatformTokenStore } from "./platform_tokens.ts"
import type { Caller } from "./policy.ts"
import { safeReturnTo } from "./return_to.ts"
import { Session, SessionStore } from "./sessions.ts"
import { UserDirectory } from "./users.ts"

/** The prefix of every platform token secret (lets secret scanners and `resolveBearer` spot them). */
export const platformTokenPrefix = "aqt_"

/** Session lifetimes; every value in milliseconds. */
export interface SessionSettings {
  readonly idleTimeoutMillis: number
  readonly absoluteTimeoutMillis: number
  /** Refresh the access token when it expires within this margin. */
  readonly refreshAheadMillis: number
  /** Write `lastSeenAt` at most this often per session. */
  readonly touchIntervalMillis: number
  /** How long a begun sign-in may wait for its callback. */
  readonly signInTimeoutMillis: number
}

export const defaultSessionSettings: SessionSettings = {
  idleTimeoutMillis: 2 * 3_600_000,
  absoluteTimeoutMillis: 24 * 3_600_000,
  refreshAheadMillis: 60_000,
  touchIntervalMillis: 60_000,
  signInTimeoutMillis: 10 * 60_000
}

/** Who a request came from, and how. */
export interface Authenticated {
  readonly caller: Caller
  readonly via: "session" | "bearer" | "platform-token"
  /** The issuer's access token to forward to apps (absent for platform tokens). */
  readonly accessToken?: Redacted.Redacted<string> | undefined
  readonly session?: Session | undefined
  readonly platformToken?: PlatformToken | undefined
}

/** The outcome of a finished sign-in: what to set as cookie, and where to send the browser. */
export interface SignedIn {
  readonly sessionSecret: Redacted.Redacted<string>
  readonly session: Session
  readonly returnTo: string
}

export class Authenticator extends Context.Service<Authenticator, {
  /**
   * Begins a sign-in. Returns the issuer URL to redirect to and the binding secret the caller
   * must keep in a short-lived cookie until the callback. `returnTo` is sanitised here.
   */
  beginSignIn(input: { readonly redirectUri: string; readonly returnTo?: string | undefined }): Effect.Effect<
    { readonly url: string; readonly binding: Redacted.Redacted<string>; readonly expiresAt: Date },
    Unavailable
  >
  /** Finishes a sign-in from the callback URL and the browser's binding cookie. */
  finishSignIn(input: {
    readonly callbackUrl: string
    readonly redirectUri: string
    readonly binding: string | undefined
    /** The session cookie the browser still holds, if any: it is revoked (rotation). */
    readonly previousSessionSecret?: string | undefined
  }): Effect.Effect<SignedIn, SignInFailed | Unavailable>
  /** Resolves a session cookie, refreshing its access token when due. */
  resolveSession(secret: string): Effect.Effect<Authenticated, Unauthenticated | Unavailable>
  /** Resolves a bearer token: a platform token or an issuer access token. */
  resolveBearer(token: string): Effect.Effect<Authenticated, Unauthenticated | Unavailable>
  /**
   * Revokes the session (when there is one) and ends it at the issuer as far as the issuer
   * allows; returns the issuer's logout URL when it has one. Idempotent.
   */
  signOut(input: { readonly sessionSecret: string | undefined; readonly postLogoutRedirectUri?: string | undefined }): Effect.Effect<
    { readonly logoutUrl?: string | undefined },
    Unavailable
  >
}>()("@aquifer/identity/Authenticator") {}

const unauthenticated = (message: string) => Effect.fail(new Unauthenticated({ message }))

/** The authenticator over the identity port and repositories. */
export const layerAuthenticator = (
  settings: Partial<SessionSettings> = {}
): Layer.Layer<Authenticator, never, Identity | SessionStore | PendingSignInStore | UserDirectory | PlatformTokenStore> =>
  Layer.effect(
    Authenticator,
    Effect.gen(function*() {
      const config = { ...defaultSessionSettings, ...settings }
      const identity = yield* Identity
      const sessions = yield* SessionStore
      const pending = yield* PendingSignInStore
      const users = yield* UserDirectory
      const tokens = yield* PlatformTokenStore
      const inFlight = new Map<string, Deferred.Deferred<Session, Unauthenticated | Unavailable>>()

      const rememberUser = Effect.fnUntraced(function*(principal: TokenSet["principal"]) {
        const at = yield* now
        const known = yield* users.get(principal.key)
        const same = known !== undefined &&
          at.getTime() - known.lastSeenAt.getTime() < config.touchIntervalMillis &&
          known.name === principal.name && known.email === principal.email &&
          known.roles.join() === principal.roles.join() && known.groups.join() === principal.groups.join()
        if (!same) yield* users.record(principal, at)
      })

      const sessionCaller = (session: Session): Authenticated => ({
        caller: { principal: session.principal },
        via: "session",
        accessToken: session.accessToken,
        session
      })

      const doRefresh = Effect.fnUntraced(function*(session: Session) {
        const at = yield* now
        if (session.refreshToken === undefined) {
          return at.getTime() < session.accessTokenExpiresAt.getTime() ? session : yield* unauthenticated("the session expired")
        }
        const refreshed = yield* identity.refresh(session.refreshToken).pipe(
          Effect.catchTag("Unauthenticated", (error) =>
            sessions.revoke(session.id, at).pipe(Effect.andThen(Effect.fail(error)))),
          Effect.catchTag("Unavailable", (error) =>
            // The issuer is down: keep serving while the current token is still valid.
            at.getTime() < session.accessTokenExpiresAt.getTime() ? Effect.succeed(undefined) : Effect.fail(error))
        )
        if (refreshed === undefined) return session
        yield* rememberUser(refreshed.principal)
        return yield* sessions.updateTokens(session.id, session.version, refreshed).pipe(
          Effect.catchTags({
            Conflict: () =>
              Effect.flatMap(sessions.get(session.id), (current) =>
                current === undefined || current.revokedAt !== undefined
                  ? unauthenticated("the session was signed out")
                  : Effect.succeed(current)),
            NotFound: () => unauthenticated("the session was signed out")
          })
        )
      })

      // One refresh per session at a time in this process; later callers wait for its result.
      const refreshOnce = (session: Session): Effect.Effect<Session, Unauthenticated | Unavailable> =>
        Effect.suspend(() => {
          const running = inFlight.get(session.id)
          if (running !== undefined) return Deferred.await(running)
          return Effect.flatMap(Deferred.make<Session, Unauthenticated | Unavailable>(), (deferred) => {
            inFlight.set(session.id, deferred)
            return doRefresh(session).pipe(
              Effect.exit,
              Effect.flatMap((exit) => Deferred.done(deferred, exit).pipe(Effect.andThen(exit))),
              Effect.ensuring(Effect.sync(() => inFlight.delete(session.id)))
            )
          })
        })

      const resolveSession = Effect.fnUntraced(function*(secret: string) {
        if (secret.length < 20 || secret.length > 200) return yield* unauthenticated("not a session")
        let session = yield* sessions.findBySecretHash(yield* sha256Hex(secret))
        if (session === undefined) return yield* unauthenticated("no such session")
        const at = yield* now
        if (session.revokedAt !== undefined) return yield* unauthenticated("the session was signed out")
        if (at.getTime() >= session.idleExpiresAt.getTime() || at.getTime() >= session.absoluteExpiresAt.getTime()) {
          return yield* unauthenticated("the session expired")
        }
        if (session.accessTokenExpiresAt.getTime() - config.refreshAheadMillis <= at.getTime()) {
          session = yield* refreshOnce(session)
        }
        if (at.getTime() - session.lastSeenAt.getTime() >= config.touchIntervalMillis) {
          const idle = new Date(Math.min(at.getTime() + config.idleTimeoutMillis, session.absoluteExpiresAt.getTime()))
          yield* sessions.touch(session.id, at, idle)
        }
        return sessionCaller(session)
      })

      const resolvePlatformToken = Effect.fnUntraced(function*(secret: string) {
        if (secret.length > 200) return yield* unauthenticated("not a platform token")
        const token = yield* tokens.findBySecretHash(yield* sha256Hex(secret))
        const at = yield* now
        if (token === undefined) return yield* unauthenticated("unknown platform token")
        if (token.revokedAt !== undefined) return yield* unauthenticated("the platform token was revoked")
        if (at.getTime() >= token.expiresAt.getTime()) return yield* unauthenticated("the platform token expired")
        const user = yield* users.get(token.owner)
        if (user === undefined) return yield* unauthenticated("the platform token's user is unknown")
        if (token.lastUsedAt === undefined || at.getTime() - token.lastUsedAt.getTime() >= config.touchIntervalMillis) {
          yield* tokens.touch(token.id, at)
        }
        return { caller: { principal: user.principal, scopes: token.scopes }, via: "platform-token", platformToken: token } satisfies Authenticated
      })

      return Authenticator.of({
        beginSignIn: Effect.fn("Authenticator.beginSignIn")(function*(input) {
          const challenge = yield* identity.beginSignIn({ redirectUri: input.redirectUri })
          const binding = randomSecret()
          const at = yield* now
          const expiresAt = new Date(at.getTime() + config.signInTimeoutMillis)
          yield* pending.put(new PendingSignIn({
            state: challenge.state,
            bindingHash: yield* sha256Hex(binding),
            nonce: challenge.nonce,
            codeVerifier: challenge.codeVerifier,
            returnTo: safeReturnTo(input.returnTo),
            createdAt: at,
            expiresAt
          })).pipe(Effect.catchTag("AlreadyExists", Effect.die))
          return { url: challenge.url, binding: Redacted.make(binding), expiresAt }
        }),

        finishSignIn: Effect.fn("Authenticator.finishSignIn")(function*(input) {
          let state: string | null
          try {
            state = new URL(input.callbackUrl).searchParams.get("state")
          } catch {
            state = null
          }
          if (state === null || state === "") return yield* new SignInFailed({ message: "the callback carries no state" })
          if (input.binding === undefined || input.binding === "") {
            return yield* new SignInFailed({ message: "this browser did not begin this sign-in" })
          }
          const attempt = yield* pending.take(state, yield* sha256Hex(input.binding))
          if (attempt === undefined) return yield* new SignInFailed({ message: "unknown, foreign or already used sign-in state" })
          const at = yield* now
          if (at.getTime() >= attempt.expiresAt.getTime()) return yield* new SignInFailed({ message: "the sign-in attempt expired" })
          const issued = yield* identity.finishSignIn({
            callbackUrl: input.callbackUrl,
            redirectUri: input.redirectUri,
            expected: { state: attempt.state, nonce: attempt.nonce, codeVerifier: attempt.codeVerifier }
          })
          yield* rememberUser(issued.principal)
          if (input.previousSessionSecret !== undefined && input.previousSessionSecret !== "") {
            const previous = yield* sessions.findBySecretHash(yield* sha256Hex(input.previousSessionSecret))
            if (previous !== undefined) yield* sessions.revoke(previous.id, at)
          }
          const secret = randomSecret()
          const session = new Session({
            id: newSessionId(),
            secretHash: yield* sha256Hex(secret),
            principal: issued.principal,
            accessToken: issued.accessToken,
            accessTokenExpiresAt: issued.accessTokenExpiresAt,
            refreshToken: issued.refreshToken,
            idToken: issued.idToken,
            createdAt: at,
            lastSeenAt: at,
            idleExpiresAt: new Date(at.getTime() + Math.min(config.idleTimeoutMillis, config.absoluteTimeoutMillis)),
            absoluteExpiresAt: new Date(at.getTime() + config.absoluteTimeoutMillis),
            version: 0
          })
          yield* sessions.create(session).pipe(Effect.catchTag("AlreadyExists", Effect.die))
          return { sessionSecret: Redacted.make(secret), session, returnTo: attempt.returnTo }
        }),

        resolveSession,

        resolveBearer: Effect.fn("Authenticator.resolveBearer")(function*(token) {
          if (token.startsWith(platformTokenPrefix)) return yield* resolvePlatformToken(token)
          const verified = yield* identity.verifyAccessToken(token)
          yield* rememberUser(verified.principal)
          return { caller: { principal: verified.principal }, via: "bearer", accessToken: verified.token } satisfies Authenticated
        }),

        signOut: Effect.fn("Authenticator.signOut")(function*(input) {
          if (input.sessionSecret === undefined || input.sessionSecret === "" || input.sessionSecret.length > 200) return {}
          const session = yield* sessions.findBySecretHash(yield* sha256Hex(input.sessionSecret))
          if (session === undefined) return {}
          const live = yield* sessions.revoke(session.id, yield* now)
          if (!live) return {}
          // The platform session is over either way; an unreachable issuer only costs its own logout.
          return yield* identity.signOut({
            idToken: session.idToken,
            refreshToken: session.refreshToken,
            postLogoutRedirectUri: input.postLogoutRedirectUri
          }).pipe(Effect.catchTag("Unavailable", (error) =>
            Effect.logWarning(`signed out locally; the issuer's logout is unavailable: ${error.message}`).pipe(Effect.as({}))))
        })
      })
    })
  )
