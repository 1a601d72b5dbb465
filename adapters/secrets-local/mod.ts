/**
 * `@aquifer/secrets-local`: the `SecretCipher` port with a local key (AES-256-GCM envelope
 * encryption on node:crypto). Exports `layer(key, previousKeys)`, `layerConfig` and `keyFromFile`.
 * @module
 */
export { keyFromFile, layer, layerConfig } from "./local_cipher.ts"
