/**
 * Sign-in attempts between the redirect to the issuer and its callback. Kept server-side (so
 * any replica can finish an attempt another one began) and bound to the browser that began it:
 * the browser holds a random binding in a short-lived cookie and the row holds its SHA-256.
 *
 * Promises every implementation keeps:
 * - `put` fails with `AlreadyExists` when the state is taken.
 * - `take` is atomic and single-use: it returns and deletes the attempt only when both the
 *   state and the binding hash match, so a replayed state finds nothing and a foreign browser
 *   (another binding) neither finishes nor destroys the rightful owner's attempt.
 * - Expired attempts are the caller's to refuse (`expiresAt`), and `deleteExpired` sweeps them.
 * @module
 */
import { Context, Schema } from "effect"
import type { Effect } from "effect"
import type { AlreadyExists, Unavailable } from "@aquifer/core"

export class PendingSignIn extends Schema.Class<PendingSignIn>("PendingSignIn")({
  state: Schema.String,
  /** SHA-256 (hex) of the binding cookie of the browser that began the attempt. */
  bindingHash: Schema.String,
  nonce: Schema.String,
  codeVerifier: Schema.Redacted(Schema.String),
  /** A same-origin relative path to return to after sign-in (already sanitised). */
  returnTo: Schema.String,
  createdAt: Schema.Date,
  expiresAt: Schema.Date
}) {}

export class PendingSignInStore extends Context.Service<PendingSignInStore, {
  put(attempt: PendingSignIn): Effect.Effect<void, AlreadyExists | Unavailable>
  take(state: string, bindingHash: string): Effect.Effect<PendingSignIn | undefined, Unavailable>
  deleteExpired(now: Date): Effect.Effect<number, Unavailable>
}>()("@aquifer/identity/PendingSignInStore") {}
