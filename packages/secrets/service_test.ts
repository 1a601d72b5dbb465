import { assert, describe, it } from "@effect/vitest"
import { Forbidden, Principal } from "@aquifer/core"
import { Effect, Layer, Redacted } from "effect"
import { layerCipherMemory, layerStoreMemory } from "./memory.ts"
import { SecretStore } from "./secret.ts"
import { createSecret, deleteSecret, getSecret, listSecrets, resolveSecrets, updateSecret } from "./service.ts"

const person = (subject: string, roles: ReadonlyArray<"admin" | "full" | "visitor">) => ({
  principal: Principal.make({ issuer: "https://id.test", subject, name: subject, groups: [], roles: [...roles] })
})
const alice = person("alice", ["full"])
const bob = person("bob", ["full"])
const admin = person("root", ["admin"])
const visitor = person("vera", ["visitor"])
const services = Layer.mergeAll(layerStoreMemory, layerCipherMemory)

describe("secret use cases", () => {
  it.effect("creates, lists and updates without ever returning or storing a value in clear", () =>
    Effect.gen(function*() {
      const secret = yield* createSecret(alice, { name: "warehouse", visibility: "PRIVATE", data: { user: "ds", password: "hunter2" } })
      assert.deepStrictEqual(secret.keys, ["password", "user"])
      assert.isFalse(JSON.stringify(secret).includes("hunter2"))
      const stored = yield* (yield* SecretStore).get(secret.id)
      assert.isFalse(JSON.stringify(stored).includes("hunter2"))
      assert.isFalse(atob(stored.sealed.data).includes("hunter2"))
      const listed = yield* listSecrets(alice)
      assert.deepStrictEqual(listed.map((s) => s.name), ["warehouse"])
      assert.isFalse(JSON.stringify(listed).includes("hunter2"))
      assert.deepStrictEqual(yield* listSecrets(bob), [])
      assert.strictEqual((yield* Effect.flip(getSecret(bob, secret.id)))._tag, "NotFound")
      const updated = yield* updateSecret(alice, secret.id, { data: { password: "correct horse" } })
      assert.strictEqual(updated.revision, 2)
      const stale = yield* Effect.flip(updateSecret(alice, secret.id, { data: { password: "x" }, revision: 1 }))
      assert.strictEqual(stale._tag, "Conflict")
      assert.strictEqual((yield* Effect.flip(updateSecret(bob, secret.id, { data: { password: "x" } })))._tag, "NotFound")
    }).pipe(Effect.provide(services)))

  it.effect("refuses visitors, bad names and keys, and ALL_USERS secrets from non-admins", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* Effect.flip(createSecret(visitor, { name: "v", visibility: "PRIVATE", data: { a: "b" } })))._tag, "Forbidden")
      for (const name of ["Upper", "-x", "a/b", "", "x".repeat(64)]) {
        const error = yield* Effect.flip(createSecret(alice, { name, visibility: "PRIVATE", data: { a: "b" } }))
        assert.strictEqual(error._tag, "InvalidInput", name)
      }
      const badKey = yield* Effect.flip(createSecret(alice, { name: "k", visibility: "PRIVATE", data: { "../x": "b" } }))
      assert.strictEqual(badKey._tag, "InvalidInput")
      assert.strictEqual((yield* Effect.flip(createSecret(alice, { name: "k", visibility: "PRIVATE", data: {} })))._tag, "InvalidInput")
      assert.strictEqual((yield* Effect.flip(createSecret(alice, { name: "shared", visibility: "ALL_USERS", data: { a: "b" } })))._tag, "Forbidden")
      yield* createSecret(admin, { name: "shared", visibility: "ALL_USERS", data: { a: "b" } })
      const noApp = yield* Effect.flip(createSecret(alice, { name: "appsec", visibility: "APP", appName: "demo", data: { a: "b" } }))
      assert.strictEqual(noApp._tag, "Forbidden")
      const denied = yield* Effect.flip(
        createSecret(alice, { name: "appsec", visibility: "APP", appName: "demo", data: { a: "b" } }, { appAccess: Effect.fail(new Forbidden({ message: "not your app" })) })
      )
      assert.strictEqual(denied._tag, "Forbidden")
      yield* createSecret(alice, { name: "appsec", visibility: "APP", appName: "demo", data: { a: "b" } }, { appAccess: Effect.void })
    }).pipe(Effect.provide(services)))

  it.effect("resolves APP before PRIVATE before ALL_USERS, skips optional ones and names what is missing", () =>
    Effect.gen(function*() {
      yield* createSecret(admin, { name: "db", visibility: "ALL_USERS", data: { password: "shared" } })
      yield* createSecret(admin, { name: "api", visibility: "ALL_USERS", data: { token: "shared-token" } })
      const mine = yield* createSecret(alice, { name: "db", visibility: "PRIVATE", data: { password: "alice-own" } })
      const app = yield* createSecret(alice, { name: "api", visibility: "APP", appName: "demo", data: { token: "app-token" } }, { appAccess: Effect.void })
      const resolved = yield* resolveSecrets({
        appName: "demo",
        owner: alice.principal.key,
        requests: [
          { secret: "db", key: "password", optional: false, env: "DB_PASSWORD", origin: "Env DB_PASSWORD" },
          { secret: "api", key: "token", optional: false, file: "etc/token", origin: "File /etc/token" },
          { secret: "nope", key: "x", optional: true, env: "OPT", origin: "Env OPT" }
        ]
      })
      assert.deepStrictEqual(resolved.refs.map((r) => r.secret), [mine.id, app.id])
      assert.strictEqual(Redacted.value(resolved.material[mine.id]!.password!), "alice-own")
      assert.strictEqual(Redacted.value(resolved.material[app.id]!.token!), "app-token")
      assert.deepStrictEqual(resolved.skipped, ["Env OPT"])
      assert.isFalse(String(resolved.material[mine.id]!.password).includes("alice-own"))
      const forBob = yield* resolveSecrets({ appName: "other", owner: bob.principal.key, requests: [{ secret: "db", key: "password", optional: false, env: "P", origin: "Env P" }] })
      assert.strictEqual(Redacted.value(Object.values(forBob.material)[0]!.password!), "shared")
      const missing = yield* Effect.flip(resolveSecrets({ appName: "demo", owner: bob.principal.key, requests: [{ secret: "absent", key: "k", optional: false, env: "K", origin: "Env K" }] }))
      assert.strictEqual(missing._tag, "MissingSecret")
      assert.match(missing.message, /Env K needs secret "absent"/)
      const noKey = yield* Effect.flip(resolveSecrets({ appName: "demo", owner: alice.principal.key, requests: [{ secret: "db", key: "user", optional: false, env: "U", origin: "Env U" }] }))
      assert.match(noKey.message, /key "user"/)
    }).pipe(Effect.provide(services)))

  it.effect("does not delete a secret in use, and lets only its owner or an admin delete it", () =>
    Effect.gen(function*() {
      const secret = yield* createSecret(alice, { name: "busy", visibility: "PRIVATE", data: { a: "b" } })
      const busy = yield* Effect.flip(deleteSecret(alice, secret.id, () => Effect.succeed(["instance ins_1"])))
      assert.match(busy.message, /in use by instance ins_1/)
      assert.strictEqual((yield* getSecret(alice, secret.id)).id, secret.id)
      assert.strictEqual((yield* Effect.flip(deleteSecret(bob, secret.id, () => Effect.succeed([]))))._tag, "NotFound")
      yield* deleteSecret(admin, secret.id, () => Effect.succeed([]))
      assert.strictEqual((yield* Effect.flip(getSecret(alice, secret.id)))._tag, "NotFound")
    }).pipe(Effect.provide(services)))
})
