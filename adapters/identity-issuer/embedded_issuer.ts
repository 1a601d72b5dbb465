import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto"
import type { IncomingMessage, ServerResponse } from "node:http"
import { Context, Effect, Layer, Redacted, Schedule } from "effect"
import { now, Unavailable } from "@aquifer/core"
import { IssuerRecord, IssuerStateStore, LocalAccount, LocalAccountStore } from "@aquifer/identity"
import Provider, { type Configuration, errors, type KoaContextWithOIDC } from "oidc-provider"
import { errorPage, newPasswordPage, signedOutPage, signInPage, signOutPage } from "./_pages.ts"
import { hashPassword, oneTimePassword, passwordProblem, verifyPassword } from "./_passwords.ts"
import { storageAdapter } from "./_storage.ts"

/** The RFC 8707 resource the embedded issuer mints JWT access tokens for. */
export const resourceIndicator = "urn:aquifer:api"

/**
 * The OpenID Provider the all-in-one runs for itself (`oidc-provider`, a certified OP), mounted
 * under `mountPath` of the platform's own origin. The platform reaches it through the OIDC
 * adapter exactly as it would reach Keycloak: this service only says where it is and serves its
 * requests.
 */
export class EmbeddedIssuer extends Context.Service<EmbeddedIssuer, {
  /** The issuer identifier: the public origin + `mountPath`. */
  readonly issuer: string
  readonly mountPath: string
  /** The platform's confidential client at this issuer (secret fresh at every start). */
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  /** The `aud` of the access tokens it issues. */
  readonly audience: string
  /**
   * Serves a Node request whose path is under `mountPath` (anything else: 404). Until the issuer
   * has loaded its keys from the metadata store, it answers 503 with `Retry-After`.
   */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void
  /** Succeeds once the issuer serves requests; `Unavailable` (with the reason) before that. */
  readonly readiness: Effect.Effect<void, Unavailable>
}>()("@aquifer/identity-issuer/EmbeddedIssuer") {}

export interface EmbeddedIssuerOptions {
  /** The origin users reach the platform at, e.g. `http://localhost:8080`. */
  readonly publicUrl: string
  /** Default `/oidc`. */
  readonly mountPath?: string | undefined
  /** Default `aquifer`. */
  readonly clientId?: string | undefined
  /** The platform's sign-in callback path (default `/auth/callback`) and where sign-out lands (default `/`). */
  readonly callbackPath?: string | undefined
  readonly afterSignOutPath?: string | undefined
  /** Default: the client id. */
  readonly audience?: string | undefined
  readonly accessTokenTtlSeconds?: number | undefined
  readonly refreshTokenTtlSeconds?: number | undefined
  /** The first administrator, created when there is no account yet. */
  readonly admin?: { readonly username?: string | undefined; readonly password?: Redacted.Redacted<string> | undefined } | undefined
  /** Where the one-time password of the first administrator is shown (default: one warning log line). */
  readonly announce?: ((text: string) => void) | undefined
  /** Failed sign-ins of one username before it is locked for a while (doubling each time). */
  readonly maxFailedSignIns?: number | undefined
  readonly lockoutMillis?: number | undefined
}

const day = 86_400

const securityHeaders = {
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "cache-control": "no-store"
}

const send = (res: ServerResponse, status: number, html: string) => {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", ...securityHeaders })
  res.end(html)
}

const readForm = (req: IncomingMessage, limit = 16_384): Promise<URLSearchParams> =>
  new Promise((resolve, reject) => {
    let size = 0
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        reject(new Error("form too large"))
        req.destroy()
      } else chunks.push(chunk)
    })
    req.on("end", () => resolve(new URLSearchParams(Buffer.concat(chunks).toString("utf8"))))
    req.on("error", reject)
  })

/** Reads a record's payload, or creates and stores it once. */
const loadOrCreate = <A>(store: IssuerStateStore["Service"], kind: string, create: () => A) =>
  Effect.gen(function*() {
    const existing = yield* store.get(kind, "current", yield* now)
    if (existing !== undefined) return existing.payload.value as A
    const value = create()
    yield* store.put(new IssuerRecord({ kind, id: "current", payload: { value } }))
    return value
  })

const newSigningKey = () => {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 })
  return { ...privateKey.export({ format: "jwk" }), kid: randomBytes(12).toString("base64url"), alg: "RS256", use: "sig" }
}

