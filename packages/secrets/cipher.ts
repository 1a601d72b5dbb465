/**
 * The `SecretCipher` port: envelope encryption of secret values at rest. `seal` encrypts with a
 * fresh data key, wraps that data key with the current key-encryption key, and returns the
 * envelope with the id of the key that wrapped it; `open` reverses it with whichever configured
 * key has that id, so old records stay readable after a new key is configured.
 *
 * Promises every adapter keeps (`@aquifer/secrets/testing` → `cipherSuite`):
 * - Confidentiality and integrity: an envelope changed in any byte, or opened with another
 *   `context` than it was sealed with, fails with `SecretCipherError` — never returns other bytes.
 * - Sealing the same bytes twice gives different envelopes (fresh data key and nonce).
 * - Errors never carry key material or plaintext.
 * @module
 */
import { Context, type Effect, Schema } from "effect"
import type { Sealed } from "./secret.ts"

/** An envelope could not be opened (tampered, another context, unknown key) or sealed. */
export class SecretCipherError extends Schema.TaggedError<SecretCipherError>()("SecretCipherError", {
  message: Schema.String
}) {}

export class SecretCipher extends Context.Service<SecretCipher, {
  /** Encrypts `plaintext`, bound to `context` (e.g. the secret id: an envelope moved to another record will not open). */
  readonly seal: (plaintext: Uint8Array, context: string) => Effect.Effect<Sealed, SecretCipherError>
  readonly open: (sealed: Sealed, context: string) => Effect.Effect<Uint8Array, SecretCipherError>
}>()("@aquifer/secrets/SecretCipher") {}
