/**
 * The Drive's repository ports, kept in the metadata store. Each has an in-memory
 * implementation (`memory.ts`) and a SQL one (`adapters/metadata-postgres`); both pass the
 * conformance kit in `testing.ts`.
 *
 * Promises every implementation keeps:
 * - Every method is atomic; what it returns reflects the store after it ran.
 * - Time is never read here: callers stamp records (`createdAt`) from Effect's `Clock`.
 * - A backend that cannot be reached fails with `Unavailable`; nothing else escapes.
 * @module
 */
import { type AlreadyExists, type NotFound, type Unavailable } from "@aquifer/core"
import { Context, type Effect } from "effect"
import type { QuotaExceeded } from "./errors.ts"
import type { AccessKey, Bucket, CompletedUpload, Member, MultipartUpload, Quota, Usage } from "./model.ts"

/** A change of a bucket's usage; negative values release. */
export interface UsageDelta {
  readonly bytes: number
  readonly objects: number
}

/** Buckets, their members, quotas and usage. */
export class BucketRepository extends Context.Service<BucketRepository, {
  /**
   * Stores a new bucket. Fails with `AlreadyExists` (`resource: "bucket"`, `id`: the name) when
   * the name is taken, or (`resource: "home"`, `id`: the owner) when the owner already has a
   * home bucket and this one is a home bucket too.
   */
  insert(bucket: Bucket): Effect.Effect<void, AlreadyExists | Unavailable>
  /** The bucket of that name, if any. */
  get(name: string): Effect.Effect<Bucket | undefined, Unavailable>
  /** The home bucket of `owner` (a principal key), if it has one. */
  home(owner: string): Effect.Effect<Bucket | undefined, Unavailable>
  /**
   * Buckets `principal` owns or is a member of (directly, or through one of `groups`), by name,
   * at most 1000.
   */
  listAccessible(principal: string, groups: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<Bucket>, Unavailable>
  /** Replaces the members and/or the quota; `NotFound` when the bucket is gone. */
  update(
    name: string,
    changes: { readonly members?: ReadonlyArray<Member> | undefined; readonly quota?: Quota | undefined }
  ): Effect.Effect<Bucket, NotFound | Unavailable>
  /** Deletes the bucket record; succeeds when there is none. */
  remove(name: string): Effect.Effect<void, Unavailable>
  /**
   * Adds `delta` to the bucket's usage in one atomic step and returns the new usage. With
   * `enforce`, a delta that grows bytes (or objects) past the quota fails with `QuotaExceeded`
   * and changes nothing; shrinking never fails, and usage never goes below zero.
   */
  adjustUsage(name: string, delta: UsageDelta, enforce: boolean): Effect.Effect<Usage, QuotaExceeded | NotFound | Unavailable>
  /** Sets the usage outright (after a recount). */
  setUsage(name: string, usage: Usage): Effect.Effect<void, NotFound | Unavailable>
}>()("@aquifer/drive/BucketRepository") {}

/**
 * Long-lived access keys (their secrets sealed), and per principal the time before which its
 * temporary credentials no longer count (they are not stored one by one; see `credentials.ts`).
 */
export class AccessKeyRepository extends Context.Service<AccessKeyRepository, {
  /** Stores a new key; `AlreadyExists` when the id is taken. */
  insert(key: AccessKey): Effect.Effect<void, AlreadyExists | Unavailable>
  /** The key of that id, if it exists. */
  get(id: string): Effect.Effect<AccessKey | undefined, Unavailable>
  /** The keys acting as `principal` (a principal key), oldest first. */
  listByPrincipal(principal: string): Effect.Effect<ReadonlyArray<AccessKey>, Unavailable>
  /** Deletes a key; true when it existed. */
  remove(id: string): Effect.Effect<boolean, Unavailable>
  /**
   * Revokes the temporary credentials of `principal` (a principal key) issued at or before
   * `notBefore`: stores the later of `notBefore` and the time already stored (it never moves
   * back), and returns the time now stored.
   */
  revokeSessions(principal: string, notBefore: Date): Effect.Effect<Date, Unavailable>
  /**
   * The time at or before which the temporary credentials of `principal` were revoked, if ever
   * (one lookup by key: it runs on every request signed with temporary credentials).
   */
  sessionsNotBefore(principal: string): Effect.Effect<Date | undefined, Unavailable>
}>()("@aquifer/drive/AccessKeyRepository") {}

/** One page of uploads in progress. */
export interface UploadsPage {
  readonly uploads: ReadonlyArray<MultipartUpload>
  /** True when more uploads follow the last one returned. */
  readonly truncated: boolean
}

/** What completing an upload produced, recorded by `UploadRepository.markCompleted`. */
export interface UploadCompletion {
  readonly completedAt: Date
  readonly etag: string
  readonly size: number
  readonly partsDigest: string
}

/**
 * Multipart uploads in progress, so they can be listed and found per bucket, and the uploads
 * completed recently (until `forgetCompleted`), so a retried completion can be recognised. A
 * completed upload is never "in progress": `get` and `list` do not return it.
 */
export class UploadRepository extends Context.Service<UploadRepository, {
  /** Records an upload started in the BlobStore; `AlreadyExists` when the id is known. */
  insert(upload: MultipartUpload): Effect.Effect<void, AlreadyExists | Unavailable>
  /** The upload of that id in that bucket, if it is still in progress. */
  get(bucket: string, uploadId: string): Effect.Effect<MultipartUpload | undefined, Unavailable>
  /** Forgets an upload, in progress or completed (after an abort); true when it was known. */
  remove(bucket: string, uploadId: string): Effect.Effect<boolean, Unavailable>
  /**
   * Turns an upload in progress into a completed one with what it produced; false (and no
   * change) when it is not in progress.
   */
  markCompleted(bucket: string, uploadId: string, completion: UploadCompletion): Effect.Effect<boolean, Unavailable>
  /** The completed upload of that id in that bucket, until it is forgotten. */
  getCompleted(bucket: string, uploadId: string): Effect.Effect<CompletedUpload | undefined, Unavailable>
  /** Forgets every completed upload (of any bucket) completed before `before`; returns how many. */
  forgetCompleted(before: Date): Effect.Effect<number, Unavailable>
  /**
   * Uploads in progress of `bucket` whose key starts with `prefix`, ordered by key then upload
   * id, starting strictly after (`keyMarker`, `uploadIdMarker`) — or after every upload of
   * `keyMarker` when `uploadIdMarker` is absent — at most `limit` (1 to 1000).
   */
  list(bucket: string, options: {
    readonly prefix?: string | undefined
    readonly keyMarker?: string | undefined
    readonly uploadIdMarker?: string | undefined
    readonly limit: number
  }): Effect.Effect<UploadsPage, Unavailable>
  /**
   * Forgets every upload of the bucket, completed ones too, and returns those that were in
   * progress (so their parts can be discarded).
   */
  removeBucket(bucket: string): Effect.Effect<ReadonlyArray<MultipartUpload>, Unavailable>
}>()("@aquifer/drive/UploadRepository") {}
