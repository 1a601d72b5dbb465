import { Clock, Effect, Layer, Redacted } from "effect"
import { Unauthenticated, Unavailable, type Role } from "@aquifer/core"
import { Identity, SignInFailed, type ServiceToken, type TokenSet, type VerifiedToken } from "@aquifer/identity"
import * as oauth from "oauth4webapi"
import { makeAccessTokenVerifier, TokenRejected } from "./_access_token.ts"
import { type ClaimMapping, principalFromClaims } from "./_claims.ts"
import { backChannelFetch, IssuerUnreachable } from "./_fetch.ts"

/** Everything the OIDC adapter needs; `layerConfig` reads it from `AQUIFER_OIDC_*`. */
export interface OidcOptions {
  /** The exact issuer identifier (`iss`), e.g. `https://keycloak.example/realms/aquifer`. */
  readonly issuer: string
  readonly clientId: string
  /** Absent: a public client (PKCE only, no client authentication). */
  readonly clientSecret?: Redacted.Redacted<string> | undefined
  /** Accepted `aud` values of access tokens; default: the client id. */
  readonly audience?: ReadonlyArray<string> | undefined
  /** Accepted `azp` / `client_id` of access tokens; default: the client id; `*`: any. */
  readonly trustedClients?: ReadonlyArray<string> | "*" | undefined
  /** `keycloak` maps `realm_access.roles` and `resource_access.<client>.roles` and accepts Keycloak's `typ`. */
  readonly profile?: "generic" | "keycloak" | undefined
  /** Pinned signature algorithms (asymmetric only); default RS256, PS256, ES256, EdDSA. */
  readonly algorithms?: ReadonlyArray<string> | undefined
  /** Scopes requested at sign-in; default `openid profile email`. */
  readonly scope?: string | undefined
  /** An RFC 8707 resource indicator sent with authorization and token requests. */
  readonly resource?: string | undefined
  readonly claims?: Partial<ClaimMapping> | undefined
  /** Back-channel base URL replacing the issuer URL (in-cluster service, loopback). */
  readonly internalUrl?: string | undefined
  /** Allow an `http:` issuer (the embedded issuer on loopback, tests). Never for a real deployment. */
  readonly allowInsecureRequests?: boolean | undefined
  readonly clockSkewSeconds?: number | undefined
  readonly requestTimeoutMillis?: number | undefined
  readonly jwksCooldownMillis?: number | undefined
  readonly jwksMaxAgeMillis?: number | undefined
}

export const defaultAlgorithms = ["RS256", "PS256", "ES256", "EdDSA"] as const
const asymmetric = new Set(["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"])

/** The claim mapping of a profile, before overrides. */
export const profileClaims = (profile: "generic" | "keycloak"): ClaimMapping => ({
  rolesClaims: profile === "keycloak" ? ["realm_access.roles", "resource_access.${client_id}.roles"] : ["roles"],
  groupsClaim: "groups",
  adminRoles: ["admin"],
  fullRoles: ["full"],
  defaultRole: "visitor" satisfies Role
})

/** Why options cannot work, or undefined. */
export const checkOptions = (options: OidcOptions): string | undefined => {
  let issuer: URL
  try {
    issuer = new URL(options.issuer)
  } catch {
    return `the OIDC issuer ${JSON.stringify(options.issuer)} is not a URL`
  }
  if (issuer.protocol !== "https:" && !(issuer.protocol === "http:" && options.allowInsecureRequests === true)) {
    return "the OIDC issuer must be https (http only with AQUIFER_OIDC_ALLOW_HTTP=true, for local use)"
  }
  if (issuer.hash !== "" || issuer.search !== "") return "the OIDC issuer must not have a query or fragment"
  if (options.clientId.trim() === "") return "the OIDC client id is empty"
  const refused = (options.algorithms ?? defaultAlgorithms).filter((alg) => !asymmetric.has(alg))
  if (refused.length > 0) return `only asymmetric signature algorithms are accepted, not ${refused.join(", ")}`
  if ((options.algorithms ?? defaultAlgorithms).length === 0) return "no signature algorithm is accepted"
  if (options.internalUrl !== undefined) {
    try {
      new URL(options.internalUrl)
    } catch {
      return "AQUIFER_OIDC_INTERNAL_URL is not a URL"
    }
  }
  return undefined
}

