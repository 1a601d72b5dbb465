/**
 * `@aquifer/secrets`: named secrets encrypted at rest. The `SecretStore` repository port, the
 * `SecretCipher` port (envelope encryption), in-memory layers for both, and the use cases
 * (create, update, delete, list, resolve for a launch). `./testing` holds the conformance kits.
 * @module
 */
export * from "./cipher.ts"
export * from "./memory.ts"
export * from "./secret.ts"
export * from "./service.ts"