/** Creates the first administrator when there is no account at all. */
const ensureFirstAdmin = Effect.fnUntraced(function*(options: EmbeddedIssuerOptions) {
  const accounts = yield* LocalAccountStore
  if ((yield* accounts.count()) > 0) return
  const username = (options.admin?.username ?? "admin").toLowerCase()
  const given = options.admin?.password === undefined ? undefined : Redacted.value(options.admin.password)
  if (given !== undefined) {
    const problem = passwordProblem(given, username)
    if (problem !== undefined) return yield* new Unavailable({ message: `AQUIFER_ADMIN_PASSWORD is refused: ${problem}` })
  }
  const password = given ?? oneTimePassword()
  const at = yield* now
  const created = yield* accounts.create(new LocalAccount({
    subject: randomUUID(),
    username,
    name: "Administrator",
    groups: [],
    roles: ["admin"],
    passwordHash: Redacted.make(yield* Effect.promise(() => hashPassword(password))),
    mustChangePassword: given === undefined,
    disabled: false,
    createdAt: at,
    updatedAt: at
  })).pipe(Effect.as(true), Effect.catchTag("AlreadyExists", () => Effect.succeed(false)))
  if (created && given === undefined) {
    const text = `Aquifer first run: sign in as "${username}" with the one-time password ${password} ` +
      `(shown only this once; you will choose your own password at first sign-in)`
    yield* options.announce === undefined ? Effect.logWarning(text) : Effect.sync(() => options.announce!(text))
  }
})

