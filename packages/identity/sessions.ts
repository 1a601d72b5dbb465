/**
 * Browser sessions, kept server-side in the metadata store so that any replica can serve any
 * request. The cookie holds a 256-bit secret; only its SHA-256 is stored (`secretHash`), so the
 * table alone cannot be replayed as cookies.
 *
 * Promises every implementation keeps:
 * - `create` fails with `AlreadyExists` when the id or the secret hash is taken (never overwrites).
 * - `findBySecretHash` / `get` return the row as stored, revoked or expired ones included: the
 *   use cases (`authenticate.ts`) decide what is still valid, from the `Clock`.
 * - `updateTokens` is optimistic: it applies only when `expectedVersion` is the stored version
 *   and the session is not revoked, and bumps the version; otherwise `Conflict` (another
 *   replica refreshed first: re-read) or `NotFound`.
 * - `touch` moves `lastSeenAt` / `idleExpiresAt` of a live session only; it never conflicts.
 * - `revoke` is idempotent and sticky: a revoked session never becomes valid again.
 * - Only `Unavailable` escapes besides the errors above.
 * @module
 */
import { Context, Schema } from "effect"
import type { Effect, Redacted } from "effect"
import { type AlreadyExists, type Conflict, type NotFound, Principal, SessionId, type Unavailable } from "@aquifer/core"

export class Session extends Schema.Class<Session>("Session")({
  id: SessionId,
  /** SHA-256 (hex) of the cookie secret. */
  secretHash: Schema.String,
  principal: Principal,
  accessToken: Schema.Redacted(Schema.String),
  accessTokenExpiresAt: Schema.Date,
  refreshToken: Schema.optional(Schema.Redacted(Schema.String)),
  idToken: Schema.optional(Schema.Redacted(Schema.String)),
  createdAt: Schema.Date,
  lastSeenAt: Schema.Date,
  /** When the session ends if unused; moved forward by `touch`, never past `absoluteExpiresAt`. */
  idleExpiresAt: Schema.Date,
  /** When the session ends whatever happens. */
  absoluteExpiresAt: Schema.Date,
  revokedAt: Schema.optional(Schema.Date),
  version: Schema.Int
}) {}

/** Fresh tokens (and the principal they vouch for now) after a refresh. */
export interface RefreshedTokens {
  readonly principal: Principal
  readonly accessToken: Redacted.Redacted<string>
  readonly accessTokenExpiresAt: Date
  readonly refreshToken?: Redacted.Redacted<string> | undefined
  readonly idToken?: Redacted.Redacted<string> | undefined
}

export class SessionStore extends Context.Service<SessionStore, {
  create(session: Session): Effect.Effect<void, AlreadyExists | Unavailable>
  get(id: SessionId): Effect.Effect<Session | undefined, Unavailable>
  findBySecretHash(secretHash: string): Effect.Effect<Session | undefined, Unavailable>
  /**
   * Replaces the tokens when the stored version is `expectedVersion`; returns the new row.
   * A token left undefined keeps its stored value (issuers need not rotate refresh tokens).
   */
  updateTokens(id: SessionId, expectedVersion: number, tokens: RefreshedTokens): Effect.Effect<Session, Conflict | NotFound | Unavailable>
  touch(id: SessionId, lastSeenAt: Date, idleExpiresAt: Date): Effect.Effect<void, Unavailable>
  /** Marks the session revoked at `at`; true when it was not revoked before. */
  revoke(id: SessionId, at: Date): Effect.Effect<boolean, Unavailable>
  /** Revokes every live session of a principal (sign out everywhere); returns how many. */
  revokeAllOf(principalKey: string, at: Date): Effect.Effect<number, Unavailable>
  /** Deletes sessions that ended (revoked, idle or absolute expiry) before `before`; returns how many. */
  deleteEnded(before: Date): Effect.Effect<number, Unavailable>
}>()("@aquifer/identity/SessionStore") {}
