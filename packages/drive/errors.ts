/**
 * The Drive's own errors. Use cases fail with these, with the shared errors of `@aquifer/core`
 * (`Forbidden`, `Unauthenticated`, `InvalidInput`, `Unavailable`) and with the `BlobStore`
 * port's errors; the S3 surface maps every tag to one S3 error code and HTTP status, and the
 * JSON API to one RFC 9457 problem, each in one table.
 *
 * | tag | S3 code | HTTP |
 * |---|---|---|
 * | `NoSuchBucket` | `NoSuchBucket` | 404 |
 * | `BucketAlreadyExists` | `BucketAlreadyExists` (another owner) / `BucketAlreadyOwnedByYou` | 409 |
 * | `BucketNotEmpty` | `BucketNotEmpty` | 409 |
 * | `InvalidBucketName` | `InvalidBucketName` | 400 |
 * | `InvalidObjectKey` | `KeyTooLongError` / `InvalidArgument` | 400 |
 * | `NoSuchKey` | `NoSuchKey` | 404 |
 * | `NoSuchUpload` | `NoSuchUpload` | 404 |
 * | `QuotaExceeded` | `QuotaExceeded` | 403 |
 * | `InvalidAccessKeyId` | `InvalidAccessKeyId` | 403 |
 * | `ExpiredToken` | `ExpiredToken` | 400 |
 * | `InvalidToken` | `InvalidToken` | 400 |
 * @module
 */
import { Schema } from "effect"

/** No bucket of that name. */
export class NoSuchBucket extends Schema.TaggedError<NoSuchBucket>()("NoSuchBucket", {
  bucket: Schema.String
}) {
  override get message(): string {
    return `the bucket ${JSON.stringify(this.bucket)} does not exist`
  }
}

/** The name is taken; `ownedByCaller` says whether by the caller (S3 answers differently). */
export class BucketAlreadyExists extends Schema.TaggedError<BucketAlreadyExists>()("BucketAlreadyExists", {
  bucket: Schema.String,
  ownedByCaller: Schema.Boolean
}) {
  override get message(): string {
    return this.ownedByCaller
      ? `you already own the bucket ${JSON.stringify(this.bucket)}`
      : `the bucket name ${JSON.stringify(this.bucket)} is taken; choose another`
  }
}

/** A bucket still holds objects and cannot be deleted. */
export class BucketNotEmpty extends Schema.TaggedError<BucketNotEmpty>()("BucketNotEmpty", {
  bucket: Schema.String
}) {
  override get message(): string {
    return `the bucket ${JSON.stringify(this.bucket)} is not empty`
  }
}

/** The name breaks the bucket naming rules (`bucket_name.ts`); `reason` says which. */
export class InvalidBucketName extends Schema.TaggedError<InvalidBucketName>()("InvalidBucketName", {
  bucket: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `invalid bucket name ${JSON.stringify(this.bucket.slice(0, 100))}: ${this.reason}`
  }
}

/** An object key the Drive cannot store (see `layout.ts`); `tooLong` when only its length is wrong. */
export class InvalidObjectKey extends Schema.TaggedError<InvalidObjectKey>()("InvalidObjectKey", {
  key: Schema.String,
  reason: Schema.String,
  tooLong: Schema.Boolean
}) {
  override get message(): string {
    return `invalid object key: ${this.reason}`
  }
}

/** No object under that key in that bucket. */
export class NoSuchKey extends Schema.TaggedError<NoSuchKey>()("NoSuchKey", {
  key: Schema.String
}) {
  override get message(): string {
    return "the specified key does not exist"
  }
}

/** No multipart upload of that id in that bucket for that key (never started, completed or aborted). */
export class NoSuchUpload extends Schema.TaggedError<NoSuchUpload>()("NoSuchUpload", {
  uploadId: Schema.String
}) {
  override get message(): string {
    return "the multipart upload does not exist: it may have been aborted or completed"
  }
}

/** A write would take the bucket over its quota; nothing was written. */
export class QuotaExceeded extends Schema.TaggedError<QuotaExceeded>()("QuotaExceeded", {
  bucket: Schema.String,
  message: Schema.String
}) {}

/** The access key id is unknown or revoked. */
export class InvalidAccessKeyId extends Schema.TaggedError<InvalidAccessKeyId>()("InvalidAccessKeyId", {
  accessKeyId: Schema.String
}) {
  override get message(): string {
    return "the access key id you provided does not exist in our records"
  }
}

/** Temporary credentials whose expiry has passed. */
export class ExpiredToken extends Schema.TaggedError<ExpiredToken>()("ExpiredToken", {}) {
  override get message(): string {
    return "the provided token has expired"
  }
}

/**
 * A session token that this Drive did not issue, that does not belong to the access key, or
 * (`revoked`) that its user revoked before it expired.
 */
export class InvalidToken extends Schema.TaggedError<InvalidToken>()("InvalidToken", {
  revoked: Schema.optional(Schema.Boolean)
}) {
  override get message(): string {
    return this.revoked === true ? "the provided token has been revoked" : "the provided token is malformed or otherwise invalid"
  }
}

/** Every error of the Drive's own. */
export type DriveError =
  | NoSuchBucket
  | BucketAlreadyExists
  | BucketNotEmpty
  | InvalidBucketName
  | InvalidObjectKey
  | NoSuchKey
  | NoSuchUpload
  | QuotaExceeded
  | InvalidAccessKeyId
  | ExpiredToken
  | InvalidToken
