/**
 * Platform tokens: long-lived credentials a user creates for the CLI and SDKs, each with a name,
 * scopes and an expiry. The secret is shown once at creation; only its SHA-256 is stored.
 *
 * Promises every implementation keeps:
 * - `create` fails with `AlreadyExists` when the id or the secret hash is taken, or when the
 *   owner already has a live (not revoked) token of that name.
 * - `list` returns the owner's tokens, newest first, revoked ones only when asked.
 * - `revoke` is idempotent and sticky; `touch` records use of a live token only.
 * @module
 */
import { Context, Schema } from "effect"
import type { Effect } from "effect"
import { type AlreadyExists, TokenId, type Unavailable } from "@aquifer/core"
import { TokenScope } from "./policy.ts"

export class PlatformToken extends Schema.Class<PlatformToken>("PlatformToken")({
  id: TokenId,
  /** The owner's principal key (`issuer#subject`). */
  owner: Schema.String,
  name: Schema.String,
  scopes: Schema.Array(TokenScope),
  /** SHA-256 (hex) of the secret. Never returned by the HTTP API. */
  secretHash: Schema.String,
  createdAt: Schema.Date,
  expiresAt: Schema.Date,
  lastUsedAt: Schema.optional(Schema.Date),
  revokedAt: Schema.optional(Schema.Date)
}) {}

export class PlatformTokenStore extends Context.Service<PlatformTokenStore, {
  create(token: PlatformToken): Effect.Effect<void, AlreadyExists | Unavailable>
  get(id: TokenId): Effect.Effect<PlatformToken | undefined, Unavailable>
  findBySecretHash(secretHash: string): Effect.Effect<PlatformToken | undefined, Unavailable>
  list(owner: string, options?: { readonly includeRevoked?: boolean | undefined }): Effect.Effect<ReadonlyArray<PlatformToken>, Unavailable>
  /** True when the token was live before. */
  revoke(id: TokenId, at: Date): Effect.Effect<boolean, Unavailable>
  touch(id: TokenId, at: Date): Effect.Effect<void, Unavailable>
}>()("@aquifer/identity/PlatformTokenStore") {}
