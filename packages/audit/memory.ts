import { Effect, Layer } from "effect"
import { pageSize } from "@aquifer/core"
import { type AuditEvent, AuditLog, type AuditQuery } from "./audit_log.ts"
import { type AuditCursor, cursorOf, readCursor, stamp } from "./_shared.ts"

const newestFirst = (a: AuditEvent, b: AuditEvent) =>
  b.at.getTime() - a.at.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

const before = (event: AuditEvent, cursor: AuditCursor) =>
  event.at.getTime() < cursor.at || (event.at.getTime() === cursor.at && event.id < cursor.id)

const matches = (event: AuditEvent, query: AuditQuery) =>
  (query.actor === undefined || event.actor === query.actor) &&
  (query.action === undefined || event.action === query.action) &&
  (query.resourceKind === undefined || event.resource.kind === query.resourceKind) &&
  (query.resourceId === undefined || event.resource.id === query.resourceId) &&
  (query.since === undefined || event.at.getTime() >= query.since.getTime()) &&
  (query.until === undefined || event.at.getTime() < query.until.getTime())

/** An in-memory audit log, for unit tests and single-process experiments. Passes the kit. */
export const layerMemory: Layer.Layer<AuditLog> = Layer.sync(AuditLog, () => {
  const events: Array<AuditEvent> = []
  return AuditLog.of({
    record: (input) =>
      Effect.map(stamp(input), (event) => {
        events.push(event)
        return event
      }),
    list: Effect.fnUntraced(function*(query) {
      const cursor = query.cursor === undefined ? undefined : yield* readCursor(query.cursor)
      const limit = pageSize(query.limit)
      const sorted = events
        .filter((event) => matches(event, query) && (cursor === undefined || before(event, cursor)))
        .sort(newestFirst)
      const items = sorted.slice(0, limit)
      return { items, next: sorted.length > limit ? cursorOf(items[items.length - 1]!) : undefined }
    })
  })
})
