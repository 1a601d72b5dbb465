/**
 * In-memory `SecretStore` and `SecretCipher` for unit tests; both pass the conformance kits.
 * The memory cipher is real AES-256-GCM (Web Crypto) with a key made per layer.
 * @module
 */
import { AlreadyExists, Conflict, NotFound } from "@aquifer/core"
import { Effect, Layer, Result } from "effect"
import { Base64 } from "effect/encoding"
import { SecretCipher, SecretCipherError } from "./cipher.ts"
import { Secret, type SecretRecord, type SecretScope, SecretStore } from "./secret.ts"

const scopeKey = (scope: SecretScope, name: string) =>
  JSON.stringify([scope.visibility, scope.visibility === "PRIVATE" ? scope.owner : scope.visibility === "APP" ? scope.appName : "", name])

const scopeOf = (secret: Secret): SecretScope => ({ visibility: secret.visibility, owner: secret.owner, appName: secret.appName })

/** A fresh, empty in-memory secret store. */
export const layerStoreMemory: Layer.Layer<SecretStore> = Layer.sync(SecretStore, () => {
  const records = new Map<string, SecretRecord>()
  const get = (id: string) => {
    const record = records.get(id)
    return record === undefined ? Effect.fail(new NotFound({ resource: "secret", id })) : Effect.succeed(record)
  }
  return SecretStore.of({
    insert: (record) =>
      Effect.suspend(() => {
        const key = scopeKey(scopeOf(record.secret), record.secret.name)
        if ([...records.values()].some((r) => scopeKey(scopeOf(r.secret), r.secret.name) === key)) {
          return Effect.fail(new AlreadyExists({ resource: "secret", id: record.secret.name }))
        }
        records.set(record.secret.id, record)
        return Effect.void
      }),
    get,
    find: (scope, name) =>
      Effect.sync(() => [...records.values()].find((r) => scopeKey(scopeOf(r.secret), r.secret.name) === scopeKey(scope, name))),
    list: (query) =>
      Effect.sync(() =>
        [...records.values()]
          .map((r) => r.secret)
          .filter((s) => query.owner === undefined || s.owner === query.owner)
          .filter((s) => query.visibility === undefined || s.visibility === query.visibility)
          .filter((s) => query.appName === undefined || s.appName === query.appName)
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1))
      ),
    update: (id, expectedRevision, change) =>
      Effect.flatMap(get(id), (record) => {
        if (record.secret.revision !== expectedRevision) {
          return Effect.fail(new Conflict({ message: `secret ${record.secret.name} changed meanwhile; read it again` }))
        }
        const secret = new Secret({ ...record.secret, keys: [...change.keys], revision: expectedRevision + 1, updatedAt: change.updatedAt })
        records.set(id, { secret, sealed: change.sealed })
        return Effect.succeed(secret)
      }),
    delete: (id) => Effect.map(get(id), () => void records.delete(id))
  })
})

const toBase64 = (bytes: Uint8Array) => Base64.encode(bytes)
const fromBase64 = (text: string) => new Uint8Array(Result.getOrThrow(Base64.decode(text)))

/** An AES-256-GCM cipher with a random key held in memory (lost with the layer). */
export const layerCipherMemory: Layer.Layer<SecretCipher> = Layer.effect(
  SecretCipher,
  Effect.gen(function*() {
    const key = yield* Effect.promise(() => crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]))
    const keyId = `memory-${crypto.randomUUID().slice(0, 8)}`
    return SecretCipher.of({
      seal: (plaintext, context) =>
        Effect.tryPromise({
          try: async () => {
            const iv = crypto.getRandomValues(new Uint8Array(12))
            const data = new Uint8Array(
              await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: new TextEncoder().encode(context) }, key, plaintext as Uint8Array<ArrayBuffer>)
            )
            const envelope = new Uint8Array(iv.length + data.length)
            envelope.set(iv)
            envelope.set(data, iv.length)
            return { keyId, data: toBase64(envelope) }
          },
          catch: () => new SecretCipherError({ message: "could not seal the secret" })
        }),
      open: (sealed, context) =>
        Effect.tryPromise({
          try: async () => {
            if (sealed.keyId !== keyId) throw new Error("unknown key")
            const envelope = fromBase64(sealed.data)
            return new Uint8Array(
              await crypto.subtle.decrypt(
                { name: "AES-GCM", iv: envelope.subarray(0, 12), additionalData: new TextEncoder().encode(context) },
                key,
                envelope.subarray(12)
              )
            )
          },
          catch: () => new SecretCipherError({ message: "the secret could not be decrypted (tampered, moved, or sealed with a key not configured here)" })
        })
    })
  })
)
