/**
 * The user directory: every principal Aquifer has seen, keyed by issuer + subject (never by
 * e-mail: two accounts sharing an address stay two users). It gives each one a stable `UserId`
 * and keeps the latest name, e-mail, groups and roles the issuer vouched for, which is what a
 * platform token acts as.
 *
 * Promises every implementation keeps:
 * - `record` upserts by (issuer, subject): the first call mints the id and `createdAt`, later
 *   calls keep both and replace the attributes and `lastSeenAt`. Concurrent first calls for
 *   one principal end with one user.
 * - `get` finds by principal key (`issuer#subject`) and returns undefined when unknown.
 * @module
 */
import { Context, Schema } from "effect"
import type { Effect } from "effect"
import { Principal, Role, UserId, type Unavailable } from "@aquifer/core"

export class User extends Schema.Class<User>("User")({
  id: UserId,
  issuer: Schema.String,
  subject: Schema.String,
  name: Schema.String,
  email: Schema.optional(Schema.String),
  groups: Schema.Array(Schema.String),
  roles: Schema.Array(Role),
  createdAt: Schema.Date,
  lastSeenAt: Schema.Date
}) {
  get key(): string {
    return `${this.issuer}#${this.subject}`
  }
  get principal(): Principal {
    return Principal.make({
      issuer: this.issuer,
      subject: this.subject,
      name: this.name,
      email: this.email,
      groups: this.groups,
      roles: this.roles
    })
  }
}

export class UserDirectory extends Context.Service<UserDirectory, {
  record(principal: Principal, at: Date): Effect.Effect<User, Unavailable>
  get(principalKey: string): Effect.Effect<User | undefined, Unavailable>
}>()("@aquifer/identity/UserDirectory") {}
