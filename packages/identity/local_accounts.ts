/**
 * The accounts of the embedded issuer (all-in-one only): users who sign in with a username and a
 * password on the platform's own sign-in page. The password is stored only as a slow hash
 * computed by the issuer adapter; this port never sees a password.
 *
 * Promises every implementation keeps:
 * - Usernames are unique case-insensitively: they are stored lower-cased, and `create` fails
 *   with `AlreadyExists` on a taken username or subject.
 * - `subject` is minted once and never reused: it is the `sub` of every token the issuer signs.
 * - `setPassword` fails with `NotFound` for an unknown subject.
 * @module
 */
import { Context, Schema } from "effect"
import type { Effect, Redacted } from "effect"
import { type AlreadyExists, type NotFound, Role, type Unavailable } from "@aquifer/core"

/** Lower-case letters, digits, `.`, `_`, `-`, `@`; 1–64 characters. */
export const Username = Schema.String.check(
  Schema.isPattern(/^[a-z0-9][a-z0-9._@-]{0,63}$/, { message: "a username is 1-64 of a-z 0-9 . _ - @, starting with a letter or digit" })
)

export class LocalAccount extends Schema.Class<LocalAccount>("LocalAccount")({
  subject: Schema.String,
  username: Username,
  name: Schema.String,
  email: Schema.optional(Schema.String),
  groups: Schema.Array(Schema.String),
  roles: Schema.Array(Role),
  passwordHash: Schema.Redacted(Schema.String),
  /** Set for a one-time password: the next sign-in must choose a new one. */
  mustChangePassword: Schema.Boolean,
  disabled: Schema.Boolean,
  createdAt: Schema.Date,
  updatedAt: Schema.Date
}) {}

export class LocalAccountStore extends Context.Service<LocalAccountStore, {
  create(account: LocalAccount): Effect.Effect<void, AlreadyExists | Unavailable>
  get(subject: string): Effect.Effect<LocalAccount | undefined, Unavailable>
  findByUsername(username: string): Effect.Effect<LocalAccount | undefined, Unavailable>
  setPassword(subject: string, passwordHash: Redacted.Redacted<string>, mustChangePassword: boolean, at: Date): Effect.Effect<void, NotFound | Unavailable>
  count(): Effect.Effect<number, Unavailable>
}>()("@aquifer/identity/LocalAccountStore") {}
