/**
 * What the embedded OpenID Provider keeps between requests — its signing keys, cookie keys,
 * sign-in interactions, issuer sessions, grants, authorization codes and refresh tokens — as
 * records of a kind, an id and a JSON payload. Kept in the metadata store so a restart of the
 * all-in-one neither invalidates the tokens it issued nor signs everybody out.
 *
 * Promises every implementation keeps:
 * - `put` inserts or replaces the record of (`kind`, `id`); a record whose `expiresAt` has passed
 *   is never returned by the finders (the caller's clock decides, passed as `now`).
 * - `consume` marks a record consumed at `at` (single-use codes): the payload is kept and a
 *   later `get` shows `consumedAt`. It returns false when there was nothing live to consume.
 * - `deleteGrant` removes every record of any kind carrying that grant id (revoking a grant
 *   revokes its codes and tokens at once).
 * @module
 */
import { Context, Schema } from "effect"
import type { Effect } from "effect"
import type { Unavailable } from "@aquifer/core"

export class IssuerRecord extends Schema.Class<IssuerRecord>("IssuerRecord")({
  kind: Schema.String,
  id: Schema.String,
  payload: Schema.Record(Schema.String, Schema.Unknown),
  grantId: Schema.optional(Schema.String),
  uid: Schema.optional(Schema.String),
  userCode: Schema.optional(Schema.String),
  expiresAt: Schema.optional(Schema.Date),
  consumedAt: Schema.optional(Schema.Date)
}) {}

export class IssuerStateStore extends Context.Service<IssuerStateStore, {
  put(record: IssuerRecord): Effect.Effect<void, Unavailable>
  get(kind: string, id: string, now: Date): Effect.Effect<IssuerRecord | undefined, Unavailable>
  findByUid(kind: string, uid: string, now: Date): Effect.Effect<IssuerRecord | undefined, Unavailable>
  findByUserCode(kind: string, userCode: string, now: Date): Effect.Effect<IssuerRecord | undefined, Unavailable>
  consume(kind: string, id: string, at: Date): Effect.Effect<boolean, Unavailable>
  delete(kind: string, id: string): Effect.Effect<void, Unavailable>
  deleteGrant(grantId: string): Effect.Effect<number, Unavailable>
  deleteExpired(now: Date): Effect.Effect<number, Unavailable>
}>()("@aquifer/identity/IssuerStateStore") {}
