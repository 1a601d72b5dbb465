/**
 * SHA-256 as hex, over Web Crypto (no Node built-ins): for stored hashes of high-entropy
 * secrets, content-derived names and request fingerprints.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { sha256Hex } from "@aquifer/core"
 * const hash = Effect.runPromise(sha256Hex("abc")) // "ba7816bf…"
 * ```
 * @module
 */
import { Effect } from "effect"
import { Hex } from "effect/encoding"

/** SHA-256 of `text` (UTF-8), lower-case hex. */
export const sha256Hex = (text: string): Effect.Effect<string> =>
  Effect.promise(async () => Hex.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)))))
