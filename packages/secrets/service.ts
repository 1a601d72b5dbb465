/**
 * Secret use cases: create, update, delete, list and read metadata, each authorized through the
 * identity policy; and `resolveSecrets`, which turns an app's `[[Env]]`/`[[File]]` secret
 * references into Scheduler secret refs and redacted material for one launch.
 *
 * Values enter only through `createSecret`/`updateSecret` and leave only through
 * `resolveSecrets`, as `Redacted` values (a log line shows `<redacted>`).
 *
 * @example
 * ```ts
 * import { createSecret } from "@aquifer/secrets"
 * const program = createSecret(caller, { name: "warehouse", visibility: "PRIVATE", data: { password: "s3cret" } })
 * ```
 * @module
 */
import { Conflict, Forbidden, InvalidInput, newSecretId, NotFound, now, type SecretId, Unauthenticated, type Unavailable } from "@aquifer/core"
import { authorize, authorizeOrHide, can, type Caller } from "@aquifer/identity"
import { Effect, Redacted, Schema } from "effect"
import { SecretCipher, type SecretCipherError } from "./cipher.ts"
import {
  Secret,
  secretKeyPattern,
  secretNamePattern,
  type SecretRecord,
  type SecretScope,
  SecretStore,
  type SecretVisibility
} from "./secret.ts"

/** A secret an app needs is not there, and the reference is not optional. */
export class MissingSecret extends Schema.TaggedError<MissingSecret>()("MissingSecret", {
  message: Schema.String,
  secret: Schema.String,
  key: Schema.String
}) {}

export const maxKeys = 64
export const maxValueBytes = 64 * 1024
export const maxTotalBytes = 256 * 1024

const encoder = new TextEncoder()

const checkData = (data: unknown): Effect.Effect<Record<string, string>, InvalidInput> =>
  Effect.suspend(() => {
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
      return Effect.fail(new InvalidInput({ message: "data must be an object of key → string value", field: "data" }))
    }
    const entries = Object.entries(data as Record<string, unknown>)
    if (entries.length === 0) return Effect.fail(new InvalidInput({ message: "a secret needs at least one key", field: "data" }))
    if (entries.length > maxKeys) return Effect.fail(new InvalidInput({ message: `a secret holds at most ${maxKeys} keys`, field: "data" }))
    let total = 0
    for (const [key, value] of entries) {
      if (!secretKeyPattern.test(key)) {
        return Effect.fail(new InvalidInput({ message: `key ${JSON.stringify(key)} is not a valid secret key (letters, digits, -, _, .)`, field: `data.${key}` }))
      }
      if (typeof value !== "string") return Effect.fail(new InvalidInput({ message: `the value of ${key} must be a string`, field: `data.${key}` }))
      const size = encoder.encode(value).length
      if (size > maxValueBytes) return Effect.fail(new InvalidInput({ message: `the value of ${key} exceeds ${maxValueBytes} bytes`, field: `data.${key}` }))
      total += size
    }
    if (total > maxTotalBytes) return Effect.fail(new InvalidInput({ message: `a secret holds at most ${maxTotalBytes} bytes`, field: "data" }))
    return Effect.succeed(Object.fromEntries(entries) as Record<string, string>)
  })

const ref = (secret: Secret) => ({ kind: "secret" as const, id: secret.id, owner: secret.owner })

export interface NewSecret {
  readonly name: string
  readonly visibility: SecretVisibility
  /** Required for `APP`. */
  readonly appName?: string | undefined
  readonly data: Readonly<Record<string, string>>
}

export interface CreateOptions {
  /**
   * For `APP` secrets: succeeds when the caller may manage that app. The app layer supplies it
   * (the secrets domain does not know apps).
   */
  readonly appAccess?: Effect.Effect<void, Forbidden | NotFound | Unauthenticated | Unavailable | InvalidInput> | undefined
}

/** Creates a secret. `ALL_USERS` secrets need an admin; `APP` secrets, a manager of the app. */
export const createSecret = Effect.fnUntraced(function*(caller: Caller, input: NewSecret, options: CreateOptions = {}) {
  yield* authorize(caller, "create", { kind: "secret" })
  if (typeof input.name !== "string" || !secretNamePattern.test(input.name)) {
    return yield* new InvalidInput({ message: "name must be 1–63 lower-case letters, digits, -, _ or ., starting and ending with a letter or digit", field: "name" })
  }
  if (input.visibility === "ALL_USERS") yield* authorize(caller, "administer", { kind: "platform" })
  if (input.visibility === "APP") {
    if (input.appName === undefined || input.appName === "") return yield* new InvalidInput({ message: "an APP secret names its app", field: "appName" })
    if (options.appAccess === undefined) return yield* new Forbidden({ message: "you may not create secrets for this app" })
    yield* options.appAccess
  } else if (input.appName !== undefined) {
    return yield* new InvalidInput({ message: "appName is only for APP secrets", field: "appName" })
  }
  const data = yield* checkData(input.data)
  const store = yield* SecretStore
  const cipher = yield* SecretCipher
  const id = newSecretId()
  const at = yield* now
  const sealed = yield* cipher.seal(encoder.encode(JSON.stringify(data)), id)
  const secret = new Secret({
    id,
    name: input.name,
    visibility: input.visibility,
    owner: caller.principal.key,
    appName: input.visibility === "APP" ? input.appName : undefined,
    keys: Object.keys(data).sort(),
    revision: 1,
    createdAt: at,
    updatedAt: at
  })
  yield* store.insert({ secret, sealed })
  return secret
})