interface Discovered {
  readonly as: oauth.AuthorizationServer
  readonly verify: (token: string, now: Date) => Promise<Record<string, unknown>>
  readonly at: number
}

const discoveryMaxAgeMillis = 3_600_000

/** The Identity port over any OpenID Provider, through oauth4webapi (flows) and jose (access-token verification). */
export const make = Effect.fnUntraced(function*(options: OidcOptions) {
  const problem = checkOptions(options)
  if (problem !== undefined) return yield* Effect.die(new Error(problem))
  const profile = options.profile ?? "generic"
  const mapping: ClaimMapping = { ...profileClaims(profile), ...options.claims }
  const scope = options.scope ?? "openid profile email"
  const insecure = options.allowInsecureRequests === true
  const fetchImpl = backChannelFetch(options.issuer, options.internalUrl, options.requestTimeoutMillis ?? 10_000)
  const http = { [oauth.customFetch]: fetchImpl, [oauth.allowInsecureRequests]: insecure } as const
  const skew = options.clockSkewSeconds ?? 30
  const client: oauth.Client = { client_id: options.clientId, [oauth.clockTolerance]: skew }
  const clientAuth = options.clientSecret === undefined ? oauth.None() : oauth.ClientSecretBasic(Redacted.value(options.clientSecret))
  const resourceParams = options.resource === undefined ? undefined : { resource: options.resource }

  let cached: Promise<Discovered> | undefined
  const load = async (): Promise<Discovered> => {
    const issuer = new URL(options.issuer)
    const response = await oauth.discoveryRequest(issuer, { algorithm: "oidc", ...http })
    const as = await oauth.processDiscoveryResponse(issuer, response)
    if (as.jwks_uri === undefined || as.authorization_endpoint === undefined || as.token_endpoint === undefined) {
      throw new Error("the issuer's metadata lacks jwks_uri, authorization_endpoint or token_endpoint")
    }
    const verify = makeAccessTokenVerifier({
      issuer: as.issuer,
      jwksUri: as.jwks_uri,
      audience: options.audience ?? [options.clientId],
      trustedClients: options.trustedClients ?? [options.clientId],
      algorithms: options.algorithms ?? defaultAlgorithms,
      clockSkewSeconds: skew,
      profile,
      fetch: fetchImpl,
      jwksCooldownMillis: options.jwksCooldownMillis ?? 30_000,
      jwksMaxAgeMillis: options.jwksMaxAgeMillis ?? 600_000
    })
    return { as, verify: verify as Discovered["verify"], at: Date.now() }
  }
  // Metadata is fetched lazily (the issuer may start after us, or be ourselves) and kept for an
  // hour; a failed fetch is not kept, so the next request tries again.
  const discover: Effect.Effect<Discovered, Unavailable> = Effect.tryPromise({
    try: async () => {
      const current = cached
      if (current !== undefined) {
        const done = await current.catch(() => undefined)
        if (done !== undefined && Date.now() - done.at < discoveryMaxAgeMillis) return done
        if (cached === current) cached = undefined
      }
      const next = cached ?? load()
      cached = next
      try {
        return await next
      } catch (error) {
        if (cached === next) cached = undefined
        throw error
      }
    },
    catch: (error) => new Unavailable({ message: `the OIDC issuer's metadata is unavailable: ${describe(error)}`, cause: error })
  })

  const unavailable = (error: unknown) => new Unavailable({ message: describe(error), cause: error })

  const verifyClaims = (token: string): Effect.Effect<Record<string, unknown>, Unauthenticated | Unavailable> =>
    Effect.gen(function*() {
      const found = yield* discover
      const now = new Date(yield* Clock.currentTimeMillis)
      const outcome = yield* Effect.tryPromise({ try: () => found.verify(token, now), catch: (error) => error }).pipe(Effect.result)
      if (outcome._tag === "Success") return outcome.success
      if (outcome.failure instanceof IssuerUnreachable) return yield* unavailable(outcome.failure)
      yield* Effect.logDebug(`access token rejected: ${describe(outcome.failure)}`)
      return yield* new Unauthenticated({ message: "the access token is not valid" })
    })

  const toTokenSet = (response: oauth.TokenEndpointResponse, claims: Record<string, unknown>, fallback: Record<string, unknown>): TokenSet => ({
    principal: principalFromClaims(claims, mapping, options.clientId, fallback),
    accessToken: Redacted.make(response.access_token),
    accessTokenExpiresAt: new Date((claims.exp as number) * 1000),
    refreshToken: response.refresh_token === undefined ? undefined : Redacted.make(response.refresh_token),
    idToken: response.id_token === undefined ? undefined : Redacted.make(response.id_token)
  })

  const serviceTokens = new Map<string, ServiceToken>()

  return Identity.of({
    issuer: options.issuer,

    beginSignIn: ({ redirectUri }) =>
      Effect.flatMap(discover, ({ as }) =>
        Effect.promise(async () => {
          const codeVerifier = oauth.generateRandomCodeVerifier()
          const state = oauth.generateRandomState()
          const nonce = oauth.generateRandomNonce()
          const url = new URL(as.authorization_endpoint!)
          url.searchParams.set("client_id", options.clientId)
          url.searchParams.set("redirect_uri", redirectUri)
          url.searchParams.set("response_type", "code")
          url.searchParams.set("scope", scope)
          url.searchParams.set("state", state)
          url.searchParams.set("nonce", nonce)
          url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(codeVerifier))
          url.searchParams.set("code_challenge_method", "S256")
          if (options.resource !== undefined) url.searchParams.set("resource", options.resource)
          return { url: url.toString(), state, nonce, codeVerifier: Redacted.make(codeVerifier) }
        })),

    finishSignIn: ({ callbackUrl, redirectUri, expected }) =>
      Effect.gen(function*() {
        const { as } = yield* discover
        const exchanged = yield* Effect.tryPromise({
          try: async () => {
            const params = oauth.validateAuthResponse(as, client, new URL(callbackUrl), expected.state)
            const response = await oauth.authorizationCodeGrantRequest(
              as, client, clientAuth, params, redirectUri, Redacted.value(expected.codeVerifier),
              { ...http, additionalParameters: resourceParams }
            )
            const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
              expectedNonce: expected.nonce,
              requireIdToken: true
            })
            return { result, idClaims: oauth.getValidatedIdTokenClaims(result)! as unknown as Record<string, unknown> }
          },
          catch: (error) =>
            error instanceof IssuerUnreachable
              ? unavailable(error)
              : new SignInFailed({ message: `the sign-in was refused: ${describe(error)}` })
        })
        const claims = yield* verifyClaims(exchanged.result.access_token).pipe(
          Effect.catchTag("Unauthenticated", () =>
            Effect.fail(new SignInFailed({ message: "the issuer returned an access token that does not verify" })))
        )
        if (claims.sub !== exchanged.idClaims.sub) {
          return yield* new SignInFailed({ message: "the ID token and the access token name different subjects" })
        }
        return toTokenSet(exchanged.result, claims, exchanged.idClaims)
      }),

    refresh: (refreshToken) =>
      Effect.gen(function*() {
        const { as } = yield* discover
        const result = yield* Effect.tryPromise({
          try: async () => {
            const response = await oauth.refreshTokenGrantRequest(as, client, clientAuth, Redacted.value(refreshToken), {
              ...http,
              additionalParameters: resourceParams
            })
            return await oauth.processRefreshTokenResponse(as, client, response)
          },
          catch: (error) =>
            error instanceof IssuerUnreachable
              ? unavailable(error)
              : new Unauthenticated({ message: `the issuer refused the refresh: ${describe(error)}` })
        })
        const claims = yield* verifyClaims(result.access_token)
        const idClaims = result.id_token === undefined ? {} : (oauth.getValidatedIdTokenClaims(result) ?? {}) as Record<string, unknown>
        return toTokenSet(result, claims, idClaims)
      }),

    signOut: ({ idToken, refreshToken, postLogoutRedirectUri }) =>
      Effect.gen(function*() {
        const { as } = yield* discover
        if (refreshToken !== undefined && as.revocation_endpoint !== undefined) {
          yield* Effect.tryPromise(async () => {
            const response = await oauth.revocationRequest(as, client, clientAuth, Redacted.value(refreshToken), {
              ...http,
              additionalParameters: { token_type_hint: "refresh_token" }
            })
            await oauth.processRevocationResponse(response)
          }).pipe(Effect.catch((error) => Effect.logWarning(`refresh token revocation failed: ${describe(error)}`)))
        }
        if (as.end_session_endpoint === undefined) return {}
        const url = new URL(as.end_session_endpoint)
        url.searchParams.set("client_id", options.clientId)
        if (idToken !== undefined) url.searchParams.set("id_token_hint", Redacted.value(idToken))
        if (postLogoutRedirectUri !== undefined) url.searchParams.set("post_logout_redirect_uri", postLogoutRedirectUri)
        return { logoutUrl: url.toString() }
      }),

    verifyAccessToken: (token) =>
      Effect.map(verifyClaims(token), (claims): VerifiedToken => ({
        principal: principalFromClaims(claims, mapping, options.clientId),
        token: Redacted.make(token),
        expiresAt: new Date((claims.exp as number) * 1000),
        clientId: typeof claims.azp === "string" ? claims.azp : typeof claims.client_id === "string" ? claims.client_id : undefined,
        scopes: typeof claims.scope === "string" ? claims.scope.split(" ").filter((s) => s !== "") : []
      })),

    serviceToken: (input) =>
      Effect.gen(function*() {
        const key = input?.scope ?? ""
        const now = yield* Clock.currentTimeMillis
        const known = serviceTokens.get(key)
        if (known !== undefined && known.expiresAt.getTime() - 30_000 > now) return known
        const { as } = yield* discover
        const result = yield* Effect.tryPromise({
          try: async () => {
            const parameters: Record<string, string> = { ...resourceParams }
            if (input?.scope !== undefined) parameters.scope = input.scope
            const response = await oauth.clientCredentialsGrantRequest(as, client, clientAuth, parameters, http)
            return await oauth.processClientCredentialsResponse(as, client, response)
          },
          catch: (error) => new Unavailable({ message: `no service token: ${describe(error)}`, cause: error })
        })
        const token: ServiceToken = {
          accessToken: Redacted.make(result.access_token),
          expiresAt: new Date(now + (result.expires_in ?? 60) * 1000)
        }
        serviceTokens.set(key, token)
        return token
      })
  })
})

/** A short reason for logs and error messages (OAuth error codes included, never tokens). */
const describe = (error: unknown): string => {
  if (error instanceof oauth.ResponseBodyError) return `${error.error}${error.error_description ? ` (${error.error_description})` : ""}`
  if (error instanceof oauth.AuthorizationResponseError) return `${error.error}${error.error_description ? ` (${error.error_description})` : ""}`
  if (error instanceof TokenRejected || error instanceof IssuerUnreachable) return error.message
  if (error instanceof Error) return error.message.slice(0, 200)
  return String(error).slice(0, 200)
}

/** The Identity port over an OIDC issuer configured by `options`. */
export const layer = (options: OidcOptions): Layer.Layer<Identity> => Layer.effect(Identity, make(options))
