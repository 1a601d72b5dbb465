/**
 * In-memory repositories for unit tests and single-process experiments. Each build of a layer
 * starts empty. They pass the conformance kit in `testing.ts`.
 * @module
 */
import { AlreadyExists, NotFound } from "@aquifer/core"
import { compareKeys } from "@aquifer/blob"
import { Effect, Layer } from "effect"
import { QuotaExceeded } from "./errors.ts"
import { type AccessKey, Bucket, CompletedUpload, type MultipartUpload, Usage } from "./model.ts"
import { AccessKeyRepository, BucketRepository, UploadRepository } from "./repositories.ts"

const byName = (a: Bucket, b: Bucket) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)

/** Checks a usage change against a quota; shared with the SQL implementation's messages. */
export const quotaProblem = (bucket: Bucket, delta: { bytes: number; objects: number }): string | undefined => {
  const { maxBytes, maxObjects } = bucket.quota
  if (delta.bytes > 0 && maxBytes !== undefined && bucket.usage.bytes + delta.bytes > maxBytes) {
    return `the bucket may hold at most ${maxBytes} bytes (${bucket.usage.bytes} used, ${delta.bytes} more requested)`
  }
  if (delta.objects > 0 && maxObjects !== undefined && bucket.usage.objects + delta.objects > maxObjects) {
    return `the bucket may hold at most ${maxObjects} objects (${bucket.usage.objects} stored)`
  }
  return undefined
}

export const layerBucketsMemory: Layer.Layer<BucketRepository> = Layer.sync(BucketRepository, () => {
  const buckets = new Map<string, Bucket>()
  const withUsage = (bucket: Bucket, usage: Usage) => new Bucket({ ...bucket, usage })
  return BucketRepository.of({
    insert: (bucket) =>
      Effect.suspend(() => {
        if (buckets.has(bucket.name)) return Effect.fail(new AlreadyExists({ resource: "bucket", id: bucket.name }))
        if (bucket.home && [...buckets.values()].some((b) => b.home && b.owner === bucket.owner)) {
          return Effect.fail(new AlreadyExists({ resource: "home", id: bucket.owner }))
        }
        buckets.set(bucket.name, bucket)
        return Effect.void
      }),
    get: (name) => Effect.sync(() => buckets.get(name)),
    home: (owner) => Effect.sync(() => [...buckets.values()].find((b) => b.home && b.owner === owner)),
    listAccessible: (principal, groups) =>
      Effect.sync(() =>
        [...buckets.values()]
          .filter((b) =>
            b.owner === principal ||
            b.members.some((m) => (m.kind === "user" && m.id === principal) || (m.kind === "group" && groups.includes(m.id)))
          )
          .sort(byName)
          .slice(0, 1000)
      ),
    update: (name, changes) =>
      Effect.suspend(() => {
        const current = buckets.get(name)
        if (current === undefined) return Effect.fail(new NotFound({ resource: "bucket", id: name }))
        const next = new Bucket({
          ...current,
          members: changes.members ?? current.members,
          quota: changes.quota ?? current.quota
        })
        buckets.set(name, next)
        return Effect.succeed(next)
      }),
    remove: (name) => Effect.sync(() => void buckets.delete(name)),
    adjustUsage: (name, delta, enforce) =>
      Effect.suspend((): Effect.Effect<Usage, QuotaExceeded | NotFound> => {
        const current = buckets.get(name)
        if (current === undefined) return Effect.fail(new NotFound({ resource: "bucket", id: name }))
        const problem = enforce ? quotaProblem(current, delta) : undefined
        if (problem !== undefined) return Effect.fail(new QuotaExceeded({ bucket: name, message: problem }))
        const usage = new Usage({
          bytes: Math.max(0, current.usage.bytes + delta.bytes),
          objects: Math.max(0, current.usage.objects + delta.objects)
        })
        buckets.set(name, withUsage(current, usage))
        return Effect.succeed(usage)
      }),
    setUsage: (name, usage) =>
      Effect.suspend(() => {
        const current = buckets.get(name)
        if (current === undefined) return Effect.fail(new NotFound({ resource: "bucket", id: name }))
        buckets.set(name, withUsage(current, usage))
        return Effect.void
      })
  })
})

