/**
 * Conformance kits: `storeSuite(name, layer)` for every `SecretStore`, `cipherSuite(name, layer)`
 * for every `SecretCipher`. Each implementation's test calls them in one line.
 * @module
 */
import { assert, describe, layer } from "@effect/vitest"
import { newSecretId, randomId } from "@aquifer/core"
import { Effect, type Layer } from "effect"
import { SecretCipher } from "./cipher.ts"
import { Secret, type SecretRecord, SecretStore } from "./secret.ts"

const at = (seconds: number) => new Date(Date.UTC(2026, 11, 6, 12, 0, seconds))

/** A record with a unique name, owned by `owner`. */
export const sampleRecord = (overrides: Partial<Secret> = {}): SecretRecord => ({
  secret: new Secret({
    id: newSecretId(),
    name: randomId("s").slice(0, 14),
    visibility: "PRIVATE",
    owner: "https://issuer.test#alice",
    keys: ["password", "user"],
    revision: 1,
    createdAt: at(0),
    updatedAt: at(0),
    ...overrides
  }),
  sealed: { keyId: "k1", data: "c2VhbGVk" }
})

export const storeSuite = <E>(name: string, storeLayer: Layer.Layer<SecretStore, E>): void => {
  describe(`SecretStore conformance: ${name}`, () => {
    layer(storeLayer, { timeout: 120_000 })((it) => {
      it.effect("stores and finds a secret by id and by scope + name", () =>
        Effect.gen(function*() {
          const store = yield* SecretStore
          const record = sampleRecord()
          yield* store.insert(record)
          assert.deepStrictEqual(yield* store.get(record.secret.id), record)
          assert.deepStrictEqual(yield* store.find({ visibility: "PRIVATE", owner: record.secret.owner }, record.secret.name), record)
          assert.isUndefined(yield* store.find({ visibility: "PRIVATE", owner: "https://issuer.test#bob" }, record.secret.name))
          assert.isUndefined(yield* store.find({ visibility: "ALL_USERS" }, record.secret.name))
        }))

      it.effect("keeps names unique per scope, not across scopes", () =>
        Effect.gen(function*() {
          const store = yield* SecretStore
          const first = sampleRecord()
          yield* store.insert(first)
          const twin = sampleRecord({ name: first.secret.name })
          assert.strictEqual((yield* Effect.flip(store.insert(twin)))._tag, "AlreadyExists")
          yield* store.insert(sampleRecord({ name: first.secret.name, owner: "https://issuer.test#bob" }))
          yield* store.insert(sampleRecord({ name: first.secret.name, visibility: "ALL_USERS" }))
          const appName = randomId("app").slice(0, 12)
          const app = sampleRecord({ name: first.secret.name, visibility: "APP", appName })
          yield* store.insert(app)
          assert.strictEqual((yield* Effect.flip(store.insert(sampleRecord({ name: first.secret.name, visibility: "APP", appName }))))._tag, "AlreadyExists")
          assert.deepStrictEqual(yield* store.find({ visibility: "APP", appName }, first.secret.name), app)
        }))

      it.effect("updates only from the revision read, and lists metadata by name", () =>
        Effect.gen(function*() {
          const store = yield* SecretStore
          const owner = `https://issuer.test#${randomId("u")}`
          const b = sampleRecord({ owner, name: `b${randomId("n").slice(0, 8)}` })
          const a = sampleRecord({ owner, name: `a${randomId("n").slice(0, 8)}` })
          yield* store.insert(b)
          yield* store.insert(a)
          assert.deepStrictEqual((yield* store.list({ owner })).map((s) => s.id), [a.secret.id, b.secret.id])
          const updated = yield* store.update(a.secret.id, 1, { keys: ["token"], sealed: { keyId: "k2", data: "bmV3" }, updatedAt: at(9) })
          assert.strictEqual(updated.revision, 2)
          assert.deepStrictEqual(updated.keys, ["token"])
          assert.deepStrictEqual((yield* store.get(a.secret.id)).sealed, { keyId: "k2", data: "bmV3" })
          const stale = yield* Effect.flip(store.update(a.secret.id, 1, { keys: ["x"], sealed: { keyId: "k3", data: "eA==" }, updatedAt: at(10) }))
          assert.strictEqual(stale._tag, "Conflict")
          assert.deepStrictEqual((yield* store.get(a.secret.id)).secret.keys, ["token"])
        }))

      it.effect("deletes, then says NotFound; treats names as data", () =>
        Effect.gen(function*() {
          const store = yield* SecretStore
          const record = sampleRecord()
          yield* store.insert(record)
          yield* store.delete(record.secret.id)
          assert.strictEqual((yield* Effect.flip(store.get(record.secret.id)))._tag, "NotFound")
          assert.strictEqual((yield* Effect.flip(store.delete(record.secret.id)))._tag, "NotFound")
          assert.isUndefined(yield* store.find({ visibility: "ALL_USERS" }, "' OR '1'='1"))
        }))
    })
  })
}

export const cipherSuite = <E>(name: string, cipherLayer: Layer.Layer<SecretCipher, E>): void => {
  describe(`SecretCipher conformance: ${name}`, () => {
    layer(cipherLayer, { timeout: 60_000 })((it) => {
      const bytes = (text: string) => new TextEncoder().encode(text)

      it.effect("opens what it sealed, and never seals the same way twice", () =>
        Effect.gen(function*() {
          const cipher = yield* SecretCipher
          const plain = bytes("pässwörd ✓ 日本")
          const one = yield* cipher.seal(plain, "sec_1")
          const two = yield* cipher.seal(plain, "sec_1")
          assert.notStrictEqual(one.data, two.data)
          assert.isFalse(one.data.includes("pässwörd"))
          assert.deepStrictEqual(yield* cipher.open(one, "sec_1"), plain)
          assert.deepStrictEqual(yield* cipher.open(two, "sec_1"), plain)
          assert.deepStrictEqual(yield* cipher.open(yield* cipher.seal(new Uint8Array(0), "c"), "c"), new Uint8Array(0))
        }))

      it.effect("refuses a tampered envelope, another context and an unknown key", () =>
        Effect.gen(function*() {
          const cipher = yield* SecretCipher
          const sealed = yield* cipher.seal(bytes("top secret"), "sec_a")
          assert.strictEqual((yield* Effect.flip(cipher.open(sealed, "sec_b")))._tag, "SecretCipherError")
          const raw = Uint8Array.from(atob(sealed.data), (c) => c.charCodeAt(0))
          for (const index of [0, Math.floor(raw.length / 2), raw.length - 1]) {
            const changed = raw.slice()
            changed[index] = changed[index]! ^ 0x01
            let text = ""
            for (const byte of changed) text += String.fromCharCode(byte)
            const error = yield* Effect.flip(cipher.open({ ...sealed, data: btoa(text) }, "sec_a"))
            assert.strictEqual(error._tag, "SecretCipherError")
            assert.isFalse(error.message.includes("top secret"))
          }
          assert.strictEqual((yield* Effect.flip(cipher.open({ ...sealed, data: "AAAA" }, "sec_a")))._tag, "SecretCipherError")
          assert.strictEqual((yield* Effect.flip(cipher.open({ ...sealed, keyId: "nobody" }, "sec_a")))._tag, "SecretCipherError")
        }))
    })
  })
}
