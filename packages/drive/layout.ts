/**
 * Where a Drive object lives in the `BlobStore`: object `key` of a bucket is the blob
 * `drive/<storage id>/<key>`, where the storage id is 16 hex digits chosen when the bucket was
 * created (so a bucket deleted and created again under the same name, by anyone, never sees an
 * object of its predecessor, and no object key can reach another bucket's prefix).
 *
 * Object keys are S3 keys, limited by the blob key rules (`@aquifer/blob` `keyProblem`) so
 * every adapter stores them as the opaque strings they are: a key may not start with `/`, hold
 * a `.` or `..` segment, a backslash, NUL or another control character, a segment longer than
 * 255 bytes, or be longer than {@link maxObjectKeyBytes} bytes (1024 less the prefix). Such
 * keys are refused with `InvalidObjectKey`, never rewritten.
 *
 * @example
 * ```ts
 * import { blobKeyOf, objectKeyProblem } from "@aquifer/drive"
 * objectKeyProblem("photos/cat.jpg") // undefined
 * objectKeyProblem("../etc/passwd")   // { reason: "a segment may not be \".\" or \"..\"", tooLong: false }
 * ```
 * @module
 */
import { keyProblem, maxKeyBytes, utf8Length } from "@aquifer/blob"
import { Effect } from "effect"
import { InvalidObjectKey } from "./errors.ts"

/** The root of every Drive object in the BlobStore. */
export const driveRoot = "drive/"

const prefixBytes = driveRoot.length + 16 + 1

/** The longest object key, in bytes of UTF-8. */
export const maxObjectKeyBytes = maxKeyBytes - prefixBytes

/** The blob prefix under which a bucket's objects live. */
export const bucketPrefix = (bucket: { readonly storageId: string }): string => `${driveRoot}${bucket.storageId}/`

/** Why `key` cannot be a Drive object key, or `undefined`. */
export const objectKeyProblem = (key: unknown): { readonly reason: string; readonly tooLong: boolean } | undefined => {
  if (typeof key !== "string" || key.length === 0) return { reason: "an object key may not be empty", tooLong: false }
  if (utf8Length(key) > maxObjectKeyBytes) {
    return { reason: `an object key may be at most ${maxObjectKeyBytes} bytes of UTF-8`, tooLong: true }
  }
  const reason = keyProblem(key)
  return reason === undefined ? undefined : { reason: reason.replace(/^a key/, "an object key"), tooLong: false }
}

/** The blob key of object `key` of `bucket`, or `InvalidObjectKey`. */
export const blobKeyOf = (bucket: { readonly storageId: string }, key: string): Effect.Effect<string, InvalidObjectKey> => {
  const problem = objectKeyProblem(key)
  return problem === undefined
    ? Effect.succeed(bucketPrefix(bucket) + key)
    : Effect.fail(new InvalidObjectKey({ key: String(key).slice(0, 1100), reason: problem.reason, tooLong: problem.tooLong }))
}

/** The object key of a blob key listed under `bucket`'s prefix. */
export const objectKeyOf = (bucket: { readonly storageId: string }, blobKey: string): string =>
  blobKey.slice(bucketPrefix(bucket).length)