export const layerAccessKeysMemory: Layer.Layer<AccessKeyRepository> = Layer.sync(AccessKeyRepository, () => {
  const keys = new Map<string, AccessKey>()
  const revoked = new Map<string, Date>()
  return AccessKeyRepository.of({
    insert: (key) =>
      Effect.suspend(() => {
        if (keys.has(key.id)) return Effect.fail(new AlreadyExists({ resource: "access-key", id: key.id }))
        keys.set(key.id, key)
        return Effect.void
      }),
    get: (id) => Effect.sync(() => keys.get(id)),
    listByPrincipal: (principal) =>
      Effect.sync(() =>
        [...keys.values()]
          .filter((key) => key.principal.key === principal)
          .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1))
      ),
    remove: (id) => Effect.sync(() => keys.delete(id)),
    revokeSessions: (principal, notBefore) =>
      Effect.sync(() => {
        const current = revoked.get(principal)
        const stored = current !== undefined && current.getTime() >= notBefore.getTime() ? current : new Date(notBefore.getTime())
        revoked.set(principal, stored)
        return stored
      }),
    sessionsNotBefore: (principal) => Effect.sync(() => revoked.get(principal))
  })
})

const uploadOrder = (a: MultipartUpload, b: MultipartUpload) =>
  compareKeys(a.key, b.key) || (a.uploadId < b.uploadId ? -1 : a.uploadId > b.uploadId ? 1 : 0)

export const layerUploadsMemory: Layer.Layer<UploadRepository> = Layer.sync(UploadRepository, () => {
  const uploads = new Map<string, MultipartUpload>()
  const completed = new Map<string, CompletedUpload>()
  const id = (bucket: string, uploadId: string) => `${bucket}\u0000${uploadId}`
  return UploadRepository.of({
    insert: (upload) =>
      Effect.suspend(() => {
        const at = id(upload.bucket, upload.uploadId)
        if (uploads.has(at) || completed.has(at)) {
          return Effect.fail(new AlreadyExists({ resource: "upload", id: upload.uploadId }))
        }
        uploads.set(at, upload)
        return Effect.void
      }),
    get: (bucket, uploadId) => Effect.sync(() => uploads.get(id(bucket, uploadId))),
    remove: (bucket, uploadId) =>
      Effect.sync(() => {
        const at = id(bucket, uploadId)
        const known = uploads.delete(at)
        return completed.delete(at) || known
      }),
    markCompleted: (bucket, uploadId, completion) =>
      Effect.sync(() => {
        const at = id(bucket, uploadId)
        const upload = uploads.get(at)
        if (upload === undefined) return false
        uploads.delete(at)
        completed.set(at, new CompletedUpload({ ...upload, ...completion }))
        return true
      }),
    getCompleted: (bucket, uploadId) => Effect.sync(() => completed.get(id(bucket, uploadId))),
    forgetCompleted: (before) =>
      Effect.sync(() => {
        let count = 0
        for (const [at, upload] of completed) {
          if (upload.completedAt.getTime() < before.getTime()) {
            completed.delete(at)
            count++
          }
        }
        return count
      }),
    list: (bucket, options) =>
      Effect.sync(() => {
        const prefix = options.prefix ?? ""
        const { keyMarker, uploadIdMarker } = options
        const matching = [...uploads.values()]
          .filter((u) => u.bucket === bucket && u.key.startsWith(prefix))
          .filter((u) => {
            if (keyMarker === undefined) return true
            const byKey = compareKeys(u.key, keyMarker)
            if (byKey !== 0) return byKey > 0
            return uploadIdMarker !== undefined && u.uploadId > uploadIdMarker
          })
          .sort(uploadOrder)
        return { uploads: matching.slice(0, options.limit), truncated: matching.length > options.limit }
      }),
    removeBucket: (bucket) =>
      Effect.sync(() => {
        const removed = [...uploads.values()].filter((u) => u.bucket === bucket)
        for (const upload of removed) uploads.delete(id(upload.bucket, upload.uploadId))
        for (const upload of completed.values()) {
          if (upload.bucket === bucket) completed.delete(id(upload.bucket, upload.uploadId))
        }
        return removed
      })
  })
})

/** All three repositories in memory. */
export const layerMemory: Layer.Layer<BucketRepository | AccessKeyRepository | UploadRepository> = Layer.mergeAll(
  layerBucketsMemory,
  layerAccessKeysMemory,
  layerUploadsMemory
)