/** The metadata of one secret the caller may read; `NotFound` for any other. */
export const getSecret = Effect.fnUntraced(function*(caller: Caller, id: SecretId) {
  const store = yield* SecretStore
  const record = yield* store.get(id)
  yield* authorizeOrHide(caller, "read", ref(record.secret))
  return record.secret
})

/** Metadata of every secret the caller may read (values never). */
export const listSecrets = Effect.fnUntraced(function*(caller: Caller, query: { readonly visibility?: SecretVisibility; readonly appName?: string } = {}) {
  const store = yield* SecretStore
  const all = yield* store.list({ ...query, owner: caller.principal.isAdmin ? undefined : caller.principal.key })
  return all.filter((secret) => can(caller, "read", ref(secret)))
})

/** Replaces the values of a secret; with `revision`, only if nobody changed it since. */
export const updateSecret = Effect.fnUntraced(function*(
  caller: Caller,
  id: SecretId,
  input: { readonly data: Readonly<Record<string, string>>; readonly revision?: number | undefined }
) {
  const store = yield* SecretStore
  const cipher = yield* SecretCipher
  const record = yield* store.get(id)
  yield* authorizeOrHide(caller, "update", ref(record.secret))
  const data = yield* checkData(input.data)
  const sealed = yield* cipher.seal(encoder.encode(JSON.stringify(data)), id)
  return yield* store.update(id, input.revision ?? record.secret.revision, { keys: Object.keys(data).sort(), sealed, updatedAt: yield* now })
})

/**
 * Deletes a secret unless `inUse` (supplied by the app layer: any instance referring to it)
 * says it is used, in which case nothing changes and the error names the users.
 */
export const deleteSecret = Effect.fnUntraced(function*<E, R>(
  caller: Caller,
  id: SecretId,
  inUse: (secret: Secret) => Effect.Effect<ReadonlyArray<string>, E, R>
) {
  const store = yield* SecretStore
  const record = yield* store.get(id)
  yield* authorizeOrHide(caller, "delete", ref(record.secret))
  const users = yield* inUse(record.secret)
  if (users.length > 0) {
    return yield* new Conflict({
      message: `secret ${record.secret.name} is in use by ${users.slice(0, 5).join(", ")}${users.length > 5 ? ` and ${users.length - 5} more` : ""}; terminate them first`
    })
  }
  yield* store.delete(id)
})

/** One secret reference of an app: `[[Env]]` (env) or `[[File]]` (file). */
export interface SecretRequest {
  readonly secret: string
  readonly key: string
  readonly optional: boolean
  readonly env?: string | undefined
  readonly file?: string | undefined
  /** Where the reference came from, for messages (`Env DB_PASSWORD`). */
  readonly origin: string
}

/** Scheduler secret refs (by secret id) and the redacted values they need. */
export interface ResolvedSecrets {
  readonly refs: ReadonlyArray<{ readonly secret: string; readonly key: string; readonly env?: string | undefined; readonly file?: string | undefined }>
  readonly material: { readonly [secretId: string]: { readonly [key: string]: Redacted.Redacted<string> } }
  /** Optional references that were not found (and so not injected). */
  readonly skipped: ReadonlyArray<string>
}

/**
 * Finds each referenced secret for an instance of `appName` owned by `owner` — the app's own
 * `APP` secret first, then the owner's `PRIVATE` one, then an `ALL_USERS` one — and decrypts
 * the keys needed. A missing non-optional secret or key fails with `MissingSecret`, naming it.
 */
export const resolveSecrets = Effect.fnUntraced(function*(input: {
  readonly appName: string
  readonly owner: string
  readonly requests: ReadonlyArray<SecretRequest>
}) {
  const store = yield* SecretStore
  const cipher = yield* SecretCipher
  const scopes: ReadonlyArray<SecretScope> = [
    { visibility: "APP", appName: input.appName },
    { visibility: "PRIVATE", owner: input.owner },
    { visibility: "ALL_USERS" }
  ]
  const opened = new Map<string, { record: SecretRecord; values: Record<string, string> } | undefined>()
  const refs: Array<ResolvedSecrets["refs"][number]> = []
  const material: Record<string, Record<string, Redacted.Redacted<string>>> = {}
  const skipped: Array<string> = []
  for (const request of input.requests) {
    if (!opened.has(request.secret)) {
      let found: SecretRecord | undefined
      for (const scope of scopes) {
        found = yield* store.find(scope, request.secret)
        if (found !== undefined) break
      }
      if (found === undefined) opened.set(request.secret, undefined)
      else {
        const bytes = yield* cipher.open(found.sealed, found.secret.id)
        opened.set(request.secret, { record: found, values: JSON.parse(new TextDecoder().decode(bytes)) as Record<string, string> })
      }
    }
    const entry = opened.get(request.secret)
    const value = entry?.values[request.key]
    if (entry === undefined || value === undefined) {
      if (request.optional) {
        skipped.push(request.origin)
        continue
      }
      return yield* new MissingSecret({
        secret: request.secret,
        key: request.key,
        message: entry === undefined
          ? `${request.origin} needs secret "${request.secret}", which does not exist for this app or its user: create it (visibility APP for app ${input.appName}, or PRIVATE) before launching`
          : `${request.origin} needs key "${request.key}" of secret "${request.secret}", which has only ${entry.record.secret.keys.join(", ")}`
      })
    }
    const id = entry.record.secret.id
    refs.push({ secret: id, key: request.key, env: request.env, file: request.file })
    material[id] = { ...material[id], [request.key]: Redacted.make(value) }
  }
  return { refs, material, skipped } satisfies ResolvedSecrets
})

export type SecretServiceError = Conflict | InvalidInput | Forbidden | NotFound | Unauthenticated | Unavailable | SecretCipherError | MissingSecret
