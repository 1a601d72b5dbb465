/**
 * The audit log: an append-only record of who did what to which resource, and how it ended.
 * It is the reference metadata repository: a port here, `layerMemory` beside it, the SQL
 * implementation in `adapters/metadata-postgres`, and one conformance kit (`testing.ts`) that
 * both pass. Every other domain repository follows this shape.
 *
 * Promises every implementation keeps:
 * - `record` is durable when it succeeds; events are never updated or deleted through the port.
 * - Time comes from Effect's `Clock` (so `TestClock` controls it), never from the database.
 * - `list` returns newest first, ordered by (`at`, `id`) descending, so pages are stable while
 *   new events arrive: walking `next` cursors visits every event that existed when the walk
 *   began exactly once.
 * - A cursor not minted by `list` fails with `InvalidInput`; a backend that cannot be reached
 *   fails with `Unavailable`. Nothing else escapes.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { AuditLog } from "@aquifer/audit"
 * const program = Effect.gen(function*() {
 *   const audit = yield* AuditLog
 *   yield* audit.record({ actor: "system", action: "platform.started", resource: { kind: "platform", id: "aquifer" } })
 *   const page = yield* audit.list({ action: "platform.started", limit: 10 })
 * })
 * ```
 * @module
 */
import { Context, Schema } from "effect"
import type { Effect } from "effect"
import { AuditEventId, InvalidInput, Unavailable, type Page } from "@aquifer/core"

/** How an audited action ended. */
export const AuditOutcome = Schema.Literals(["success", "denied", "failure"])
export type AuditOutcome = typeof AuditOutcome.Type

/** A detail value: scalars only, so events stay small and searchable. */
export const AuditDetail = Schema.Union([Schema.String, Schema.Number, Schema.Boolean])

const maxText = (max: number) => Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(max))

/** What a caller records. The id and time are assigned by the log. */
export const NewAuditEvent = Schema.Struct({
  /** A principal key (`issuer#subject`) or `system`. */
  actor: maxText(512),
  /** A dotted verb, e.g. `app.import`, `instance.launch`, `platform.started`. */
  action: maxText(128).check(Schema.isPattern(/^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$/)),
  resource: Schema.Struct({ kind: maxText(64), id: maxText(256) }),
  outcome: Schema.optional(AuditOutcome),
  requestId: Schema.optional(Schema.String.check(Schema.isMaxLength(128))),
  details: Schema.optional(Schema.Record(Schema.String, AuditDetail))
})
export type NewAuditEvent = typeof NewAuditEvent.Type

/** A recorded event. */
export class AuditEvent extends Schema.Class<AuditEvent>("AuditEvent")({
  id: AuditEventId,
  at: Schema.Date,
  actor: Schema.String,
  action: Schema.String,
  resource: Schema.Struct({ kind: Schema.String, id: Schema.String }),
  outcome: AuditOutcome,
  requestId: Schema.optional(Schema.String),
  details: Schema.Record(Schema.String, AuditDetail)
}) {}

/** Filters for {@link AuditLog.list}; all optional, combined with AND. */
export interface AuditQuery {
  readonly actor?: string | undefined
  readonly action?: string | undefined
  readonly resourceKind?: string | undefined
  readonly resourceId?: string | undefined
  /** Inclusive lower bound on `at`. */
  readonly since?: Date | undefined
  /** Exclusive upper bound on `at`. */
  readonly until?: Date | undefined
  readonly limit?: number | undefined
  readonly cursor?: string | undefined
}

/** The largest serialised `details` accepted, in UTF-16 code units of its JSON. */
export const maxDetailsLength = 8192

export class AuditLog extends Context.Service<AuditLog, {
  /**
   * Appends an event stamped with the current `Clock` time and a fresh id.
   * Fails with `InvalidInput` when the event does not decode or its details exceed
   * {@link maxDetailsLength}; with `Unavailable` when the backend cannot be reached.
   */
  record(event: NewAuditEvent): Effect.Effect<AuditEvent, InvalidInput | Unavailable>
  /** One page of events matching `query`, newest first. */
  list(query: AuditQuery): Effect.Effect<Page<AuditEvent>, InvalidInput | Unavailable>
}>()("@aquifer/audit/AuditLog") {}
