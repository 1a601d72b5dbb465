/**
 * The Drive's records: buckets (with members, quota and usage), long-lived access keys,
 * multipart uploads in progress and, for a short while, the uploads completed. Objects themselves are not records: they live in the
 * `BlobStore` (see `layout.ts`).
 *
 * A bucket is owned by one principal (by key: issuer + subject). Its members are users (by
 * principal key) or groups (by name), each with `read` or `read-write` access; only the owner
 * (or an admin) changes members, quota, or deletes the bucket. Every user has one home bucket,
 * created on first use.
 * @module
 */
import { Principal } from "@aquifer/core"
import { Schema } from "effect"
import { BucketName } from "./bucket_name.ts"

/** What a member may do: list and read objects, or also write and delete them. */
export const MemberAccess = Schema.Literals(["read", "read-write"])
export type MemberAccess = typeof MemberAccess.Type

/** A user (principal key `issuer#subject`) or a group (as named in the principal's `groups`). */
export class Member extends Schema.Class<Member>("Member")({
  kind: Schema.Literals(["user", "group"]),
  id: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(512)),
  access: MemberAccess
}) {}

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/** Limits of a bucket; an absent limit is no limit. */
export class Quota extends Schema.Class<Quota>("Quota")({
  maxBytes: Schema.optional(Count),
  maxObjects: Schema.optional(Count)
}) {}

/** What a bucket holds, as counted by the Drive's writes. */
export class Usage extends Schema.Class<Usage>("Usage")({
  bytes: Count,
  objects: Count
}) {}

/** The storage id of a bucket: its objects live under `drive/<id>/` in the BlobStore. */
export const BucketStorageId = Schema.String.check(Schema.isPattern(/^[0-9a-f]{16}$/))

/** A fresh storage id (64 random bits, as 16 hex digits). */
export const newBucketStorageId = (): string => crypto.randomUUID().replaceAll("-", "").slice(0, 16)

export class Bucket extends Schema.Class<Bucket>("Bucket")({
  name: BucketName,
  /** Where the objects live; a bucket deleted and created again gets a new one. */
  storageId: BucketStorageId,
  /** The owner's principal key. */
  owner: Schema.String,
  /** True for the owner's home bucket (at most one per owner). */
  home: Schema.Boolean,
  createdAt: Schema.Date,
  members: Schema.Array(Member),
  quota: Quota,
  usage: Usage
}) {}

/** The largest number of members of one bucket. */
export const maxMembers = 100

/** A long-lived access key as stored: the secret only sealed (see `credentials.ts`). */
export class AccessKey extends Schema.Class<AccessKey>("AccessKey")({
  /** `AQK` followed by 17 characters of `A-Z2-7`. */
  id: Schema.String.check(Schema.isPattern(/^AQK[A-Z2-7]{17}$/)),
  /** Whom the key acts as: the principal as it was when the key was created. */
  principal: Principal,
  description: Schema.String.check(Schema.isMaxLength(256)),
  createdAt: Schema.Date,
  /** The secret access key, encrypted with the Drive's key; never returned by any API. */
  sealedSecret: Schema.String
}) {}

/** What a user sees of an access key. */
export interface AccessKeyInfo {
  readonly id: string
  readonly description: string
  readonly createdAt: Date
}

/** The most long-lived access keys one user may hold. */
export const maxAccessKeysPerUser = 20

/** A multipart upload in progress: which bucket and key it writes, and who started it. */
export class MultipartUpload extends Schema.Class<MultipartUpload>("MultipartUpload")({
  uploadId: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(1024)),
  bucket: BucketName,
  key: Schema.String,
  /** The initiator's principal key. */
  initiator: Schema.String,
  createdAt: Schema.Date
}) {}

/**
 * A multipart upload completed not long ago (see `completedUploadRetentionMillis`), kept so that
 * a retried CompleteMultipartUpload can be answered with the object it produced.
 */
export class CompletedUpload extends Schema.Class<CompletedUpload>("CompletedUpload")({
  uploadId: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(1024)),
  bucket: BucketName,
  key: Schema.String,
  initiator: Schema.String,
  createdAt: Schema.Date,
  completedAt: Schema.Date,
  /** The BlobStore's ETag of the object the upload produced. */
  etag: Schema.String,
  size: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  /** SHA-256 (hex) of the completed part list, so only the same request is answered again. */
  partsDigest: Schema.String
}) {}
