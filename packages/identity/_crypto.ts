import { Effect } from "effect"
import { Base64Url, Hex } from "effect/encoding"

const toBase64Url = (bytes: Uint8Array): string => Base64Url.encode(bytes)

/** 256 bits from the platform's CSPRNG, base64url: for cookie secrets, tokens, bindings. */
export const randomSecret = (bytes = 32): string => toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)))

/**
 * SHA-256 of a high-entropy secret, hex. Stored instead of the secret itself, so a leaked
 * database holds no usable session or token. (A slow hash is for passwords, not for these.)
 */
export const sha256Hex = (text: string): Effect.Effect<string> =>
  Effect.promise(async () => {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)))
    return Hex.encode(digest)
  })
