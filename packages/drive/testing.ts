/**
 * The conformance kit of the Drive's repositories. Every implementation runs it in one line:
 *
 * ```ts
 * import { suite } from "@aquifer/drive/testing"
 * suite("postgres", myRepositoriesLayer)
 * ```
 *
 * The layer is built once for the whole suite and may already hold records (a shared
 * database): each case works with names and owners of its own.
 * @module
 */
import { assert, describe, layer } from "@effect/vitest"
import { Principal } from "@aquifer/core"
import { Effect, Layer } from "effect"
import { AccessKey, Bucket, CompletedUpload, Member, MultipartUpload, Quota, Usage } from "./model.ts"
import { AccessKeyRepository, BucketRepository, UploadRepository } from "./repositories.ts"

const suffix = () => crypto.randomUUID().replaceAll("-", "").slice(0, 10)

const bucketOf = (fields: { name: string; owner: string; home?: boolean; members?: Array<Member>; quota?: Quota; createdAt?: Date }) =>
  new Bucket({
    name: fields.name as Bucket["name"],
    storageId: crypto.randomUUID().replaceAll("-", "").slice(0, 16),
    owner: fields.owner,
    home: fields.home ?? false,
    createdAt: fields.createdAt ?? new Date(Date.UTC(2026, 11, 6, 12, 0, 0, 123)),
    members: fields.members ?? [],
    quota: fields.quota ?? new Quota({}),
    usage: new Usage({ bytes: 0, objects: 0 })
  })

const principalOf = (subject: string) =>
  Principal.make({ issuer: "https://issuer.test", subject, name: "Ünïcødé Tester", email: `${subject}@example.test`, groups: ["ds", "ml"], roles: ["full"] })

const keyId = () => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
  let id = "AQK"
  for (const byte of crypto.getRandomValues(new Uint8Array(17))) id += alphabet[byte & 31]
  return id
}

