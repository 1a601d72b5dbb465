/**
 * The closed error set of the {@link BlobStore} port. Every adapter maps every failure of its
 * backend to exactly one of these; the backend's own error is kept only as `cause`, so callers
 * branch on `_tag` and never on an SDK's error class or message.
 *
 * | tag | meaning | HTTP (as the Drive serves it) |
 * |---|---|---|
 * | `BlobNotFound` | no object under `key` (or, with `uploadId`, no such multipart upload) | 404 |
 * | `BlobAlreadyExists` | a put with `ifNoneMatch: "*"` met an existing object | 412 |
 * | `InvalidKey` | the key breaks the rules of `key.ts` | 400 |
 * | `InvalidArgument` | another argument is malformed: metadata, content type, part number, cursor, body | 400 |
 * | `InvalidRange` | the byte range cannot be satisfied by the object | 416 |
 * | `PreconditionFailed` | an `ifMatch` did not match, or a multipart completion's part list is not acceptable | 412 / 400 |
 * | `BlobStoreUnavailable` | the backend cannot be reached or asks us to slow down; retrying later may succeed | 503 |
 * | `BlobStoreError` | anything else the backend reported; not retryable as such | 500 |
 *
 * @module
 */
import { Schema } from "effect"

/** No object under `key`; with `uploadId`, no multipart upload of that id for that key. */
export class BlobNotFound extends Schema.TaggedError<BlobNotFound>()("BlobNotFound", {
  key: Schema.String,
  uploadId: Schema.optional(Schema.String)
}) {
  override get message(): string {
    return this.uploadId === undefined
      ? `no blob under ${JSON.stringify(this.key)}`
      : `no multipart upload ${JSON.stringify(this.uploadId)} for ${JSON.stringify(this.key)}`
  }
}

/** A conditional write (`ifNoneMatch: "*"`) found an object already under `key`; nothing was written. */
export class BlobAlreadyExists extends Schema.TaggedError<BlobAlreadyExists>()("BlobAlreadyExists", {
  key: Schema.String
}) {
  override get message(): string {
    return `a blob already exists under ${JSON.stringify(this.key)}`
  }
}

/** The key is not a valid blob key (see `validateKey`); `reason` says which rule it broke. */
export class InvalidKey extends Schema.TaggedError<InvalidKey>()("InvalidKey", {
  key: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `invalid blob key ${JSON.stringify(this.key.slice(0, 200))}: ${this.reason}`
  }
}

/**
 * An argument other than the key is malformed: user metadata, content type, a part number,
 * a continuation token not issued by this store, a body that is not a stream of bytes, a body
 * whose length differs from the declared `contentLength`, or a body stream that failed while
 * being read (then `cause` is the stream's error). Nothing was written.
 */
export class InvalidArgument extends Schema.TaggedError<InvalidArgument>()("InvalidArgument", {
  field: Schema.String,
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

/**
 * The requested byte range does not overlap the object (RFC 9110 "unsatisfiable"): an offset at
 * or past the end, any range of an empty object, a zero-length suffix, or a malformed range.
 * `size` is the object's size when it is known, for a `Content-Range: bytes *\/size` answer.
 */
export class InvalidRange extends Schema.TaggedError<InvalidRange>()("InvalidRange", {
  key: Schema.String,
  size: Schema.optional(Schema.Number),
  reason: Schema.String
}) {
  override get message(): string {
    return `unsatisfiable range for ${JSON.stringify(this.key)}: ${this.reason}`
  }
}

/**
 * Why a precondition failed:
 * - `if-match`: the object's current ETag is not the one given;
 * - `invalid-part`: a listed part was never uploaded, or its ETag differs;
 * - `invalid-part-order`: part numbers are not strictly ascending;
 * - `part-too-small`: a part other than the last is smaller than `minPartSize`.
 */
export const PreconditionReason = Schema.Literals(["if-match", "invalid-part", "invalid-part-order", "part-too-small"])
export type PreconditionReason = typeof PreconditionReason.Type

/** A condition of the request does not hold; nothing was written. */
export class PreconditionFailed extends Schema.TaggedError<PreconditionFailed>()("PreconditionFailed", {
  key: Schema.String,
  reason: PreconditionReason
}) {
  override get message(): string {
    return `precondition failed for ${JSON.stringify(this.key)}: ${this.reason}`
  }
}

/** The backend cannot be reached, timed out or throttles us; retrying later may succeed. */
export class BlobStoreUnavailable extends Schema.TaggedError<BlobStoreUnavailable>()("BlobStoreUnavailable", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

/** Any other failure the backend reported (permissions, misconfiguration, a bug). */
export class BlobStoreError extends Schema.TaggedError<BlobStoreError>()("BlobStoreError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

/** Every error a {@link BlobStore} method may fail with. */
export type BlobError =
  | BlobNotFound
  | BlobAlreadyExists
  | InvalidKey
  | InvalidArgument
  | InvalidRange
  | PreconditionFailed
  | BlobStoreUnavailable
  | BlobStoreError

const blobErrorTypes = [BlobNotFound, BlobAlreadyExists, InvalidKey, InvalidArgument, InvalidRange, PreconditionFailed, BlobStoreUnavailable, BlobStoreError]

/** True for an error of the port's closed set: adapters pass these through their error mapping. */
export const isBlobError = (error: unknown): error is BlobError => blobErrorTypes.some((type) => error instanceof type)
