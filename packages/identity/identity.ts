/**
 * The `Identity` port: Aquifer's only way to talk to an OpenID Provider. Production points it at
 * Keycloak or any OIDC issuer; the all-in-one points it at the issuer it embeds. Either way the
 * adapter speaks the same protocol, so nothing above this port knows which one it is.
 *
 * Promises every implementation keeps:
 * - Sign-in is the authorization code flow with PKCE (S256), `state` and `nonce`, all three
 *   fresh for every attempt. {@link Identity.finishSignIn} checks the callback against the
 *   values `beginSignIn` returned, exchanges the code once, validates the ID token (`iss`,
 *   `aud`, `nonce`, expiry) and then verifies the access token it got exactly as
 *   {@link Identity.verifyAccessToken} would. Anything off fails with `SignInFailed`.
 * - `verifyAccessToken` accepts only tokens signed by the issuer's current keys (looked up by
 *   `kid` in the issuer's JWKS, never from the token's own headers), with a pinned algorithm,
 *   the exact issuer, the expected audience, and a valid time window (small clock skew). An ID
 *   token, a refresh token or anything else presented as an access token fails. It is usable on
 *   its own: an STS, a router or a scoring gateway can call it with nothing but the token.
 * - The principal is identified by issuer + subject; e-mail is only an attribute. Roles are
 *   Aquifer's own (`admin`, `full`, `visitor`), mapped from the issuer's claims by the adapter.
 * - Tokens travel as `Redacted` values so they never reach a log by accident.
 * - Failures are closed: `SignInFailed` (the user's attempt is unusable: 400), `Unauthenticated`
 *   (a token or refresh token is not accepted: 401), `Unavailable` (the issuer cannot be
 *   reached or answered nonsense: 503). Nothing else escapes.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Identity } from "@aquifer/identity"
 * const whoIs = (token: string) => Effect.gen(function*() {
 *   const identity = yield* Identity
 *   const verified = yield* identity.verifyAccessToken(token)
 *   return verified.principal.key
 * })
 * ```
 * @module
 */
import { Context, Schema } from "effect"
import type { Effect, Redacted } from "effect"
import type { Principal, Unauthenticated, Unavailable } from "@aquifer/core"

/** A sign-in attempt cannot complete: bad or replayed state, code, verifier, nonce, or an issuer error. */
export class SignInFailed extends Schema.TaggedError<SignInFailed>()("SignInFailed", {
  message: Schema.String
}) {}

/** What the browser must be sent to, and what must be kept (server-side) to finish the attempt. */
export interface SignInChallenge {
  /** The issuer's authorization URL, with `state`, `nonce` and the S256 `code_challenge`. */
  readonly url: string
  readonly state: string
  readonly nonce: string
  readonly codeVerifier: Redacted.Redacted<string>
}

/** A verified access token and who it vouches for. */
export interface VerifiedToken {
  readonly principal: Principal
  readonly token: Redacted.Redacted<string>
  readonly expiresAt: Date
  /** The OAuth client the token was issued to (`client_id` or `azp`), when stated. */
  readonly clientId?: string | undefined
  /** The token's space-separated `scope` claim, split. */
  readonly scopes: ReadonlyArray<string>
}

/** The tokens of a signed-in user, as returned by a code exchange or a refresh. */
export interface TokenSet {
  readonly principal: Principal
  readonly accessToken: Redacted.Redacted<string>
  readonly accessTokenExpiresAt: Date
  /** Absent when the issuer grants none (then the session ends with the access token). */
  readonly refreshToken?: Redacted.Redacted<string> | undefined
  /** Kept for RP-initiated logout (`id_token_hint`). */
  readonly idToken?: Redacted.Redacted<string> | undefined
}

/** A token the platform obtained for itself (client credentials). */
export interface ServiceToken {
  readonly accessToken: Redacted.Redacted<string>
  readonly expiresAt: Date
}

export class Identity extends Context.Service<Identity, {
  /** The exact issuer identifier (`iss`) this adapter trusts. */
  readonly issuer: string
  /**
   * Starts a sign-in: fresh `state`, `nonce` and PKCE verifier, and the URL to send the browser
   * to. `redirectUri` must be registered with the issuer. Fails with `Unavailable` when the
   * issuer's metadata cannot be fetched.
   */
  beginSignIn(input: { readonly redirectUri: string }): Effect.Effect<SignInChallenge, Unavailable>
  /**
   * Finishes a sign-in from the full callback URL the issuer redirected to. `expected` holds the
   * values `beginSignIn` returned for this attempt (kept by the caller, used once).
   * Fails with `SignInFailed` on a missing or different `state`, an error response, a code
   * the issuer refuses (replayed, expired, wrong PKCE verifier), an ID token that does not
   * validate or carries another `nonce`, or an access token that does not verify.
   */
  finishSignIn(input: {
    readonly callbackUrl: string
    readonly redirectUri: string
    readonly expected: { readonly state: string; readonly nonce: string; readonly codeVerifier: Redacted.Redacted<string> }
  }): Effect.Effect<TokenSet, SignInFailed | Unavailable>
  /**
   * Exchanges a refresh token for fresh tokens (the issuer may rotate the refresh token: the
   * returned one replaces it). Fails with `Unauthenticated` when the issuer refuses it (revoked,
   * expired, the user signed out elsewhere): the session it belonged to is over.
   */
  refresh(refreshToken: Redacted.Redacted<string>): Effect.Effect<TokenSet, Unauthenticated | Unavailable>
  /**
   * Ends the user's session at the issuer as far as it allows: revokes the refresh token where
   * a revocation endpoint exists, and returns the RP-initiated logout URL (with `id_token_hint`
   * and `post_logout_redirect_uri`) when the issuer has an end-session endpoint. Never fails on
   * the issuer's refusal: the platform-side sign-out must happen regardless.
   */
  signOut(input: {
    readonly idToken?: Redacted.Redacted<string> | undefined
    readonly refreshToken?: Redacted.Redacted<string> | undefined
    readonly postLogoutRedirectUri?: string | undefined
  }): Effect.Effect<{ readonly logoutUrl?: string | undefined }, Unavailable>
  /** Verifies a bearer access token into its principal (see the module's promises). */
  verifyAccessToken(token: string): Effect.Effect<VerifiedToken, Unauthenticated | Unavailable>
  /**
   * An access token for the platform itself (client credentials grant), cached and renewed
   * before expiry by the implementation. Fails with `Unavailable` when the issuer refuses or
   * cannot be reached.
   */
  serviceToken(input?: { readonly scope?: string | undefined }): Effect.Effect<ServiceToken, Unavailable>
}>()("@aquifer/identity/Identity") {}