export const suite = <E>(
  name: string,
  repositories: Layer.Layer<BucketRepository | AccessKeyRepository | UploadRepository, E>
): void => {
  describe(`Drive repositories conformance: ${name}`, () => {
    layer(repositories, { timeout: 120_000 })((it) => {
      it.effect("stores a bucket with every field and finds it by name and as a home", () =>
        Effect.gen(function*() {
          const repo = yield* BucketRepository
          const owner = `https://issuer.test#${suffix()}`
          const bucket = bucketOf({
            name: `home-${suffix()}`,
            owner,
            home: true,
            members: [new Member({ kind: "user", id: "https://issuer.test#friend", access: "read" }), new Member({ kind: "group", id: "ds", access: "read-write" })],
            quota: new Quota({ maxBytes: 10_000_000_000, maxObjects: 5 })
          })
          yield* repo.insert(bucket)
          assert.deepStrictEqual(yield* repo.get(bucket.name), bucket)
          assert.deepStrictEqual(yield* repo.home(owner), bucket)
          assert.isUndefined(yield* repo.get(`absent-${suffix()}`))
          assert.isUndefined(yield* repo.home(`https://issuer.test#${suffix()}`))
        }))

      it.effect("refuses a taken name and a second home bucket with AlreadyExists", () =>
        Effect.gen(function*() {
          const repo = yield* BucketRepository
          const owner = `https://issuer.test#${suffix()}`
          const first = bucketOf({ name: `b-${suffix()}`, owner, home: true })
          yield* repo.insert(first)
          const sameName = yield* Effect.flip(repo.insert(bucketOf({ name: first.name, owner: "https://issuer.test#other" })))
          assert.strictEqual(sameName._tag, "AlreadyExists")
          assert.strictEqual(sameName._tag === "AlreadyExists" && sameName.resource, "bucket")
          const secondHome = yield* Effect.flip(repo.insert(bucketOf({ name: `b-${suffix()}`, owner, home: true })))
          assert.strictEqual(secondHome._tag === "AlreadyExists" && secondHome.resource, "home")
          yield* repo.insert(bucketOf({ name: `b-${suffix()}`, owner, home: false }))
          assert.strictEqual((yield* repo.get(first.name))?.owner, owner)
        }))

      it.effect("lists the buckets a principal owns or is a member of, directly or by group, by name", () =>
        Effect.gen(function*() {
          const repo = yield* BucketRepository
          const me = `https://issuer.test#${suffix()}`
          const group = `group-${suffix()}`
          const someone = `https://issuer.test#${suffix()}`
          const tag = suffix()
          const mine = bucketOf({ name: `c-${tag}-mine`, owner: me })
          const direct = bucketOf({ name: `a-${tag}-direct`, owner: someone, members: [new Member({ kind: "user", id: me, access: "read" })] })
          const byGroup = bucketOf({ name: `b-${tag}-group`, owner: someone, members: [new Member({ kind: "group", id: group, access: "read-write" })] })
          const other = bucketOf({ name: `d-${tag}-other`, owner: someone })
          for (const bucket of [mine, direct, byGroup, other]) yield* repo.insert(bucket)
          const listed = yield* repo.listAccessible(me, [group, "unrelated"])
          assert.deepStrictEqual(listed.map((b) => b.name), [direct.name, byGroup.name, mine.name])
          assert.deepStrictEqual((yield* repo.listAccessible(me, [])).map((b) => b.name), [direct.name, mine.name])
        }))

      it.effect("updates members and quota, and removes idempotently", () =>
        Effect.gen(function*() {
          const repo = yield* BucketRepository
          const bucket = bucketOf({ name: `u-${suffix()}`, owner: `https://issuer.test#${suffix()}` })
          yield* repo.insert(bucket)
          const members = [new Member({ kind: "group", id: "team", access: "read" })]
          const withMembers = yield* repo.update(bucket.name, { members })
          assert.deepStrictEqual(withMembers.members, members)
          const withQuota = yield* repo.update(bucket.name, { quota: new Quota({ maxObjects: 3 }) })
          assert.deepStrictEqual(withQuota.members, members)
          assert.deepStrictEqual(withQuota.quota, new Quota({ maxObjects: 3 }))
          assert.deepStrictEqual(yield* repo.get(bucket.name), withQuota)
          yield* repo.remove(bucket.name)
          yield* repo.remove(bucket.name)
          assert.isUndefined(yield* repo.get(bucket.name))
          const gone = yield* Effect.flip(repo.update(bucket.name, { members: [] }))
          assert.strictEqual(gone._tag, "NotFound")
        }))

      it.effect("adjusts usage atomically, enforcing the quota only when asked and never below zero", () =>
        Effect.gen(function*() {
          const repo = yield* BucketRepository
          const bucket = bucketOf({ name: `q-${suffix()}`, owner: `https://issuer.test#${suffix()}`, quota: new Quota({ maxBytes: 100, maxObjects: 2 }) })
          yield* repo.insert(bucket)
          assert.deepStrictEqual(yield* repo.adjustUsage(bucket.name, { bytes: 60, objects: 1 }, true), new Usage({ bytes: 60, objects: 1 }))
          const over = yield* Effect.flip(repo.adjustUsage(bucket.name, { bytes: 41, objects: 0 }, true))
          assert.strictEqual(over._tag, "QuotaExceeded")
          const tooMany = yield* Effect.flip(repo.adjustUsage(bucket.name, { bytes: 1, objects: 2 }, true))
          assert.strictEqual(tooMany._tag, "QuotaExceeded")
          assert.deepStrictEqual((yield* repo.get(bucket.name))?.usage, new Usage({ bytes: 60, objects: 1 }))
          assert.deepStrictEqual(yield* repo.adjustUsage(bucket.name, { bytes: 40, objects: 1 }, true), new Usage({ bytes: 100, objects: 2 }))
          assert.deepStrictEqual(yield* repo.adjustUsage(bucket.name, { bytes: 500, objects: 5 }, false), new Usage({ bytes: 600, objects: 7 }))
          assert.deepStrictEqual(yield* repo.adjustUsage(bucket.name, { bytes: -10_000, objects: -100 }, true), new Usage({ bytes: 0, objects: 0 }))
          yield* repo.setUsage(bucket.name, new Usage({ bytes: 7, objects: 1 }))
          assert.deepStrictEqual((yield* repo.get(bucket.name))?.usage, new Usage({ bytes: 7, objects: 1 }))
          const missing = yield* Effect.flip(repo.adjustUsage(`missing-${suffix()}`, { bytes: 1, objects: 0 }, true))
          assert.strictEqual(missing._tag, "NotFound")
        }))

      it.effect("counts usage and quotas beyond 32 bits (objects of several GiB)", () =>
        Effect.gen(function*() {
          const repo = yield* BucketRepository
          const fiveGiB = 5 * 1024 ** 3
          const bucket = bucketOf({ name: `g-${suffix()}`, owner: `https://issuer.test#${suffix()}`, quota: new Quota({ maxBytes: 3 * fiveGiB }) })
          yield* repo.insert(bucket)
          assert.deepStrictEqual(yield* repo.adjustUsage(bucket.name, { bytes: fiveGiB, objects: 1 }, true), new Usage({ bytes: fiveGiB, objects: 1 }))
          assert.deepStrictEqual(yield* repo.adjustUsage(bucket.name, { bytes: fiveGiB, objects: 1 }, true), new Usage({ bytes: 2 * fiveGiB, objects: 2 }))
          const over = yield* Effect.flip(repo.adjustUsage(bucket.name, { bytes: fiveGiB + 1, objects: 1 }, true))
          assert.strictEqual(over._tag, "QuotaExceeded")
          assert.deepStrictEqual(yield* repo.adjustUsage(bucket.name, { bytes: -fiveGiB, objects: -1 }, true), new Usage({ bytes: fiveGiB, objects: 1 }))
          yield* repo.setUsage(bucket.name, new Usage({ bytes: 4 * fiveGiB, objects: 9 }))
          assert.deepStrictEqual((yield* repo.get(bucket.name))?.usage, new Usage({ bytes: 4 * fiveGiB, objects: 9 }))
          const big = yield* repo.update(bucket.name, { quota: new Quota({ maxBytes: 100 * fiveGiB }) })
          assert.strictEqual(big.quota.maxBytes, 100 * fiveGiB)
        }))

      it.effect("never lets concurrent reservations exceed the quota together", () =>
        Effect.gen(function*() {
          const repo = yield* BucketRepository
          const bucket = bucketOf({ name: `r-${suffix()}`, owner: `https://issuer.test#${suffix()}`, quota: new Quota({ maxBytes: 100 }) })
          yield* repo.insert(bucket)
          const outcomes = yield* Effect.forEach(
            Array.from({ length: 25 }, () => 10),
            (bytes) => Effect.result(repo.adjustUsage(bucket.name, { bytes, objects: 1 }, true)),
            { concurrency: 8 }
          )
          assert.strictEqual(outcomes.filter((o) => o._tag === "Success").length, 10)
          assert.deepStrictEqual((yield* repo.get(bucket.name))?.usage, new Usage({ bytes: 100, objects: 10 }))
        }))

      it.effect("stores access keys with their principal, lists them oldest first, removes them", () =>
        Effect.gen(function*() {
          const repo = yield* AccessKeyRepository
          const principal = principalOf(suffix())
          const first = new AccessKey({ id: keyId(), principal, description: "laptop ✓", createdAt: new Date(Date.UTC(2026, 0, 1)), sealedSecret: "sealed-1" })
          const second = new AccessKey({ id: keyId(), principal, description: "", createdAt: new Date(Date.UTC(2026, 0, 2)), sealedSecret: "sealed-2" })
          yield* repo.insert(second)
          yield* repo.insert(first)
          const got = yield* repo.get(first.id)
          assert.deepStrictEqual(got, first)
          assert.strictEqual(got?.principal.key, principal.key)
          assert.deepStrictEqual((yield* repo.listByPrincipal(principal.key)).map((k) => k.id), [first.id, second.id])
          const duplicate = yield* Effect.flip(repo.insert(first))
          assert.strictEqual(duplicate._tag, "AlreadyExists")
          assert.isTrue(yield* repo.remove(first.id))
          assert.isFalse(yield* repo.remove(first.id))
          assert.isUndefined(yield* repo.get(first.id))
          assert.deepStrictEqual((yield* repo.listByPrincipal(principal.key)).map((k) => k.id), [second.id])
        }))

      it.effect("keeps one revocation time of temporary credentials per principal, never moving it back", () =>
        Effect.gen(function*() {
          const repo = yield* AccessKeyRepository
          const me = `https://issuer.test#${suffix()}`
          const other = `https://issuer.test#${suffix()}`
          assert.isUndefined(yield* repo.sessionsNotBefore(me))
          const first = new Date(Date.UTC(2026, 11, 6, 12, 0, 0, 123))
          assert.deepStrictEqual(yield* repo.revokeSessions(me, first), first)
          assert.deepStrictEqual(yield* repo.sessionsNotBefore(me), first)
          assert.deepStrictEqual(yield* repo.revokeSessions(me, new Date(first.getTime() - 60_000)), first)
          assert.deepStrictEqual(yield* repo.sessionsNotBefore(me), first)
          const later = new Date(first.getTime() + 1)
          assert.deepStrictEqual(yield* repo.revokeSessions(me, later), later)
          assert.deepStrictEqual(yield* repo.sessionsNotBefore(me), later)
          assert.isUndefined(yield* repo.sessionsNotBefore(other))
          const racing = yield* Effect.forEach([5, 3, 9, 1], (minutes) => repo.revokeSessions(other, new Date(first.getTime() + minutes * 60_000)), {
            concurrency: 4
          })
          assert.strictEqual(racing.length, 4)
          assert.deepStrictEqual(yield* repo.sessionsNotBefore(other), new Date(first.getTime() + 9 * 60_000))
        }))

      it.effect("records uploads per bucket and lists them by key then id, after markers, in pages", () =>
        Effect.gen(function*() {
          const repo = yield* UploadRepository
          const bucket = `m-${suffix()}` as MultipartUpload["bucket"]
          const other = `m-${suffix()}` as MultipartUpload["bucket"]
          const at = new Date(Date.UTC(2026, 5, 1))
          const upload = (key: string, uploadId: string, inBucket = bucket) =>
            new MultipartUpload({ uploadId, bucket: inBucket, key, initiator: "https://issuer.test#x", createdAt: at })
          const all = [upload("b/2", "u3"), upload("a", "u2"), upload("a", "u1"), upload("b/1", "u4"), upload("\u{E000}", "u5"), upload("\u{1F600}", "u6")]
          for (const u of all) yield* repo.insert(u)
          yield* repo.insert(upload("a", "u1", other))
          assert.deepStrictEqual(yield* repo.get(bucket, "u2"), all[1])
          assert.isUndefined(yield* repo.get(bucket, "nope"))
          const duplicate = yield* Effect.flip(repo.insert(all[0]!))
          assert.strictEqual(duplicate._tag, "AlreadyExists")

          const ids = (page: { uploads: ReadonlyArray<MultipartUpload> }) => page.uploads.map((u) => u.uploadId)
          const full = yield* repo.list(bucket, { limit: 1000 })
          assert.deepStrictEqual(ids(full), ["u1", "u2", "u4", "u3", "u5", "u6"])
          assert.isFalse(full.truncated)
          const first = yield* repo.list(bucket, { limit: 2 })
          assert.deepStrictEqual(ids(first), ["u1", "u2"])
          assert.isTrue(first.truncated)
          assert.deepStrictEqual(ids(yield* repo.list(bucket, { keyMarker: "a", uploadIdMarker: "u1", limit: 2 })), ["u2", "u4"])
          assert.deepStrictEqual(ids(yield* repo.list(bucket, { keyMarker: "a", limit: 10 })), ["u4", "u3", "u5", "u6"])
          assert.deepStrictEqual(ids(yield* repo.list(bucket, { prefix: "b/", limit: 10 })), ["u4", "u3"])

          assert.isTrue(yield* repo.remove(bucket, "u2"))
          assert.isFalse(yield* repo.remove(bucket, "u2"))
          assert.isFalse(yield* repo.remove(other, "u3"))
          const removed = yield* repo.removeBucket(bucket)
          assert.deepStrictEqual(removed.map((u) => u.uploadId).sort(), ["u1", "u3", "u4", "u5", "u6"])
          assert.deepStrictEqual(ids(yield* repo.list(bucket, { limit: 10 })), [])
          assert.deepStrictEqual(ids(yield* repo.list(other, { limit: 10 })), ["u1"])
        }))

      it.effect("marks uploads completed: no longer in progress, found as completed until forgotten", () =>
        Effect.gen(function*() {
          const repo = yield* UploadRepository
          const bucket = `c-${suffix()}` as MultipartUpload["bucket"]
          const created = new Date(Date.UTC(2026, 5, 1))
          const upload = (key: string, uploadId: string) =>
            new MultipartUpload({ uploadId, bucket, key, initiator: "https://issuer.test#x", createdAt: created })
          const [first, second, third] = [upload("big/one.bin", "c1"), upload("big/two.bin", "c2"), upload("big/three.bin", "c3")]
          for (const u of [first!, second!, third!]) yield* repo.insert(u)
          // Far in the past, so no other suite's records are older when this one forgets.
          const early = new Date(Date.UTC(1990, 0, 1, 12))
          const later = new Date(Date.UTC(1990, 0, 1, 13))
          const fiveGiB = 5 * 1024 ** 3
          const completion = { completedAt: early, etag: "etag-1", size: fiveGiB, partsDigest: "digest-1" }
          assert.isTrue(yield* repo.markCompleted(bucket, "c1", completion))
          assert.isFalse(yield* repo.markCompleted(bucket, "c1", { ...completion, etag: "again" }))
          assert.isFalse(yield* repo.markCompleted(bucket, "absent", completion))
          assert.isTrue(yield* repo.markCompleted(bucket, "c2", { ...completion, completedAt: later, etag: "etag-2", size: 0 }))
          assert.isUndefined(yield* repo.get(bucket, "c1"))
          assert.deepStrictEqual(yield* repo.getCompleted(bucket, "c1"), new CompletedUpload({ ...first!, ...completion }))
          assert.isUndefined(yield* repo.getCompleted(bucket, "c3"))
          assert.isUndefined(yield* repo.getCompleted(`x-${suffix()}`, "c1"))
          assert.deepStrictEqual((yield* repo.list(bucket, { limit: 10 })).uploads.map((u) => u.uploadId), ["c3"])
          const duplicate = yield* Effect.flip(repo.insert(first!))
          assert.strictEqual(duplicate._tag, "AlreadyExists")

          assert.isAtLeast(yield* repo.forgetCompleted(new Date(early.getTime() + 1)), 1)
          assert.isUndefined(yield* repo.getCompleted(bucket, "c1"))
          assert.strictEqual((yield* repo.getCompleted(bucket, "c2"))?.etag, "etag-2")
          assert.isDefined(yield* repo.get(bucket, "c3"))
          assert.isTrue(yield* repo.remove(bucket, "c2"))
          assert.isUndefined(yield* repo.getCompleted(bucket, "c2"))

          yield* repo.insert(upload("big/four.bin", "c4"))
          assert.isTrue(yield* repo.markCompleted(bucket, "c4", { ...completion, completedAt: new Date() }))
          const removed = yield* repo.removeBucket(bucket)
          assert.deepStrictEqual(removed.map((u) => u.uploadId), ["c3"])
          assert.isUndefined(yield* repo.getCompleted(bucket, "c4"))
        }))
    })
  })
}
