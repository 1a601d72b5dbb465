/**
 * `SecretCipher` with a local key-encryption key (the embedded default), on node:crypto
 * AES-256-GCM. Each `seal` makes a fresh 256-bit data key, encrypts the value with it, and wraps
 * the data key with the key-encryption key; both steps are authenticated, the value bound to the
 * caller's `context`, the wrapped key to the key id and context.
 *
 * Envelope (base64): `0x01 | wrap nonce (12) | wrapped data key (32) | wrap tag (16) |
 * data nonce (12) | ciphertext | data tag (16)`. The key id is the first 16 hex digits of
 * SHA-256 over the key, so records say which key they need without revealing it.
 *
 * Config: `AQUIFER_SECRETS_KEY` (base64 of 32 bytes; redacted), `AQUIFER_SECRETS_OLD_KEYS`
 * (comma-separated, for opening records sealed before a key change), and when no key is given,
 * `$AQUIFER_HOME/secrets.key` (made with mode 0600 on first start).
 * @module
 */
import { SecretCipher, SecretCipherError } from "@aquifer/secrets"
import { Config, Effect, Layer, Option, Redacted } from "effect"
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto"
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { homedir } from "node:os"
import { dirname, join } from "node:path"

const keyIdOf = (key: Buffer) => createHash("sha256").update(key).digest("hex").slice(0, 16)

const decodeKey = (text: string, what: string): Buffer => {
  const key = Buffer.from(text.trim(), "base64")
  if (key.length !== 32) throw new Error(`${what} must be the base64 of exactly 32 bytes (openssl rand -base64 32)`)
  return key
}

const encrypt = (key: Buffer, plaintext: Uint8Array, aad: string) => {
  const iv = randomBytes(12)
  const cipher = createCipheriv("aes-256-gcm", key, iv)
  cipher.setAAD(Buffer.from(aad, "utf8"))
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return Buffer.concat([iv, body, cipher.getAuthTag()])
}

const decrypt = (key: Buffer, sealed: Buffer, aad: string) => {
  const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, 12))
  decipher.setAAD(Buffer.from(aad, "utf8"))
  decipher.setAuthTag(sealed.subarray(sealed.length - 16))
  return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()])
}

/** A cipher sealing with `current` and opening with `current` or any of `previous`. */
export const layer = (current: Redacted.Redacted<string>, previous: ReadonlyArray<Redacted.Redacted<string>> = []): Layer.Layer<SecretCipher, SecretCipherError> =>
  Layer.effect(
    SecretCipher,
    Effect.try({
      try: () => {
        const kek = decodeKey(Redacted.value(current), "AQUIFER_SECRETS_KEY")
        const keys = new Map<string, Buffer>([[keyIdOf(kek), kek]])
        for (const [index, old] of previous.entries()) {
          const key = decodeKey(Redacted.value(old), `AQUIFER_SECRETS_OLD_KEYS[${index}]`)
          keys.set(keyIdOf(key), key)
        }
        const keyId = keyIdOf(kek)
        return SecretCipher.of({
          seal: (plaintext, context) =>
            Effect.try({
              try: () => {
                const dataKey = randomBytes(32)
                const wrapped = encrypt(kek, dataKey, `${keyId}\n${context}`)
                const body = encrypt(dataKey, plaintext, context)
                dataKey.fill(0)
                return { keyId, data: Buffer.concat([Buffer.from([1]), wrapped, body]).toString("base64") }
              },
              catch: () => new SecretCipherError({ message: "could not seal the secret" })
            }),
          open: (sealed, context) =>
            Effect.try({
              try: () => {
                const key = keys.get(sealed.keyId)
                if (key === undefined) throw new Error("unknown key")
                const envelope = Buffer.from(sealed.data, "base64")
                if (envelope[0] !== 1 || envelope.length < 1 + 60 + 28) throw new Error("not an envelope")
                const dataKey = decrypt(key, envelope.subarray(1, 61), `${sealed.keyId}\n${context}`)
                const plain = decrypt(dataKey, envelope.subarray(61), context)
                dataKey.fill(0)
                return new Uint8Array(plain)
              },
              catch: (error) =>
                new SecretCipherError({
                  message: (error as Error).message === "unknown key"
                    ? `the secret was sealed with key ${sealed.keyId}, which is not configured (AQUIFER_SECRETS_KEY / AQUIFER_SECRETS_OLD_KEYS)`
                    : "the secret could not be decrypted: it was changed, moved to another record, or sealed with another key"
                })
            })
        })
      },
      catch: (error) => new SecretCipherError({ message: (error as Error).message })
    })
  )

/** Reads `path`, or creates it with a fresh random key (mode 0600) when absent. */
export const keyFromFile = (path: string): Redacted.Redacted<string> => {
  try {
    return Redacted.make(readFileSync(path, "utf8").trim())
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    const key = randomBytes(32).toString("base64")
    writeFileSync(path, `${key}\n`, { mode: 0o600, flag: "wx" })
    chmodSync(path, 0o600)
    return Redacted.make(key)
  }
}

/** The cipher configured from the environment (see the module doc). */
export const layerConfig: Layer.Layer<SecretCipher, SecretCipherError | Config.ConfigError> = Layer.unwrap(
  Effect.gen(function*() {
    const key = yield* Config.option(Config.Redacted("AQUIFER_SECRETS_KEY"))
    const old = yield* Config.String("AQUIFER_SECRETS_OLD_KEYS").pipe(Config.withDefault(""))
    const home = yield* Config.String("AQUIFER_HOME").pipe(Config.withDefault(join(homedir(), ".aquifer")))
    const previous = old.split(",").map((text) => text.trim()).filter((text) => text !== "").map((text) => Redacted.make(text))
    const current = Option.isSome(key) && Redacted.value(key.value).trim() !== ""
      ? key.value
      : yield* Effect.try({
        try: () => keyFromFile(join(home, "secrets.key")),
        catch: (error) => new SecretCipherError({ message: `cannot read or create ${join(home, "secrets.key")}: ${(error as Error).message}` })
      })
    return layer(current, previous)
  })
)