export const make = Effect.fnUntraced(function*(options: EmbeddedIssuerOptions) {
  const store = yield* IssuerStateStore
  const accounts = yield* LocalAccountStore
  const run = Effect.runPromiseWith(yield* Effect.context<IssuerStateStore | LocalAccountStore>())
  const publicUrl = new URL(options.publicUrl)
  const https = publicUrl.protocol === "https:"
  const mountPath = `/${(options.mountPath ?? "/oidc").replace(/^\/+|\/+$/g, "")}`
  const issuer = `${publicUrl.origin}${mountPath}`
  const clientId = options.clientId ?? "aquifer"
  const clientSecret = randomBytes(32).toString("base64url")
  const audience = options.audience ?? clientId
  const maxFailed = options.maxFailedSignIns ?? 5
  const lockout = options.lockoutMillis ?? 30_000

  const accountClaims = async (subject: string) => {
    const account = await run(accounts.get(subject))
    if (account === undefined || account.disabled) return undefined
    return {
      sub: account.subject,
      name: account.name,
      preferred_username: account.username,
      ...(account.email === undefined ? {} : { email: account.email }),
      roles: [...account.roles],
      groups: [...account.groups]
    }
  }

  const cookie = { signed: true, httpOnly: true, sameSite: "lax" as const, secure: https }
  const configure = (signingKey: unknown, cookieKeys: Array<string>): Configuration => ({
    adapter: storageAdapter(store, run),
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [`${publicUrl.origin}${options.callbackPath ?? "/auth/callback"}`],
      post_logout_redirect_uris: [`${publicUrl.origin}${options.afterSignOutPath ?? "/"}`],
      grant_types: ["authorization_code", "refresh_token", "client_credentials"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
      scope: "openid profile email offline_access api"
    }],
    jwks: { keys: [signingKey as never] },
    cookies: { keys: cookieKeys, long: cookie, short: cookie },
    claims: { openid: ["sub"], profile: ["name", "preferred_username"], email: ["email"] },
    scopes: ["openid", "offline_access", "profile", "email", "api"],
    pkce: { required: () => true },
    ttl: {
      AccessToken: options.accessTokenTtlSeconds ?? 300,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Session: 14 * day,
      Grant: 14 * day,
      RefreshToken: options.refreshTokenTtlSeconds ?? 14 * day,
      ClientCredentials: 600
    },
    interactions: { url: (_ctx, interaction) => `${mountPath}/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx: KoaContextWithOIDC, form: string) => {
          ctx.set(securityHeaders)
          ctx.type = "html"
          ctx.body = signOutPage(form)
        },
        postLogoutSuccessSource: (ctx: KoaContextWithOIDC) => {
          ctx.set(securityHeaders)
          ctx.type = "html"
          ctx.body = signedOutPage()
        }
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resourceIndicator,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== resourceIndicator) throw new errors.InvalidTarget()
          return {
            scope: "api",
            audience,
            accessTokenTTL: options.accessTokenTtlSeconds ?? 300,
            accessTokenFormat: "jwt",
            jwt: { sign: { alg: "RS256" } }
          }
        }
      }
    },
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    // The platform is this issuer's own first-party client: no consent screen for it.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId)
      if (grantId) {
        const found = await ctx.oidc.provider.Grant.find(grantId)
        if (found) return found
      }
      if (ctx.oidc.client!.clientId !== clientId) return undefined
      const grant = new ctx.oidc.provider.Grant({ clientId, accountId: ctx.oidc.session!.accountId! })
      grant.addOIDCScope("openid profile email offline_access")
      grant.addResourceScope(resourceIndicator, "api")
      await grant.save()
      return grant
    },
    findAccount: async (_ctx, sub) => {
      const claims = await accountClaims(sub)
      return claims === undefined ? undefined : { accountId: sub, claims: () => claims }
    },
    extraTokenClaims: async (_ctx, token) => {
      const accountId = (token as { accountId?: string }).accountId
      if (accountId === undefined) return undefined
      const claims = await accountClaims(accountId)
      if (claims === undefined) return undefined
      const { sub: _sub, ...rest } = claims
      return rest
    },
    renderError: (ctx, out) => {
      ctx.set(securityHeaders)
      ctx.type = "html"
      ctx.body = errorPage(String(out.error_description ?? out.error ?? "The request could not be completed."))
    },
    clientBasedCORS: () => false
  })

  let provider: Provider | undefined
  let oidc: ((req: IncomingMessage, res: ServerResponse) => unknown) | undefined
  let notReadyReason = "the sign-in service is starting"
  // Keys and the first administrator live in the metadata store, which may still be starting:
  // load them in the background, retrying, while requests get 503.
  const initialise = Effect.gen(function*() {
    const signingKey = yield* loadOrCreate(store, "AquiferSigningKey", newSigningKey)
    const cookieKeys = yield* loadOrCreate(store, "AquiferCookieKeys", () => [randomBytes(32).toString("base64url")])
    yield* ensureFirstAdmin(options)
    const created = new Provider(issuer, configure(signingKey, cookieKeys))
    // The issuer's URLs are always built from the public origin, whichever interface or Host a
    // request came through (the platform itself calls in over loopback).
    if (https) created.proxy = true
    oidc = created.callback()
    provider = created
    yield* Effect.logInfo(`embedded OIDC issuer ready at ${issuer}`)
  }).pipe(
    Effect.tapError((error) => {
      const reason = `the sign-in service is not ready: ${error.message}`
      if (reason === notReadyReason) return Effect.void
      notReadyReason = reason
      return Effect.logWarning(reason)
    }),
    Effect.retry(Schedule.spaced("1 second"))
  )
  yield* Effect.forkScoped(initialise)

  const failures = new Map<string, { count: number; lockedUntil: number }>()
  const pendingChange = new Map<string, { subject: string; username: string; expires: number }>()
  const prune = () => {
    const t = Date.now()
    for (const [key, value] of pendingChange) if (value.expires < t) pendingChange.delete(key)
    if (failures.size > 10_000) failures.clear()
  }

  const sameOrigin = (req: IncomingMessage) => {
    const origin = req.headers.origin
    if (typeof origin === "string") return origin === publicUrl.origin
    const site = req.headers["sec-fetch-site"]
    return site === undefined || site === "same-origin" || site === "none"
  }

  const interaction = async (provider: Provider, req: IncomingMessage, res: ServerResponse, uid: string, step: string | undefined) => {
    prune()
    const details = await provider.interactionDetails(req, res).catch(() => undefined)
    if (details === undefined || details.uid !== uid || details.prompt.name !== "login") {
      return send(res, 400, errorPage("This sign-in has expired or was already used. Start again from Aquifer."))
    }
    const base = `${mountPath}/interaction/${uid}`
    const finish = (subject: string) =>
      provider.interactionFinished(req, res, { login: { accountId: subject } }, { mergeWithLastSubmission: false })
    if (step === "/abort" && req.method === "GET") {
      return provider.interactionFinished(req, res, { error: "access_denied", error_description: "The sign-in was cancelled" }, {
        mergeWithLastSubmission: false
      })
    }
    if (step === undefined && req.method === "GET") {
      return send(res, 200, pendingChange.has(uid) ? newPasswordPage(`${base}/password`) : signInPage(`${base}/login`, `${base}/abort`))
    }
    if (req.method !== "POST" || (step !== "/login" && step !== "/password")) return send(res, 405, errorPage("Method not allowed."))
    if (!sameOrigin(req)) return send(res, 403, errorPage("This form must be sent from Aquifer's own sign-in page."))
    const form = await readForm(req)

    if (step === "/login") {
      const username = (form.get("username") ?? "").trim().toLowerCase().slice(0, 64)
      const password = (form.get("password") ?? "").slice(0, 256)
      const state = failures.get(username)
      if (state !== undefined && state.lockedUntil > Date.now()) {
        const wait = Math.ceil((state.lockedUntil - Date.now()) / 1000)
        return send(res, 429, signInPage(`${base}/login`, `${base}/abort`, { username, error: `Too many failed attempts. Try again in ${wait} s.` }))
      }
      const account = username === "" ? undefined : await run(accounts.findByUsername(username))
      const valid = await verifyPassword(password, account === undefined ? undefined : Redacted.value(account.passwordHash))
      if (!valid || account === undefined || account.disabled) {
        const count = (state?.count ?? 0) + 1
        failures.set(username, {
          count,
          lockedUntil: count >= maxFailed ? Date.now() + lockout * 2 ** Math.min(count - maxFailed, 5) : 0
        })
        return send(res, 401, signInPage(`${base}/login`, `${base}/abort`, { username, error: "Wrong username or password." }))
      }
      failures.delete(username)
      if (account.mustChangePassword) {
        pendingChange.set(uid, { subject: account.subject, username: account.username, expires: Date.now() + 600_000 })
        return send(res, 200, newPasswordPage(`${base}/password`))
      }
      return finish(account.subject)
    }

    const pending = pendingChange.get(uid)
    if (pending === undefined) return send(res, 400, signInPage(`${base}/login`, `${base}/abort`, { error: "Sign in first." }))
    const password = (form.get("password") ?? "").slice(0, 1024)
    if (password !== form.get("confirm")) return send(res, 400, newPasswordPage(`${base}/password`, { error: "The two passwords differ." }))
    const problem = passwordProblem(password, pending.username)
    if (problem !== undefined) return send(res, 400, newPasswordPage(`${base}/password`, { error: problem }))
    const account = await run(accounts.get(pending.subject))
    if (account === undefined || account.disabled) return send(res, 400, errorPage("This account cannot sign in."))
    if (await verifyPassword(password, Redacted.value(account.passwordHash))) {
      return send(res, 400, newPasswordPage(`${base}/password`, { error: "Choose a password other than the one-time password." }))
    }
    const hash = await hashPassword(password)
    await run(Effect.flatMap(now, (at) => accounts.setPassword(account.subject, Redacted.make(hash), false, at)))
    pendingChange.delete(uid)
    return finish(account.subject)
  }

  const interactionPath = /^\/interaction\/([A-Za-z0-9_-]{1,64})(\/login|\/password|\/abort)?\/?(?:\?.*)?$/

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const raw = req.url ?? "/"
    if (!(raw === mountPath || raw.startsWith(`${mountPath}/`) || raw.startsWith(`${mountPath}?`))) {
      return send(res, 404, errorPage("Not found."))
    }
    req.headers.host = publicUrl.host
    if (https) {
      req.headers["x-forwarded-proto"] = "https"
      req.headers["x-forwarded-host"] = publicUrl.host
    }
    if (provider === undefined || oidc === undefined) {
      res.setHeader("retry-after", "1")
      return send(res, 503, errorPage("The sign-in service is starting. Try again in a moment."))
    }
    const path = raw.slice(mountPath.length) || "/"
    ;(req as IncomingMessage & { originalUrl?: string }).originalUrl = raw
    req.url = path
    const match = interactionPath.exec(path)
    const served = match !== null ? interaction(provider, req, res, match[1]!, match[2]) : oidc(req, res)
    void Promise.resolve(served).catch(() => {
      if (!res.headersSent) send(res, 500, errorPage("The sign-in service failed. Try again."))
      else res.destroy()
    })
  }

  yield* Effect.forkScoped(
    Effect.flatMap(now, (at) => store.deleteExpired(at)).pipe(
      Effect.catch(() => Effect.void),
      Effect.repeat(Schedule.spaced("1 hour"))
    )
  )

  const readiness = Effect.suspend(() =>
    provider === undefined ? Effect.fail(new Unavailable({ message: notReadyReason })) : Effect.void
  )

  return EmbeddedIssuer.of({ issuer, mountPath, clientId, clientSecret: Redacted.make(clientSecret), audience, handle, readiness })
})

/** The embedded issuer, over the local accounts and issuer state of the metadata store. */
export const layer = (options: EmbeddedIssuerOptions): Layer.Layer<EmbeddedIssuer, never, IssuerStateStore | LocalAccountStore> =>
  Layer.effect(EmbeddedIssuer, make(options))
