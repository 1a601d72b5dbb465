/**
 * Bucket use cases: the home bucket, creating, listing, deleting, sharing and quotas.
 *
 * - Every user who may create buckets (not a visitor) has a home bucket, created the first time
 *   they use the Drive, named after them (`alice-1f0c2d3e`: a slug of their e-mail or name and 8
 *   hex digits of a hash of their identity), with the configured home quota.
 * - A bucket is deleted only when it holds no object; its uploads in progress are discarded.
 * - Members and quotas: members are set by whoever may `manage` the bucket; quotas by admins.
 * @module
 */
import { type AlreadyExists, Forbidden, InvalidInput, now, sha256Hex, type Unavailable } from "@aquifer/core"
import { BlobStore, type BackendError } from "@aquifer/blob"
import { can, type Caller } from "@aquifer/identity"
import { Effect } from "effect"
import { authorizeBucket, type BucketAction, canOnBucket } from "./access.ts"
import { validateBucketName } from "./bucket_name.ts"
import { BucketAlreadyExists, BucketNotEmpty, type InvalidBucketName, NoSuchBucket } from "./errors.ts"
import { bucketPrefix } from "./layout.ts"
import { Bucket, maxMembers, Member, newBucketStorageId, Quota, Usage } from "./model.ts"
import { BucketRepository, UploadRepository } from "./repositories.ts"
import { DriveSettings } from "./settings.ts"

/** The home bucket name of a principal: a slug of who they are and a hash of their identity key. */
export const homeBucketName = (caller: Caller): Effect.Effect<string> =>
  Effect.map(sha256Hex(caller.principal.key), (hash) => {
    const { principal } = caller
    const digest = hash.slice(0, 8)
    const source = principal.email?.split("@")[0] ?? principal.name
    const slug = source
      .normalize("NFKD")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40)
      .replace(/-+$/, "")
    return `${slug.length >= 1 ? slug : "home"}-${digest}`
  })

const newBucket = (name: string, owner: string, home: boolean, quota: Quota) =>
  Effect.map(now, (createdAt) =>
    new Bucket({
      name: name as Bucket["name"],
      storageId: newBucketStorageId(),
      owner,
      home,
      createdAt,
      members: [],
      quota,
      usage: new Usage({ bytes: 0, objects: 0 })
    }))

/**
 * The caller's home bucket, created when missing; `undefined` for visitors (who may not own
 * buckets). Safe to call concurrently: racing first uses end with the same bucket.
 */
export const ensureHomeBucket = Effect.fn("Drive.ensureHomeBucket")(function*(caller: Caller) {
  const repo = yield* BucketRepository
  const existing = yield* repo.home(caller.principal.key)
  if (existing !== undefined) return existing
  if (!can(caller, "create", { kind: "bucket" })) return undefined
  const settings = yield* DriveSettings
  const base = yield* homeBucketName(caller)
  for (let attempt = 0; attempt < 5; attempt++) {
    const name = attempt === 0 ? base : `${base}-${crypto.randomUUID().slice(0, 4)}`
    const bucket = yield* newBucket(name, caller.principal.key, true, settings.homeQuota)
    const inserted = yield* repo.insert(bucket).pipe(
      Effect.as(true),
      Effect.catchTag("AlreadyExists", () => Effect.succeed(false))
    )
    if (inserted) return bucket
    const raced = yield* repo.home(caller.principal.key)
    if (raced !== undefined) return raced
  }
  return yield* Effect.die(new Error("could not find a free home bucket name"))
})

/** Buckets the caller owns or is a member of, the home bucket included (created when missing). */
export const listBuckets = Effect.fn("Drive.listBuckets")(function*(caller: Caller) {
  yield* ensureHomeBucket(caller)
  const repo = yield* BucketRepository
  return yield* repo.listAccessible(caller.principal.key, caller.principal.groups)
})

/**
 * The bucket `name` if the caller may take `action` on it: `NoSuchBucket` when there is none,
 * `Forbidden` when the caller may not. A caller's own home bucket is created on first use even
 * when addressed by name.
 */
export const bucketFor = Effect.fn("Drive.bucketFor")(function*(caller: Caller, name: string, action: BucketAction) {
  const repo = yield* BucketRepository
  let bucket = yield* repo.get(name)
  if (bucket === undefined && name === (yield* homeBucketName(caller))) {
    const home = yield* ensureHomeBucket(caller)
    if (home?.name === name) bucket = home
  }
  if (bucket === undefined) return yield* new NoSuchBucket({ bucket: name })
  yield* authorizeBucket(caller, bucket, action)
  return bucket
})

