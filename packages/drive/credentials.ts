/**
 * The Drive's secrets, all derived from one server key (32 random bytes from configuration),
 * with the Web Crypto API (so this package stays free of `node:*`):
 *
 * - **Long-lived secret access keys** are sealed with AES-256-GCM (the key id as additional
 *   data) before they reach the metadata store. A leaked database alone does not reveal them;
 *   SigV4 needs the plain secret to verify a signature, so it cannot be a one-way hash.
 * - **Temporary credentials** (STS) are not stored. The session token is the AES-256-GCM
 *   encryption of its claims (access key id, principal, issue time, expiry); the secret access
 *   key is an HMAC-SHA256 of the session token. A request carrying both is verified by opening
 *   the token, checking the id and expiry, and recomputing the secret. Revoking them before
 *   they expire takes one record per principal, not per credential: the time before which its
 *   tokens no longer count (`AccessKeyRepository.sessionsNotBefore`, checked by
 *   `resolveAccessKey`). Rotating the server key still revokes every one of them.
 * - **Opaque tokens** handed to clients (list continuation tokens) are MACed with HMAC-SHA256,
 *   so a forged token is recognised rather than obeyed.
 *
 * Each purpose uses its own key, derived from the server key with HKDF-SHA256.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DriveCredentials, layerCredentials } from "@aquifer/drive"
 * const program = Effect.gen(function*() {
 *   const credentials = yield* DriveCredentials
 *   const sealed = yield* credentials.seal("AQKAAAAAAAAAAAAAAAAA", "secret")
 *   return yield* credentials.unseal("AQKAAAAAAAAAAAAAAAAA", sealed) // "secret"
 * }).pipe(Effect.provide(layerCredentials(crypto.getRandomValues(new Uint8Array(32)))))
 * ```
 * @module
 */
import { Principal, Role } from "@aquifer/core"
import { Context, Effect, Layer, Result, Schema } from "effect"
import { Base64Url } from "effect/encoding"
import { InvalidToken } from "./errors.ts"

/** A server key must be exactly this many bytes. */
export const serverKeyBytes = 32

/** Temporary credentials as STS hands them out. */
export interface TemporaryCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken: string
  readonly expiresAt: Date
}

/** An opened session token. */
export interface Session {
  readonly accessKeyId: string
  readonly principal: Principal
  readonly secretAccessKey: string
  /** When it was minted; the epoch for tokens minted before issue times were recorded. */
  readonly issuedAt: Date
  readonly expiresAt: Date
}

const base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

/** A fresh access key id: `prefix` then 17 random characters of `A-Z2-7` (85 bits). */
export const newAccessKeyId = (prefix: "AQK" | "AQT"): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(17))
  let id = prefix
  for (const byte of bytes) id += base32[byte & 31]
  return id
}

const toBase64Url = (bytes: Uint8Array): string => Base64Url.encode(bytes)

const fromBase64Url = (text: string): Uint8Array<ArrayBuffer> | undefined => {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined
  const decoded = Base64Url.decode(text)
  return Result.isSuccess(decoded) ? new Uint8Array(decoded.success) : undefined
}

/** A fresh secret access key: 40 characters of base64url (240 random bits). */
export const newSecretAccessKey = (): string => toBase64Url(crypto.getRandomValues(new Uint8Array(30)))

const encoder = new TextEncoder()

const Claims = Schema.Struct({
  v: Schema.Literal(1),
  id: Schema.String,
  /** Issue time (epoch milliseconds); absent in tokens minted before it was recorded. */
  iat: Schema.optional(Schema.Number),
  exp: Schema.Number,
  iss: Schema.String,
  sub: Schema.String,
  name: Schema.String,
  email: Schema.optional(Schema.String),
  groups: Schema.Array(Schema.String),
  roles: Schema.Array(Role)
})
const decodeClaims = Schema.decodeUnknownOption(Schema.fromJsonString(Claims))

const sessionPrefix = "AQS1."

export class DriveCredentials extends Context.Service<DriveCredentials, {
  /** Encrypts a secret access key for storage, bound to its key id. */
  seal(accessKeyId: string, secret: string): Effect.Effect<string>
  /** Decrypts a sealed secret; `InvalidToken` when it was tampered with or sealed under another key. */
  unseal(accessKeyId: string, sealed: string): Effect.Effect<string, InvalidToken>
  /** Mints temporary credentials acting as `principal`, issued at `issuedAt`, until `expiresAt`. */
  issueSession(principal: Principal, issuedAt: Date, expiresAt: Date): Effect.Effect<TemporaryCredentials>
  /**
   * Opens a session token presented with `accessKeyId`: `InvalidToken` when it was not minted
   * by this key or belongs to another access key id. Expiry is the caller's to check.
   */
  openSession(accessKeyId: string, sessionToken: string): Effect.Effect<Session, InvalidToken>
  /** A MAC of `data` (base64url), for tokens the Drive hands out and reads back. */
  mac(data: string): Effect.Effect<string>
}>()("@aquifer/drive/DriveCredentials") {}

