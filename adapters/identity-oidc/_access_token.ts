import { createRemoteJWKSet, customFetch, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from "jose"
import { IssuerUnreachable } from "./_fetch.ts"

/** A token that does not verify; the reason is for logs, never for the client. */
export class TokenRejected extends Error {
  override readonly name = "TokenRejected"
}

export interface VerifierOptions {
  readonly issuer: string
  readonly jwksUri: string
  readonly audience: ReadonlyArray<string>
  /** Clients whose tokens are accepted (`azp` / `client_id`); `*`: any client the audience names. */
  readonly trustedClients: ReadonlyArray<string> | "*"
  readonly algorithms: ReadonlyArray<string>
  readonly clockSkewSeconds: number
  /** `keycloak` also accepts `typ: JWT` headers, but then requires the claim `typ: Bearer`. */
  readonly profile: "generic" | "keycloak"
  readonly fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>
  readonly jwksCooldownMillis: number
  readonly jwksMaxAgeMillis: number
}

const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
// Headers that name a key or a key location: a verifier that honoured them would let the token
// choose its own key. Refused outright rather than ignored.
const keyCarryingHeaders = ["jku", "x5u", "jwk", "x5c", "crit"]

const normalisedTyp = (typ: unknown) => typeof typ === "string" ? typ.toLowerCase().replace(/^application\//, "") : undefined

/**
 * A strict verifier of JWT access tokens: a pinned list of asymmetric algorithms, the key looked
 * up by `kid` in the issuer's JWKS only (cached, re-fetched on an unknown `kid` at most once per
 * cooldown, so rotated keys are picked up), the exact issuer, one of the expected audiences, an
 * access-token `typ`, `exp` required and `nbf` honoured with a small skew, and a trusted client.
 * Throws {@link TokenRejected} for a bad token and {@link IssuerUnreachable} when the JWKS cannot
 * be fetched.
 */
export const makeAccessTokenVerifier = (options: VerifierOptions) => {
  const jwks = createRemoteJWKSet(new URL(options.jwksUri), {
    cooldownDuration: options.jwksCooldownMillis,
    cacheMaxAge: options.jwksMaxAgeMillis,
    timeoutDuration: 5000,
    [customFetch]: options.fetch as never
  })
  return async (token: string, now: Date): Promise<JWTPayload> => {
    if (token.length > 16_384 || !compactJws.test(token)) throw new TokenRejected("not a compact JWS")
    let header: ReturnType<typeof decodeProtectedHeader>
    try {
      header = decodeProtectedHeader(token)
    } catch {
      throw new TokenRejected("unreadable header")
    }
    for (const name of keyCarryingHeaders) {
      if (Object.hasOwn(header, name)) throw new TokenRejected(`header ${name} is not accepted`)
    }
    if (typeof header.alg !== "string" || !options.algorithms.includes(header.alg)) throw new TokenRejected(`algorithm ${String(header.alg)} is not accepted`)
    if (typeof header.kid !== "string" || header.kid === "") throw new TokenRejected("no kid")
    const typ = normalisedTyp(header.typ)
    const keycloakStyle = options.profile === "keycloak" && typ === "jwt"
    if (typ !== "at+jwt" && !keycloakStyle) throw new TokenRejected(`typ ${String(header.typ)} is not an access token`)
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(token, jwks, {
        issuer: options.issuer,
        audience: [...options.audience],
        algorithms: [...options.algorithms],
        clockTolerance: options.clockSkewSeconds,
        currentDate: now,
        requiredClaims: ["iss", "sub", "aud", "exp"]
      }))
    } catch (error) {
      if (error instanceof IssuerUnreachable) throw error
      if (error instanceof errors.JWKSTimeout) throw new IssuerUnreachable("the issuer's JWKS did not answer in time", { cause: error })
      if (error instanceof errors.JOSEError && /JSON Web Key Set HTTP response/.test(error.message)) {
        throw new IssuerUnreachable("the issuer's JWKS could not be read", { cause: error })
      }
      throw new TokenRejected(error instanceof Error ? error.message : "invalid token", { cause: error })
    }
    if (typeof payload.sub !== "string" || payload.sub === "") throw new TokenRejected("no subject")
    if (keycloakStyle && payload.typ !== "Bearer") throw new TokenRejected(`a ${String(payload.typ)} token is not an access token`)
    const client = typeof payload.azp === "string" ? payload.azp : typeof payload.client_id === "string" ? payload.client_id : undefined
    if (options.trustedClients !== "*" && (client === undefined || !options.trustedClients.includes(client))) {
      throw new TokenRejected(`tokens of client ${client ?? "(none)"} are not accepted`)
    }
    return payload
  }
}
