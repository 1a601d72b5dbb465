import { Effect, Schema } from "effect"
import { decodeCursorAs, encodeCursor, InvalidInput, newAuditEventId, now } from "@aquifer/core"
import { AuditEvent, maxDetailsLength, NewAuditEvent } from "./audit_log.ts"

/** Decodes and stamps a new event; shared by every implementation so they refuse alike. */
export const stamp = Effect.fnUntraced(function*(input: unknown) {
  const event = yield* Schema.decodeUnknownEffect(NewAuditEvent)(input).pipe(
    Effect.mapError((error) => new InvalidInput({ message: `invalid audit event: ${error.message}` }))
  )
  const details = event.details ?? {}
  if (JSON.stringify(details).length > maxDetailsLength) {
    return yield* new InvalidInput({ message: `audit details exceed ${maxDetailsLength} characters`, field: "details" })
  }
  return new AuditEvent({
    id: newAuditEventId(),
    at: yield* now,
    actor: event.actor,
    action: event.action,
    resource: event.resource,
    outcome: event.outcome ?? "success",
    requestId: event.requestId,
    details
  })
})

/** The position of an event in the newest-first order. */
export const AuditCursor = Schema.Struct({ at: Schema.Number, id: Schema.String })
export type AuditCursor = typeof AuditCursor.Type

export const cursorOf = (event: AuditEvent): string => encodeCursor({ at: event.at.getTime(), id: event.id })
export const readCursor = (cursor: string) => decodeCursorAs(AuditCursor, cursor)
