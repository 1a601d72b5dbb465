import type { IncomingMessage, ServerResponse } from "node:http"
import { Config, Context, Effect, Layer, Option, Schedule } from "effect"
import { now } from "@aquifer/core"
import {
  Authenticator,
  defaultSessionSettings,
  type Identity,
  type IssuerStateStore,
  layerAuthenticator,
  type LocalAccountStore,
  PendingSignInStore,
  type PlatformTokenStore,
  SessionStore,
  type SessionSettings,
  type UserDirectory
} from "@aquifer/identity"
import { EmbeddedIssuer, type EmbeddedIssuerOptions, layerConfig as embeddedIssuerFromEnv } from "@aquifer/identity-issuer"
import { layerConfig as oidcFromEnv } from "@aquifer/identity-oidc"
import { type Database, layerIdentityRepositories } from "@aquifer/metadata-postgres"
import { durationConfig, serverConfig } from "../config.ts"

/** What the HTTP surface needs to know about identity: origins, cookies, the embedded issuer. */
export class IdentityHttp extends Context.Service<IdentityHttp, {
  /** The platform's public origin, e.g. `https://aquifer.example` (no trailing slash). */
  readonly publicUrl: string
  /** Cookies get `Secure` (and the `__Host-` prefix) when the public origin is https. */
  readonly secureCookies: boolean
  readonly redirectUri: string
  readonly postLogoutRedirectUri: string
  /** Seconds a session cookie may live at most (the absolute session timeout). */
  readonly sessionMaxAgeSeconds: number
  /** The embedded issuer's mount, when the platform runs its own. */
  readonly issuerMount?: { readonly path: string; readonly handle: (req: IncomingMessage, res: ServerResponse) => void } | undefined
}>()("@aquifer/aquifer/IdentityHttp") {}

/** Every identity service the app's runtime holds. */
export type IdentityServices =
  | Identity
  | Authenticator
  | SessionStore
  | PendingSignInStore
  | PlatformTokenStore
  | UserDirectory
  | LocalAccountStore
  | IssuerStateStore
  | IdentityHttp

export interface IdentityOptions {
  /** The platform's public origin. */
  readonly publicUrl: string
  /** How this process reaches its own HTTP server (for the embedded issuer's back channel). */
  readonly internalUrl: string
  readonly session?: Partial<SessionSettings> | undefined
  /** Overrides for the embedded issuer (first admin, token lifetimes…). */
  readonly issuer?: Partial<EmbeddedIssuerOptions> | undefined
}

// Ended sessions and stale sign-in attempts are swept once an hour.
const sweeper = Layer.effectDiscard(Effect.gen(function*() {
  const sessions = yield* SessionStore
  const pending = yield* PendingSignInStore
  yield* Effect.forkScoped(
    Effect.gen(function*() {
      const at = yield* now
      yield* sessions.deleteEnded(new Date(at.getTime() - 86_400_000))
      yield* pending.deleteExpired(at)
    }).pipe(Effect.catch(() => Effect.void), Effect.repeat(Schedule.spaced("1 hour")))
  )
}))

/**
 * Identity for the all-in-one. With `AQUIFER_OIDC_ISSUER` set, the platform trusts that issuer
 * (Keycloak or any OIDC provider, `AQUIFER_OIDC_*`). Without it, it runs its own issuer under
 * `/oidc` of its public origin and reaches it over `internalUrl`, through the same OIDC adapter.
 */
export const identityLayer = (options: IdentityOptions): Layer.Layer<IdentityServices, Config.ConfigError, Database> =>
  Layer.unwrap(Effect.gen(function*() {
    const publicUrl = options.publicUrl.replace(/\/$/, "")
    const external = yield* Config.option(Config.String("AQUIFER_OIDC_ISSUER"))
    const settings = { ...defaultSessionSettings, ...options.session }
    const http = {
      publicUrl,
      secureCookies: publicUrl.startsWith("https:"),
      redirectUri: `${publicUrl}/auth/callback`,
      postLogoutRedirectUri: `${publicUrl}/`,
      sessionMaxAgeSeconds: Math.floor(settings.absoluteTimeoutMillis / 1000)
    }
    const repositories = layerIdentityRepositories
    if (Option.isSome(external) && external.value.trim() !== "") {
      const withExternal: Layer.Layer<IdentityServices, Config.ConfigError, Database> = Layer.mergeAll(layerAuthenticator(settings), sweeper, Layer.succeed(IdentityHttp, IdentityHttp.of(http))).pipe(
        Layer.provideMerge(oidcFromEnv()),
        Layer.provideMerge(repositories)
      )
      return withExternal
    }
    const issuer = embeddedIssuerFromEnv(publicUrl, options.issuer)
    const oidc = Layer.unwrap(Effect.gen(function*() {
      const embedded = yield* EmbeddedIssuer
      return oidcFromEnv({
        issuer: embedded.issuer,
        clientId: embedded.clientId,
        clientSecret: embedded.clientSecret,
        audience: [embedded.audience],
        trustedClients: [embedded.clientId],
        profile: "generic",
        internalUrl: `${options.internalUrl.replace(/\/$/, "")}${embedded.mountPath}`,
        allowInsecureRequests: !publicUrl.startsWith("https:")
      })
    }))
    const httpLayer = Layer.effect(IdentityHttp, Effect.gen(function*() {
      const embedded = yield* EmbeddedIssuer
      return IdentityHttp.of({ ...http, issuerMount: { path: embedded.mountPath, handle: embedded.handle } })
    }))
    const withEmbedded: Layer.Layer<IdentityServices, Config.ConfigError, Database> = Layer.mergeAll(layerAuthenticator(settings), sweeper, httpLayer).pipe(
      Layer.provideMerge(oidc),
      Layer.provideMerge(issuer),
      Layer.provideMerge(repositories)
    )
    return withEmbedded
  }))

/**
 * Identity from the environment: the public origin from `AQUIFER_PUBLIC_URL` (default
 * `http://<host>:<port>`), session lifetimes from `AQUIFER_SESSION_IDLE_TIMEOUT` (default 2 h)
 * and `AQUIFER_SESSION_MAX_AGE` (default 24 h).
 */
export const identityLayerFromEnv: Layer.Layer<IdentityServices, Config.ConfigError, Database> = Layer.unwrap(
  Effect.gen(function*() {
    const config = yield* serverConfig
    const idle = yield* durationConfig("AQUIFER_SESSION_IDLE_TIMEOUT", "2h")
    const maxAge = yield* durationConfig("AQUIFER_SESSION_MAX_AGE", "24h")
    const loopback = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host
    const internalUrl = `http://${loopback.includes(":") ? `[${loopback}]` : loopback}:${config.port}`
    return identityLayer({
      publicUrl: config.publicUrl ?? internalUrl,
      internalUrl,
      session: { idleTimeoutMillis: idle, absoluteTimeoutMillis: maxAge }
    })
  })
)
