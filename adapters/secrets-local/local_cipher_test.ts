import { assert, describe, it } from "@effect/vitest"
import { SecretCipher } from "@aquifer/secrets"
import { cipherSuite } from "@aquifer/secrets/testing"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { layer, layerConfig } from "./mod.ts"

const key = () => Redacted.make(randomBytes(32).toString("base64"))

cipherSuite("secrets-local", layer(key()))

describe("secrets-local", () => {
  it.effect("opens records sealed under the previous key after a key change", () =>
    Effect.gen(function*() {
      const oldKey = key()
      const sealed = yield* SecretCipher.use((c) => c.seal(new TextEncoder().encode("v1"), "sec_x")).pipe(Effect.provide(layer(oldKey)))
      const rotated = layer(key(), [oldKey])
      const opened = yield* SecretCipher.use((c) => c.open(sealed, "sec_x")).pipe(Effect.provide(rotated))
      assert.strictEqual(new TextDecoder().decode(opened), "v1")
      const resealed = yield* SecretCipher.use((c) => c.seal(opened, "sec_x")).pipe(Effect.provide(rotated))
      assert.notStrictEqual(resealed.keyId, sealed.keyId)
      const without = yield* Effect.flip(SecretCipher.use((c) => c.open(sealed, "sec_x")).pipe(Effect.provide(layer(key()))))
      assert.match(without.message, /not configured/)
    }))

  it.effect("refuses a key that is not 32 bytes, without echoing it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Layer.build(layer(Redacted.make("c2hvcnQta2V5"))).pipe(Effect.scoped))
      assert.strictEqual(error._tag, "SecretCipherError")
      assert.isFalse(error.message.includes("c2hvcnQta2V5"))
    }))

  it.effect("creates a 0600 key file under AQUIFER_HOME when no key is configured, and reuses it", () =>
    Effect.gen(function*() {
      const home = mkdtempSync(join(tmpdir(), "aquifer-secrets-"))
      try {
        const provider = ConfigProvider.fromUnknown({ AQUIFER_HOME: home })
        const withConfig = layerConfig.pipe(Layer.provide(ConfigProvider.layer(provider)))
        const sealed = yield* SecretCipher.use((c) => c.seal(new TextEncoder().encode("kept"), "sec_k")).pipe(Effect.provide(withConfig))
        assert.strictEqual(statSync(join(home, "secrets.key")).mode & 0o777, 0o600)
        assert.strictEqual(Buffer.from(readFileSync(join(home, "secrets.key"), "utf8").trim(), "base64").length, 32)
        const again = yield* SecretCipher.use((c) => c.open(sealed, "sec_k")).pipe(Effect.provide(withConfig))
        assert.strictEqual(new TextDecoder().decode(again), "kept")
      } finally {
        rmSync(home, { recursive: true, force: true })
      }
    }))
})
