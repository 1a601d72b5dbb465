import { Base64Url } from "effect/encoding"

const toBase64Url = (bytes: Uint8Array): string => Base64Url.encode(bytes)

/** 256 bits from the platform's CSPRNG, base64url: for cookie secrets, tokens, bindings. */
export const randomSecret = (bytes = 32): string => toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)))

/**
 * SHA-256 of a high-entropy secret, hex. Stored instead of the secret itself, so a leaked
 * database holds no usable session or token. (A slow hash is for passwords, not for these.)
 */
export { sha256Hex } from "@aquifer/core"