const hkdf = (base: CryptoKey, info: string, algorithm: AesKeyGenParams | HmacImportParams, usages: Array<KeyUsage>) =>
  crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: encoder.encode("aquifer-drive"), info: encoder.encode(info) },
    base,
    algorithm,
    false,
    usages
  )

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.byteLength + b.byteLength)
  out.set(a, 0)
  out.set(b, a.byteLength)
  return out
}

/** Builds the service from a 32-byte server key. */
export const makeCredentials = (serverKey: Uint8Array): Effect.Effect<DriveCredentials["Service"]> =>
  Effect.promise(async () => {
    if (serverKey.byteLength !== serverKeyBytes) throw new Error(`the Drive server key must be ${serverKeyBytes} bytes`)
    const base = await crypto.subtle.importKey("raw", serverKey as Uint8Array<ArrayBuffer>, "HKDF", false, ["deriveKey"])
    const sealKey = await hkdf(base, "access-key-seal", { name: "AES-GCM", length: 256 }, ["encrypt", "decrypt"])
    const sessionKey = await hkdf(base, "session-token", { name: "AES-GCM", length: 256 }, ["encrypt", "decrypt"])
    const secretKey = await hkdf(base, "session-secret", { name: "HMAC", hash: "SHA-256", length: 256 }, ["sign"])
    const macKey = await hkdf(base, "opaque-token", { name: "HMAC", hash: "SHA-256", length: 256 }, ["sign"])

    const encrypt = async (key: CryptoKey, plain: string, additional: string) => {
      const iv = crypto.getRandomValues(new Uint8Array(12))
      const sealed = new Uint8Array(
        await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(additional) }, key, encoder.encode(plain))
      )
      return toBase64Url(concat(iv, sealed))
    }
    const decrypt = async (key: CryptoKey, sealed: string, additional: string): Promise<string | undefined> => {
      const bytes = fromBase64Url(sealed)
      if (bytes === undefined || bytes.byteLength < 12 + 16) return undefined
      try {
        const plain = await crypto.subtle.decrypt(
          { name: "AES-GCM", iv: bytes.subarray(0, 12), additionalData: encoder.encode(additional) },
          key,
          bytes.subarray(12)
        )
        return new TextDecoder("utf-8", { fatal: true }).decode(plain)
      } catch {
        return undefined
      }
    }
    const hmac = async (key: CryptoKey, data: string) =>
      toBase64Url(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(data))))
    const secretOf = async (token: string) => (await hmac(secretKey, `secret\n${token}`)).slice(0, 40)

    return DriveCredentials.of({
      seal: (accessKeyId, secret) => Effect.promise(() => encrypt(sealKey, secret, accessKeyId)),
      unseal: (accessKeyId, sealed) =>
        Effect.flatMap(Effect.promise(() => decrypt(sealKey, sealed, accessKeyId)), (secret) =>
          secret === undefined ? Effect.fail(new InvalidToken()) : Effect.succeed(secret)),
      issueSession: (principal, issuedAt, expiresAt) =>
        Effect.promise(async () => {
          const accessKeyId = newAccessKeyId("AQT")
          const claims = {
            v: 1,
            id: accessKeyId,
            iat: issuedAt.getTime(),
            exp: expiresAt.getTime(),
            iss: principal.issuer,
            sub: principal.subject,
            name: principal.name,
            email: principal.email,
            groups: principal.groups,
            roles: principal.roles
          }
          const sessionToken = sessionPrefix + await encrypt(sessionKey, JSON.stringify(claims), "session")
          return { accessKeyId, secretAccessKey: await secretOf(sessionToken), sessionToken, expiresAt }
        }),
      openSession: (accessKeyId, sessionToken) =>
        Effect.flatMap(
          Effect.promise(async () => {
            if (!sessionToken.startsWith(sessionPrefix) || sessionToken.length > 8192) return undefined
            const text = await decrypt(sessionKey, sessionToken.slice(sessionPrefix.length), "session")
            if (text === undefined) return undefined
            const claims = decodeClaims(text)
            if (claims._tag === "None" || claims.value.id !== accessKeyId) return undefined
            const c = claims.value
            return {
              accessKeyId,
              principal: Principal.make({ issuer: c.iss, subject: c.sub, name: c.name, email: c.email, groups: c.groups, roles: c.roles }),
              secretAccessKey: await secretOf(sessionToken),
              issuedAt: new Date(c.iat ?? 0),
              expiresAt: new Date(c.exp)
            } satisfies Session
          }),
          (session) => session === undefined ? Effect.fail(new InvalidToken()) : Effect.succeed(session)
        ),
      mac: (data) => Effect.promise(() => hmac(macKey, data))
    })
  })

/** The service from a 32-byte server key. */
export const layerCredentials = (serverKey: Uint8Array): Layer.Layer<DriveCredentials> =>
  Layer.effect(DriveCredentials, makeCredentials(serverKey))

/** Parses a server key written as 64 hex digits or base64 of 32 bytes; `undefined` when it is neither. */
export const parseServerKey = (text: string): Uint8Array | undefined => {
  const trimmed = text.trim()
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) {
    return Uint8Array.from(trimmed.match(/../g)!, (pair) => Number.parseInt(pair, 16))
  }
  const bytes = fromBase64Url(trimmed.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, ""))
  return bytes !== undefined && bytes.byteLength === serverKeyBytes ? bytes : undefined
}
