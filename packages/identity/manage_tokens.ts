/**
 * Use cases for platform tokens: a user creates one (the secret is returned once and never
 * again), lists theirs, revokes one. The policy decides who may; these rules add:
 * - a name of 1–100 printable characters, unique among the owner's live tokens;
 * - scopes: a non-empty set of `read`, `write`, `admin`; `admin` only for admins; a caller who
 *   is itself using a platform token can only mint tokens with a subset of its own scopes;
 * - an expiry in the future and at most `maxLifetimeMillis` away (default 365 days);
 * - at most `maxTokensPerUser` live tokens per user.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { createPlatformToken } from "@aquifer/identity"
 * // inside a handler, with the resolved caller:
 * // const { token, secret } = yield* createPlatformToken(caller, { name: "laptop", scopes: ["read", "write"], expiresInDays: 30 })
 * ```
 * @module
 */
import { Effect, Redacted, Schema } from "effect"
import { InvalidInput, LimitExceeded, newTokenId, NotFound, now, type TokenId, Unauthenticated } from "@aquifer/core"
import { randomSecret, sha256Hex } from "./_crypto.ts"
import { platformTokenPrefix } from "./authenticator.ts"
import { PlatformToken, PlatformTokenStore } from "./platform_tokens.ts"
import { authorize, authorizeOrHide, type Caller, TokenScope } from "./policy.ts"

export const maxTokensPerUser = 100
export const maxLifetimeMillis = 365 * 86_400_000
const day = 86_400_000

/** What a client sends to create a token (decoded at the edge with this schema). */
export const NewPlatformToken = Schema.Struct({
  name: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(100), Schema.isPattern(/^[^\p{Cc}]+$/u)),
  scopes: Schema.Array(TokenScope).check(Schema.isMinLength(1)),
  /** Days from now; default 90. */
  expiresInDays: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 365 })))
})
export type NewPlatformToken = typeof NewPlatformToken.Type

/** Creates a token owned by the caller. The secret is in the result only. */
export const createPlatformToken = Effect.fn("createPlatformToken")(function*(caller: Caller | undefined, input: unknown) {
  yield* authorize(caller, "create", { kind: "token" })
  const who = caller!
  const request = yield* Schema.decodeUnknownEffect(NewPlatformToken)(input).pipe(
    Effect.mapError((error) => new InvalidInput({ message: `invalid token request: ${error.message}` }))
  )
  const scopes = [...new Set(request.scopes)].sort()
  if (scopes.includes("admin") && !who.principal.isAdmin) {
    return yield* new InvalidInput({ message: "only admins may create tokens with the admin scope", field: "scopes" })
  }
  if (who.scopes !== undefined && !scopes.every((scope) => who.scopes!.includes(scope))) {
    return yield* new InvalidInput({ message: "a token cannot grant scopes its creator's token does not have", field: "scopes" })
  }
  const store = yield* PlatformTokenStore
  const live = yield* store.list(who.principal.key)
  if (live.length >= maxTokensPerUser) return yield* new LimitExceeded({ message: `at most ${maxTokensPerUser} live tokens per user` })
  const at = yield* now
  const lifetime = Math.min((request.expiresInDays ?? 90) * day, maxLifetimeMillis)
  const secret = `${platformTokenPrefix}${randomSecret()}`
  const token = new PlatformToken({
    id: newTokenId(),
    owner: who.principal.key,
    name: request.name,
    scopes,
    secretHash: yield* sha256Hex(secret),
    createdAt: at,
    expiresAt: new Date(at.getTime() + lifetime)
  })
  yield* store.create(token).pipe(
    Effect.catchTag("AlreadyExists", () => Effect.fail(new InvalidInput({ message: `you already have a token named ${request.name}`, field: "name" })))
  )
  return { token, secret: Redacted.make(secret) }
})

/** The caller's live tokens, newest first (never their secrets). */
export const listPlatformTokens = Effect.fn("listPlatformTokens")(function*(caller: Caller | undefined) {
  if (caller === undefined) return yield* new Unauthenticated({ message: "sign in to continue" })
  const store = yield* PlatformTokenStore
  const tokens = yield* store.list(caller.principal.key)
  for (const token of tokens) yield* authorize(caller, "read", { kind: "token", id: token.id, owner: token.owner })
  return tokens
})

/** Revokes a token of the caller (or any token, for an admin). Unknown or foreign ids: `NotFound`. */
export const revokePlatformToken = Effect.fn("revokePlatformToken")(function*(caller: Caller | undefined, id: TokenId) {
  const store = yield* PlatformTokenStore
  const token = yield* store.get(id)
  if (token === undefined) {
    if (caller === undefined) return yield* new Unauthenticated({ message: "sign in to continue" })
    return yield* new NotFound({ resource: "token", id })
  }
  yield* authorizeOrHide(caller, "revoke", { kind: "token", id, owner: token.owner })
  yield* store.revoke(id, yield* now)
})
