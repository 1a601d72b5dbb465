/**
 * Named secrets and their repository port, `SecretStore`. A secret is a small map of keys to
 * values (`{ user: "…", password: "…" }`) with a name unique in its scope:
 *
 * - `PRIVATE`: the owner's own; injected only into instances the owner runs.
 * - `ALL_USERS`: one shared by the platform (created by an admin); injected into anyone's instances.
 * - `APP`: belongs to one app (by app name); injected only into that app's instances.
 *
 * Values are sealed by the `SecretCipher` before they reach the store: the store keeps only the
 * sealed bytes (and the key names, so lists can show which keys exist). No method of any port
 * returns a value except `SecretService.resolve`, which hands them to the Scheduler, redacted.
 *
 * Promises every `SecretStore` keeps (`@aquifer/secrets/testing`): names are unique per scope
 * (`AlreadyExists`), `update` is conditional on the revision read (`Conflict` when another
 * writer came first), lists are ordered by name then id, values are data, never query syntax.
 * @module
 */
import { AlreadyExists, Conflict, NotFound, SecretId, Unavailable } from "@aquifer/core"
import { Context, type Effect, Schema } from "effect"

/** Who a secret is for. */
export const SecretVisibility = Schema.Literals(["PRIVATE", "ALL_USERS", "APP"])
export type SecretVisibility = typeof SecretVisibility.Type

/** A secret's name: lower-case letters, digits, `-`, `_`, `.`; at most 63 characters. */
export const secretNamePattern = /^[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?$/
/** A key inside a secret: what an env var or a file draws from. */
export const secretKeyPattern = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,126}[A-Za-z0-9])?$/

/** Sealed bytes as the cipher returns them: opaque, with the id of the key that sealed them. */
export const Sealed = Schema.Struct({
  keyId: Schema.String,
  /** Base64 of the cipher's envelope. */
  data: Schema.String
})
export type Sealed = typeof Sealed.Type

/** A secret's metadata: everything but the values. This is what lists and reads return. */
export class Secret extends Schema.Class<Secret>("Secret")({
  id: SecretId,
  name: Schema.String,
  visibility: SecretVisibility,
  /** The creator's principal key. */
  owner: Schema.String,
  /** The app a secret of visibility `APP` belongs to. */
  appName: Schema.optional(Schema.String),
  /** The names of the keys it holds, sorted. */
  keys: Schema.Array(Schema.String),
  revision: Schema.Int,
  createdAt: Schema.Date,
  updatedAt: Schema.Date
}) {}

/** A stored secret: its metadata and its sealed values. */
export interface SecretRecord {
  readonly secret: Secret
  readonly sealed: Sealed
}

/** The scope a name is unique in. */
export interface SecretScope {
  readonly visibility: SecretVisibility
  /** For `PRIVATE`. */
  readonly owner?: string | undefined
  /** For `APP`. */
  readonly appName?: string | undefined
}

export interface SecretQuery {
  readonly owner?: string | undefined
  readonly visibility?: SecretVisibility | undefined
  readonly appName?: string | undefined
}

type Fx<A, E = never> = Effect.Effect<A, E | Unavailable>

export class SecretStore extends Context.Service<SecretStore, {
  /** `AlreadyExists` when the scope has a secret of that name. */
  readonly insert: (record: SecretRecord) => Fx<void, AlreadyExists>
  readonly get: (id: SecretId) => Fx<SecretRecord, NotFound>
  /** The secret of that name in that scope, if any. */
  readonly find: (scope: SecretScope, name: string) => Fx<SecretRecord | undefined>
  /** Metadata of the secrets matching every given filter, by name then id. */
  readonly list: (query: SecretQuery) => Fx<ReadonlyArray<Secret>>
  /**
   * Replaces the values (and key names) when the stored revision is still `expectedRevision`;
   * the stored revision becomes `expectedRevision + 1`. `Conflict` otherwise.
   */
  readonly update: (
    id: SecretId,
    expectedRevision: number,
    change: { readonly keys: ReadonlyArray<string>; readonly sealed: Sealed; readonly updatedAt: Date }
  ) => Fx<Secret, NotFound | Conflict>
  readonly delete: (id: SecretId) => Fx<void, NotFound>
}>()("@aquifer/secrets/SecretStore") {}
