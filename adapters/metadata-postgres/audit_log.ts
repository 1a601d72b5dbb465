import { Effect, Layer } from "effect"
import { AuditEvent, AuditLog, cursorOf, readCursor, stamp } from "@aquifer/audit"
import { pageSize } from "@aquifer/core"
import { Database, orDieSql } from "./database.ts"

interface Row {
  readonly id: string
  readonly at: Date
  readonly actor: string
  readonly action: string
  readonly resource_kind: string
  readonly resource_id: string
  readonly outcome: "success" | "denied" | "failure"
  readonly request_id: string | null
  readonly details: Record<string, string | number | boolean>
}

const fromRow = (row: Row) =>
  new AuditEvent({
    id: row.id as AuditEvent["id"],
    at: row.at,
    actor: row.actor,
    action: row.action,
    resource: { kind: row.resource_kind, id: row.resource_id },
    outcome: row.outcome,
    requestId: row.request_id ?? undefined,
    details: row.details
  }, { disableChecks: true }) // rows were checked when recorded

/** The audit log in the metadata database (table `audit_events`, migration 0001). */
export const layerAuditLog: Layer.Layer<AuditLog, never, Database> = Layer.effect(
  AuditLog,
  Effect.gen(function*() {
    const db = yield* Database
    return AuditLog.of({
      record: Effect.fnUntraced(function*(input) {
        const event = yield* stamp(input)
        yield* orDieSql(db.use((sql) =>
          sql`insert into audit_events
            (id, at, actor, action, resource_kind, resource_id, outcome, request_id, details)
            values (${event.id}, ${event.at}, ${event.actor}, ${event.action}, ${event.resource.kind},
              ${event.resource.id}, ${event.outcome}, ${event.requestId ?? null}, ${sql.json(event.details)})`
        ))
        return event
      }),
      list: Effect.fnUntraced(function*(query) {
        const cursor = query.cursor === undefined ? undefined : yield* readCursor(query.cursor)
        const limit = pageSize(query.limit)
        const rows = yield* orDieSql(db.use((sql) =>
          sql<Array<Row>>`select id, at, actor, action, resource_kind, resource_id, outcome, request_id, details
            from audit_events
            where true
              ${query.actor === undefined ? sql`` : sql`and actor = ${query.actor}`}
              ${query.action === undefined ? sql`` : sql`and action = ${query.action}`}
              ${query.resourceKind === undefined ? sql`` : sql`and resource_kind = ${query.resourceKind}`}
              ${query.resourceId === undefined ? sql`` : sql`and resource_id = ${query.resourceId}`}
              ${query.since === undefined ? sql`` : sql`and at >= ${query.since}`}
              ${query.until === undefined ? sql`` : sql`and at < ${query.until}`}
              ${cursor === undefined ? sql`` : sql`and (at, id) < (${new Date(cursor.at)}, ${cursor.id})`}
            order by at desc, id desc
            limit ${limit + 1}`
        ))
        const items = rows.slice(0, limit).map(fromRow)
        return { items, next: rows.length > limit ? cursorOf(items[items.length - 1]!) : undefined }
      })
    })
  })
)
