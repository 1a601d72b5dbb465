/**
 * Branded identifiers shared by every domain. A brand makes a `UserId` and an `AppId`
 * distinct types although both are strings at runtime; each schema also checks the shape
 * (`<prefix>_<32 hex digits>`), so a decoded id is always safe in a URL path, a label or a log.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { AppId, newAppId } from "@aquifer/core"
 * const id = newAppId() // "app_…", typed AppId
 * const parsed = Schema.decodeUnknownSync(AppId)(id)
 * ```
 * @module
 */
import { Schema } from "effect"

const shape = (prefix: string) =>
  Schema.String.check(
    Schema.isPattern(new RegExp(`^${prefix}_[0-9a-f]{32}$`), {
      message: `expected an id of the form ${prefix}_ followed by 32 hex digits`
    })
  )

/**
 * A fresh random id with the given prefix. Uses the Web Crypto API (global in every runtime
 * Aquifer supports), so domain code stays free of `node:*`.
 */
export const randomId = (prefix: string): string => `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`

/** A user, as known to Aquifer (derived from issuer + subject, never from the e-mail). */
export const UserId = shape("usr").pipe(Schema.brand("UserId"))
export type UserId = typeof UserId.Type
export const newUserId = (): UserId => randomId("usr") as UserId

/** An entry of the audit log. */
export const AuditEventId = shape("aud").pipe(Schema.brand("AuditEventId"))
export type AuditEventId = typeof AuditEventId.Type
export const newAuditEventId = (): AuditEventId => randomId("aud") as AuditEventId

/** A browser session. */
export const SessionId = shape("ses").pipe(Schema.brand("SessionId"))
export type SessionId = typeof SessionId.Type
export const newSessionId = (): SessionId => randomId("ses") as SessionId

/** An app in the App Store. */
export const AppId = shape("app").pipe(Schema.brand("AppId"))
export type AppId = typeof AppId.Type
export const newAppId = (): AppId => randomId("app") as AppId

/** An app instance. */
export const InstanceId = shape("ins").pipe(Schema.brand("InstanceId"))
export type InstanceId = typeof InstanceId.Type
export const newInstanceId = (): InstanceId => randomId("ins") as InstanceId

/** A platform token for the CLI and SDKs. */
export const TokenId = shape("tok").pipe(Schema.brand("TokenId"))
export type TokenId = typeof TokenId.Type
export const newTokenId = (): TokenId => randomId("tok") as TokenId

/** A named secret. */
export const SecretId = shape("sec").pipe(Schema.brand("SecretId"))
export type SecretId = typeof SecretId.Type
export const newSecretId = (): SecretId => randomId("sec") as SecretId