/** Creates a bucket owned by the caller (not for visitors). */
export const createBucket = Effect.fn("Drive.createBucket")(function*(
  caller: Caller,
  name: string
): Effect.fn.Return<Bucket, InvalidBucketName | BucketAlreadyExists | Forbidden | Unavailable, BucketRepository> {
  const valid = yield* validateBucketName(name)
  if (!can(caller, "create", { kind: "bucket" })) return yield* new Forbidden({ message: "you may not create buckets" })
  const repo = yield* BucketRepository
  const bucket = yield* newBucket(valid, caller.principal.key, false, new Quota({}))
  yield* repo.insert(bucket).pipe(
    Effect.catchTag("AlreadyExists", (error: AlreadyExists) =>
      Effect.flatMap(repo.get(valid), (existing) =>
        Effect.fail(
          new BucketAlreadyExists({
            bucket: valid,
            ownedByCaller: error.resource === "bucket" && existing?.owner === caller.principal.key
          })
        )))
  )
  return bucket
})

/** Whether a bucket holds no object. */
export const isBucketEmpty = (bucket: Bucket): Effect.Effect<boolean, BackendError, BlobStore> =>
  Effect.gen(function*() {
    const store = yield* BlobStore
    const page = yield* store.list({ prefix: bucketPrefix(bucket), limit: 1 }).pipe(
      Effect.catchTag(["InvalidKey", "InvalidArgument"], (error) => Effect.die(error))
    )
    return page.items.length === 0 && page.prefixes.length === 0
  })

/** Deletes an empty bucket (whoever may manage it); uploads in progress are discarded. */
export const deleteBucket = Effect.fn("Drive.deleteBucket")(function*(caller: Caller, name: string) {
  const bucket = yield* bucketFor(caller, name, "manage")
  if (!(yield* isBucketEmpty(bucket))) return yield* new BucketNotEmpty({ bucket: name })
  const uploads = yield* UploadRepository
  const store = yield* BlobStore
  const pending = yield* uploads.removeBucket(name)
  yield* Effect.forEach(pending, (upload) =>
    store.abortMultipartUpload(bucketPrefix(bucket) + upload.key, upload.uploadId).pipe(Effect.ignore), { concurrency: 4 })
  yield* (yield* BucketRepository).remove(name)
})

/** Replaces the members of a bucket (whoever may manage it). */
export const setMembers = Effect.fn("Drive.setMembers")(function*(caller: Caller, name: string, members: ReadonlyArray<Member>) {
  const bucket = yield* bucketFor(caller, name, "manage")
  if (members.length > maxMembers) {
    return yield* new InvalidInput({ message: `a bucket has at most ${maxMembers} members`, field: "members" })
  }
  const seen = new Set<string>()
  for (const member of members) {
    const id = `${member.kind}:${member.id}`
    if (seen.has(id)) return yield* new InvalidInput({ message: `${member.kind} ${member.id} is listed twice`, field: "members" })
    seen.add(id)
  }
  const unique = members.filter((m) => !(m.kind === "user" && m.id === bucket.owner))
  return yield* (yield* BucketRepository).update(name, { members: unique.map((m) => new Member(m)) }).pipe(
    Effect.catchTag("NotFound", () => Effect.fail(new NoSuchBucket({ bucket: name })))
  )
})

/** Sets a bucket's quota (admins only). */
export const setQuota = Effect.fn("Drive.setQuota")(function*(caller: Caller, name: string, quota: Quota) {
  const repo = yield* BucketRepository
  const bucket = yield* repo.get(name)
  if (bucket === undefined) return yield* new NoSuchBucket({ bucket: name })
  if (!can(caller, "administer", { kind: "platform" })) {
    return yield* new Forbidden({ message: "only an admin may set quotas" })
  }
  return yield* repo.update(name, { quota: new Quota(quota) }).pipe(
    Effect.catchTag("NotFound", () => Effect.fail(new NoSuchBucket({ bucket: name })))
  )
})

/**
 * Counts a bucket's objects and bytes from the BlobStore and stores the result as its usage
 * (usage is kept by the Drive's own writes; two overwrites of one key racing each other can
 * leave it off by one object's size until a recount).
 */
export const recountUsage = Effect.fn("Drive.recountUsage")(function*(caller: Caller, name: string) {
  const bucket = yield* bucketFor(caller, name, "manage")
  const store = yield* BlobStore
  let bytes = 0
  let objects = 0
  let cursor: string | undefined
  do {
    const page = yield* store.list({ prefix: bucketPrefix(bucket), cursor }).pipe(
      Effect.catchTag(["InvalidKey", "InvalidArgument"], (error) => Effect.die(error))
    )
    for (const item of page.items) {
      bytes += item.size
      objects++
    }
    cursor = page.next
  } while (cursor !== undefined)
  const usage = new Usage({ bytes, objects })
  yield* (yield* BucketRepository).setUsage(name, usage).pipe(
    Effect.catchTag("NotFound", () => Effect.fail(new NoSuchBucket({ bucket: name })))
  )
  return usage
})

export { canOnBucket }
