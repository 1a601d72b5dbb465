/**
 * A real OpenID Provider (`oidc-provider`) in-process on 127.0.0.1 for the adapter's tests,
 * configured like Aquifer's issuers: authorization code + PKCE, JWT access tokens for the
 * `aquifer` audience (RFC 8707 resource indicators), refresh tokens, revocation, RP-initiated
 * logout, client credentials. Sign-in uses oidc-provider's development interactions (tests only).
 * The test keeps the private signing key, so it can also forge tokens signed by the issuer.
 */
import { createServer, type Server } from "node:http"
import { exportJWK, generateKeyPair, type JWK } from "jose"
import Provider, { type Configuration } from "oidc-provider"
import { freePort } from "../../../scripts/testing/ports.ts"

export interface Account {
  readonly sub: string
  readonly name?: string
  readonly email?: string
  readonly roles?: ReadonlyArray<string>
  readonly groups?: ReadonlyArray<string>
}

export interface SigningKey {
  readonly kid: string
  readonly privateKey: CryptoKey
  readonly publicJwk: JWK
  readonly privateJwk: JWK
}

export const newSigningKey = async (kid: string, alg: "RS256" | "ES256" = "RS256"): Promise<SigningKey> => {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg, use: "sig" }
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" }, privateJwk }
}

export interface TestProvider {
  readonly issuer: string
  readonly port: number
  readonly rpOrigin: string
  readonly redirectUri: string
  readonly clientId: string
  readonly clientSecret: string
  readonly accounts: Map<string, Account>
  readonly keys: ReadonlyArray<SigningKey>
  close(): Promise<void>
}

export const resource = "urn:aquifer:api"

export const startProvider = async (options: { port?: number; keys?: ReadonlyArray<SigningKey>; accessTokenTtl?: number } = {}): Promise<TestProvider> => {
  const port = options.port ?? await freePort()
  const issuer = `http://127.0.0.1:${port}`
  const rpOrigin = "http://rp.test"
  const redirectUri = `${rpOrigin}/auth/callback`
  const keys = options.keys ?? [await newSigningKey("k1")]
  const accounts = new Map<string, Account>()
  const claimsOf = (sub: string) => {
    const account = accounts.get(sub) ?? { sub }
    return { sub, name: account.name, email: account.email, roles: account.roles ?? [], groups: account.groups ?? [] }
  }
  const configuration: Configuration = {
    clients: [
      {
        client_id: "aquifer",
        client_secret: "aquifer-test-secret-0123456789",
        redirect_uris: [redirectUri],
        post_logout_redirect_uris: [`${rpOrigin}/`],
        grant_types: ["authorization_code", "refresh_token", "client_credentials"],
        response_types: ["code"],
        scope: "openid profile email offline_access api"
      },
      {
        client_id: "other-app",
        client_secret: "other-app-secret-0123456789",
        redirect_uris: ["http://other.test/cb"],
        grant_types: ["authorization_code", "client_credentials"],
        response_types: ["code"],
        scope: "openid api"
      }
    ],
    jwks: { keys: keys.map((key) => key.privateJwk) as never },
    cookies: { keys: ["test-cookie-key-0123456789abcdef"] },
    claims: { openid: ["sub"], profile: ["name"], email: ["email"] },
    scopes: ["openid", "offline_access", "profile", "email", "api"],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: "api",
          audience: "aquifer",
          accessTokenTTL: options.accessTokenTtl ?? 300,
          accessTokenFormat: "jwt",
          jwt: { sign: { alg: "RS256" } }
        })
      }
    },
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    // A first-party client: no consent screen.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId)
      if (grantId) {
        const found = await ctx.oidc.provider.Grant.find(grantId)
        if (found) return found
      }
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! })
      grant.addOIDCScope("openid profile email offline_access")
      grant.addResourceScope(resource, "api")
      await grant.save()
      return grant
    },
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => claimsOf(sub) }),
    extraTokenClaims: (_ctx, token) => {
      const accountId = (token as { accountId?: string }).accountId
      if (accountId === undefined) return undefined
      const { roles, groups, name, email } = claimsOf(accountId)
      return { roles, groups, ...(name === undefined ? {} : { name }), ...(email === undefined ? {} : { email }) }
    }
  }
  const provider = new Provider(issuer, configuration)
  const server: Server = createServer(provider.callback())
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(port, "127.0.0.1", () => resolve())
  })
  return {
    issuer,
    port,
    rpOrigin,
    redirectUri,
    clientId: "aquifer",
    clientSecret: "aquifer-test-secret-0123456789",
    accounts,
    keys,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
