import { assert, describe, it, layer } from "@effect/vitest"
import { layerMemory as blobMemory } from "@aquifer/blob"
import { Principal, Unauthenticated } from "@aquifer/core"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import {
  assumeRoleWithWebIdentity,
  bucketNameProblem,
  createAccessKey,
  createBucket,
  DriveCredentials,
  ensureHomeBucket,
  evaluatePreconditions,
  getObject,
  layerCredentials,
  layerMemory,
  layerSettings,
  listAccessKeys,
  listBuckets,
  listObjects,
  Member,
  objectKeyProblem,
  putObject,
  Quota,
  recountUsage,
  resolveAccessKey,
  revokeAccessKey,
  revokeTemporaryCredentials,
  setMembers,
  temporaryCredentialsNotBefore,
  setQuota,
  defaultDriveSettings,
  WebIdentityVerifier,
  deleteObject,
  deleteBucket,
  BucketRepository,
  AccessKeyRepository,
  abortMultipartUpload,
  completeMultipartUpload,
  completedUploadRetentionMillis,
  createMultipartUpload,
  listMultipartUploads,
  MultipartUpload,
  uploadPart,
  UploadRepository
} from "./mod.ts"

const person = (subject: string, roles: Array<"admin" | "full" | "visitor"> = ["full"], groups: Array<string> = []) => ({
  principal: Principal.make({ issuer: "https://id.test", subject, name: `${subject} Example`, email: `${subject}@example.test`, groups, roles })
})
const alice = person("alice")
const bob = person("bob", ["full"], ["analysts"])
const carol = person("carol", ["visitor"])
const admin = person("root", ["admin"])

const verifier = Layer.succeed(WebIdentityVerifier, WebIdentityVerifier.of({
  verify: (token) =>
    token === "good-token"
      ? Effect.succeed(alice.principal)
      : token === "bob-token"
      ? Effect.succeed(bob.principal)
      : Effect.fail(new Unauthenticated({ message: "bad token" }))
}))

const testLayer = Layer.mergeAll(
  blobMemory,
  layerMemory,
  layerCredentials(crypto.getRandomValues(new Uint8Array(32))),
  verifier,
  layerSettings({ ...defaultDriveSettings, homeQuota: new Quota({ maxBytes: 100, maxObjects: 3 }), sts: { minDurationSeconds: 60, maxDurationSeconds: 3600, defaultDurationSeconds: 600 } })
)

const body = (text: string) => new Blob([text]).stream()
const put = (caller: typeof alice, bucket: string, key: string, text: string) =>
  putObject(caller, { bucket, key, body: body(text), contentLength: new TextEncoder().encode(text).length })
const read = (caller: typeof alice, bucket: string, key: string) =>
  Effect.flatMap(getObject(caller, { bucket, key }), (result) =>
    result._tag === "Body" ? Effect.promise(() => new Response(result.body).text()) : Effect.die("not modified"))

describe("names and keys", () => {
  it("follows S3's bucket naming rules", () => {
    for (const good of ["abc", "team-data", "a.b.c", "x".repeat(63), "1st-bucket"]) assert.isUndefined(bucketNameProblem(good), good)
    for (const bad of ["ab", "x".repeat(64), "Team", "a_b", "-ab", "ab-", "a..b", "a.-b", "10.0.0.1", "xn--abc", "abc-s3alias", ""]) {
      assert.isDefined(bucketNameProblem(bad), bad)
    }
  })

  it("keeps object keys opaque or refuses them, never letting them leave the bucket's prefix", () => {
    for (const good of ["a", "a/b/c.txt", "folder/", "a//b", "日本語/ファイル", "..hidden", "a/..b"]) assert.isUndefined(objectKeyProblem(good), good)
    for (const bad of ["", "/abs", "../x", "a/../b", "a/./b", "..", "a\\b", "nul\u0000", "x".repeat(1002)]) {
      assert.isDefined(objectKeyProblem(bad), JSON.stringify(bad))
    }
    assert.isTrue(objectKeyProblem("x".repeat(1002))!.tooLong)
  })

  it("evaluates conditional requests as RFC 9110 orders them", () => {
    const info = { etag: "abc", lastModified: new Date("2026-01-01T00:00:10.500Z") }
    assert.strictEqual(evaluatePreconditions(info, { ifMatch: "\"abc\"" }), "ok")
    assert.strictEqual(evaluatePreconditions(info, { ifMatch: "\"x\", \"abc\"" }), "ok")
    assert.strictEqual(evaluatePreconditions(info, { ifMatch: "\"x\"" }), "failed")
    assert.strictEqual(evaluatePreconditions(info, { ifMatch: "*", ifUnmodifiedSince: new Date("2025-01-01") }), "ok")
    assert.strictEqual(evaluatePreconditions(info, { ifUnmodifiedSince: new Date("2025-01-01") }), "failed")
    assert.strictEqual(evaluatePreconditions(info, { ifNoneMatch: "W/\"abc\"" }), "not-modified")
    assert.strictEqual(evaluatePreconditions(info, { ifNoneMatch: "\"x\"", ifModifiedSince: new Date("2027-01-01") }), "ok")
    assert.strictEqual(evaluatePreconditions(info, { ifModifiedSince: new Date("2026-01-01T00:00:10Z") }), "not-modified")
    assert.strictEqual(evaluatePreconditions(info, { ifModifiedSince: new Date("2026-01-01T00:00:09Z") }), "ok")
  })
})

describe("use cases", () => {
  layer(testLayer)((it) => {
    it.effect("gives every non-visitor one home bucket with the home quota, created once even under a race", () =>
      Effect.gen(function*() {
        const homes = yield* Effect.forEach([1, 2, 3, 4], () => ensureHomeBucket(alice), { concurrency: 4 })
        assert.strictEqual(new Set(homes.map((h) => h?.name)).size, 1)
        assert.match(homes[0]!.name, /^alice-[0-9a-f]{8}$/)
        assert.deepStrictEqual(homes[0]!.quota, new Quota({ maxBytes: 100, maxObjects: 3 }))
        assert.isUndefined(yield* ensureHomeBucket(carol))
        assert.deepStrictEqual((yield* listBuckets(carol)).map((b) => b.name), [])
      }))

    it.effect("enforces quotas on bytes and objects, frees space on delete, and refuses a write that would overflow", () =>
      Effect.gen(function*() {
        const home = (yield* ensureHomeBucket(alice))!.name
        yield* put(alice, home, "a", "x".repeat(60))
        const tooBig = yield* Effect.flip(put(alice, home, "b", "x".repeat(41)))
        assert.strictEqual(tooBig._tag, "QuotaExceeded")
        yield* put(alice, home, "a", "x".repeat(90))
        yield* put(alice, home, "b", "x".repeat(10))
        const third = yield* Effect.flip(put(alice, home, "c", "x".repeat(1)))
        assert.strictEqual(third._tag, "QuotaExceeded")
        yield* deleteObject(alice, { bucket: home, key: "a" })
        yield* put(alice, home, "c", "x".repeat(80))
        yield* put(alice, home, "d", "")
        const fourth = yield* Effect.flip(put(alice, home, "e", ""))
        assert.strictEqual(fourth._tag, "QuotaExceeded")
        const listed = yield* listObjects(alice, { bucket: home, limit: 100 })
        assert.deepStrictEqual(listed.items.map((i) => i.key), ["b", "c", "d"])
        const bucket = yield* (yield* BucketRepository).get(home)
        assert.deepStrictEqual([bucket!.usage.bytes, bucket!.usage.objects], [90, 3])
        assert.deepStrictEqual(yield* recountUsage(alice, home), bucket!.usage)
        const notAdmin = yield* Effect.flip(setQuota(alice, home, new Quota({})))
        assert.strictEqual(notAdmin._tag, "Forbidden")
        yield* setQuota(admin, home, new Quota({ maxBytes: 1000 }))
        yield* put(alice, home, "e", "x".repeat(500))
      }))

    it.effect("shares buckets with read and read-write members, by user or group; only the owner manages them", () =>
      Effect.gen(function*() {
        yield* createBucket(alice, "alice-shared")
        yield* put(alice, "alice-shared", "report.txt", "numbers")
        const bobCannotRead = yield* Effect.flip(read(bob, "alice-shared", "report.txt"))
        assert.strictEqual(bobCannotRead._tag, "Forbidden")
        yield* setMembers(alice, "alice-shared", [new Member({ kind: "group", id: "analysts", access: "read" }), new Member({ kind: "user", id: carol.principal.key, access: "read-write" })])
        assert.strictEqual(yield* read(bob, "alice-shared", "report.txt"), "numbers")
        const bobCannotWrite = yield* Effect.flip(put(bob, "alice-shared", "x", "y"))
        assert.strictEqual(bobCannotWrite._tag, "Forbidden")
        yield* put(carol, "alice-shared", "from-carol.txt", "hi")
        assert.include((yield* listBuckets(bob)).map((b): string => b.name), "alice-shared")
        assert.include((yield* listBuckets(carol)).map((b): string => b.name), "alice-shared")
        const bobCannotShare = yield* Effect.flip(setMembers(bob, "alice-shared", []))
        assert.strictEqual(bobCannotShare._tag, "Forbidden")
        const carolCannotDelete = yield* Effect.flip(deleteBucket(carol, "alice-shared"))
        assert.strictEqual(carolCannotDelete._tag, "Forbidden")
        const visitorCannotCreate = yield* Effect.flip(createBucket(carol, "carol-own"))
        assert.strictEqual(visitorCannotCreate._tag, "Forbidden")
        yield* setMembers(alice, "alice-shared", [])
        assert.strictEqual((yield* Effect.flip(read(bob, "alice-shared", "report.txt")))._tag, "Forbidden")
        assert.strictEqual(yield* read(admin, "alice-shared", "from-carol.txt"), "hi")
      }))

    it.effect("creates, resolves and revokes long-lived access keys; secrets are sealed and never listed", () =>
      Effect.gen(function*() {
        const created = yield* createAccessKey(bob, "laptop")
        assert.match(created.id, /^AQK[A-Z2-7]{17}$/)
        assert.strictEqual(created.secretAccessKey.length, 40)
        const listed = yield* listAccessKeys(bob)
        assert.deepStrictEqual(listed.map((k) => k.id), [created.id])
        assert.notInclude(JSON.stringify(listed), created.secretAccessKey)
        const resolved = yield* resolveAccessKey(created.id, undefined)
        assert.strictEqual(resolved.secretAccessKey, created.secretAccessKey)
        assert.strictEqual(resolved.principal.key, bob.principal.key)
        const stored = yield* (yield* AccessKeyRepository).get(created.id)
        assert.notInclude(JSON.stringify(stored), created.secretAccessKey)
        assert.strictEqual((yield* Effect.flip(revokeAccessKey(alice, created.id)))._tag, "NotFound")
        yield* revokeAccessKey(bob, created.id)
        assert.strictEqual((yield* Effect.flip(resolveAccessKey(created.id, undefined)))._tag, "InvalidAccessKeyId")
        assert.strictEqual((yield* Effect.flip(resolveAccessKey("AQKAAAAAAAAAAAAAAAAA", undefined)))._tag, "InvalidAccessKeyId")
      }))

    it.effect("exchanges a web identity token for temporary credentials that work until they expire", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(Date.UTC(2026, 11, 6, 12))
        const refused = yield* Effect.flip(assumeRoleWithWebIdentity({ webIdentityToken: "forged" }))
        assert.strictEqual(refused._tag, "Unauthenticated")
        const tooLong = yield* Effect.flip(assumeRoleWithWebIdentity({ webIdentityToken: "good-token", durationSeconds: 3601 }))
        assert.strictEqual(tooLong._tag, "InvalidInput")
        const { credentials } = yield* assumeRoleWithWebIdentity({ webIdentityToken: "good-token", durationSeconds: 120 })
        assert.match(credentials.accessKeyId, /^AQT[A-Z2-7]{17}$/)
        assert.strictEqual(credentials.expiresAt.toISOString(), "2026-12-06T12:02:00.000Z")
        const resolved = yield* resolveAccessKey(credentials.accessKeyId, credentials.sessionToken)
        assert.strictEqual(resolved.secretAccessKey, credentials.secretAccessKey)
        assert.strictEqual(resolved.principal.key, alice.principal.key)
        assert.deepStrictEqual(resolved.principal.roles, ["full"])
        assert.strictEqual((yield* Effect.flip(resolveAccessKey(credentials.accessKeyId, undefined)))._tag, "InvalidToken")
        const otherId = `AQT${credentials.accessKeyId.slice(3, -1)}${credentials.accessKeyId.endsWith("A") ? "B" : "A"}`
        assert.strictEqual((yield* Effect.flip(resolveAccessKey(otherId, credentials.sessionToken)))._tag, "InvalidToken")
        const flipped = credentials.sessionToken.slice(0, -3) + (credentials.sessionToken.endsWith("AAA") ? "BBB" : "AAA")
        assert.strictEqual((yield* Effect.flip(resolveAccessKey(credentials.accessKeyId, flipped)))._tag, "InvalidToken")
        yield* TestClock.adjust(119_000)
        yield* resolveAccessKey(credentials.accessKeyId, credentials.sessionToken)
        yield* TestClock.adjust(1_000)
        assert.strictEqual((yield* Effect.flip(resolveAccessKey(credentials.accessKeyId, credentials.sessionToken)))._tag, "ExpiredToken")
      }))

    it.effect("lists uploads as S3 does across many repository pages: roll-ups counted once, markers resuming exactly", () =>
      Effect.gen(function*() {
        const bucket = "alice-many-uploads"
        yield* createBucket(alice, bucket)
        const repo = yield* UploadRepository
        const record = (key: string, uploadId: string) =>
          repo.insert(new MultipartUpload({ uploadId, bucket: bucket as MultipartUpload["bucket"], key, initiator: alice.principal.key, createdAt: new Date(0) }))
        const pad = (n: number) => String(n).padStart(4, "0")
        // 1,100 uploads under "deep/" (one roll-up, skipped in one step), three whose key holds
        // U+10FFFF right after the delimiter (folded in without the skip), 1,100 flat ones
        // (more than one repository page), and two of one key (ordered by upload id).
        for (let i = 0; i < 1100; i++) yield* record(`deep/${pad(i)}`, `d${pad(i)}`)
        for (const tail of ["a", "b", "c"]) yield* record(`deep/\u{10FFFF}${tail}`, `x${tail}`)
        for (let i = 0; i < 1100; i++) yield* record(`flat-${pad(i)}`, `f${pad(i)}`)
        yield* record("top", "t2")
        yield* record("top", "t1")

        const rolled = yield* listMultipartUploads(alice, { bucket, delimiter: "/", limit: 1000 })
        assert.deepStrictEqual(rolled.prefixes, ["deep/"])
        assert.strictEqual(rolled.uploads.length, 999)
        assert.isTrue(rolled.truncated)
        assert.strictEqual(rolled.nextKeyMarker, "flat-0998")
        assert.strictEqual(rolled.nextUploadIdMarker, "f0998")
        const rest = yield* listMultipartUploads(alice, { bucket, delimiter: "/", keyMarker: rolled.nextKeyMarker, uploadIdMarker: rolled.nextUploadIdMarker, limit: 1000 })
        assert.deepStrictEqual(rest.uploads.map((u) => u.uploadId), [...Array.from({ length: 101 }, (_, i) => `f${pad(i + 999)}`), "t1", "t2"])
        assert.deepStrictEqual(rest.prefixes, [])
        assert.isFalse(rest.truncated)

        const walked: Array<string> = []
        let marker: { key?: string | undefined; id?: string | undefined } = {}
        for (let round = 0; round < 1000; round++) {
          const page = yield* listMultipartUploads(alice, { bucket, delimiter: "/", prefix: "", keyMarker: marker.key, uploadIdMarker: marker.id, limit: 250 })
          walked.push(...page.prefixes, ...page.uploads.map((u) => u.uploadId))
          if (!page.truncated) break
          marker = { key: page.nextKeyMarker, id: page.nextUploadIdMarker }
        }
        assert.strictEqual(walked.length, 1 + 1100 + 2)
        assert.strictEqual(new Set(walked).size, walked.length)
        assert.strictEqual(walked[0], "deep/")

        const deep = yield* listMultipartUploads(alice, { bucket, prefix: "deep/", limit: 1000 })
        assert.strictEqual(deep.uploads.length, 1000)
        assert.isTrue(deep.truncated)
        const deepRest = yield* listMultipartUploads(alice, { bucket, prefix: "deep/", keyMarker: deep.nextKeyMarker, uploadIdMarker: deep.nextUploadIdMarker, limit: 1000 })
        assert.deepStrictEqual(deepRest.uploads.map((u) => u.uploadId).slice(-3), ["xa", "xb", "xc"])
        assert.strictEqual(deepRest.uploads.length, 103)
        const resumedAtPrefix = yield* listMultipartUploads(alice, { bucket, delimiter: "/", keyMarker: "deep/", limit: 1 })
        assert.deepStrictEqual(resumedAtPrefix.uploads.map((u) => u.uploadId), ["f0000"])
        assert.deepStrictEqual(resumedAtPrefix.prefixes, [])
        const insidePrefix = yield* listMultipartUploads(alice, { bucket, delimiter: "/", keyMarker: "deep/0500", limit: 1 })
        assert.deepStrictEqual(insidePrefix.prefixes, ["deep/"])
        assert.strictEqual(insidePrefix.nextKeyMarker, "deep/")
        assert.isUndefined(insidePrefix.nextUploadIdMarker)
        const denied = yield* Effect.flip(listMultipartUploads(bob, { bucket, limit: 10 }))
        assert.strictEqual(denied._tag, "Forbidden")
      }))

    it.effect("answers a repeated completion with the same result until the object changes or the record is forgotten", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(Date.UTC(2026, 11, 7, 9))
        const bucket = "alice-retries"
        yield* createBucket(alice, bucket)
        const uploadOne = (key: string, text: string) =>
          Effect.gen(function*() {
            const { uploadId } = yield* createMultipartUpload(alice, { bucket, key })
            const part = yield* uploadPart(alice, { bucket, key, uploadId, partNumber: 1, body: body(text), contentLength: text.length })
            return { uploadId, parts: [{ partNumber: 1, etag: `"${part.etag}"` }] }
          })
        const { uploadId, parts } = yield* uploadOne("report.txt", "final")
        const first = yield* completeMultipartUpload(alice, { bucket, key: "report.txt", uploadId, parts })
        const usage = (yield* (yield* BucketRepository).get(bucket))!.usage
        const again = yield* completeMultipartUpload(alice, { bucket, key: "report.txt", uploadId, parts: parts.map((p) => ({ ...p, etag: p.etag.slice(1, -1) })) })
        assert.deepStrictEqual(again, first)
        assert.deepStrictEqual((yield* (yield* BucketRepository).get(bucket))!.usage, usage)
        const otherParts = yield* Effect.flip(completeMultipartUpload(alice, { bucket, key: "report.txt", uploadId, parts: [{ partNumber: 2, etag: parts[0]!.etag }] }))
        assert.strictEqual(otherParts._tag, "NoSuchUpload")
        const otherKey = yield* Effect.flip(completeMultipartUpload(alice, { bucket, key: "other.txt", uploadId, parts }))
        assert.strictEqual(otherKey._tag, "NoSuchUpload")
        const notAllowed = yield* Effect.flip(completeMultipartUpload(bob, { bucket, key: "report.txt", uploadId, parts }))
        assert.strictEqual(notAllowed._tag, "Forbidden")
        assert.strictEqual((yield* Effect.flip(abortMultipartUpload(alice, { bucket, key: "report.txt", uploadId })))._tag, "NoSuchUpload")

        yield* TestClock.adjust(completedUploadRetentionMillis)
        assert.deepStrictEqual(yield* completeMultipartUpload(alice, { bucket, key: "report.txt", uploadId, parts }), first)
        yield* TestClock.adjust(1)
        const forgotten = yield* Effect.flip(completeMultipartUpload(alice, { bucket, key: "report.txt", uploadId, parts }))
        assert.strictEqual(forgotten._tag, "NoSuchUpload")

        const later = yield* uploadOne("later.txt", "later")
        yield* completeMultipartUpload(alice, { bucket, key: "later.txt", ...later })
        assert.isUndefined(yield* (yield* UploadRepository).getCompleted(bucket, uploadId), "forgotten at the next completion")
        yield* put(alice, bucket, "later.txt", "overwritten")
        const overwritten = yield* Effect.flip(completeMultipartUpload(alice, { bucket, key: "later.txt", ...later }))
        assert.strictEqual(overwritten._tag, "NoSuchUpload")
        assert.strictEqual(yield* read(alice, bucket, "later.txt"), "overwritten")

        const deleted = yield* uploadOne("deleted.txt", "gone soon")
        yield* completeMultipartUpload(alice, { bucket, key: "deleted.txt", ...deleted })
        yield* deleteObject(alice, { bucket, key: "deleted.txt" })
        assert.strictEqual((yield* Effect.flip(completeMultipartUpload(alice, { bucket, key: "deleted.txt", ...deleted })))._tag, "NoSuchUpload")
        assert.strictEqual((yield* Effect.flip(read(alice, bucket, "deleted.txt")))._tag, "NoSuchKey")

        const aborted = yield* uploadOne("aborted.txt", "never")
        yield* abortMultipartUpload(alice, { bucket, key: "aborted.txt", uploadId: aborted.uploadId })
        assert.strictEqual((yield* Effect.flip(completeMultipartUpload(alice, { bucket, key: "aborted.txt", ...aborted })))._tag, "NoSuchUpload")
      }))

    it.effect("revokes a user's temporary credentials issued so far, and only those", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(Date.UTC(2026, 11, 8, 8))
        const assume = (webIdentityToken: string) => Effect.map(assumeRoleWithWebIdentity({ webIdentityToken, durationSeconds: 600 }), (r) => r.credentials)
        const resolve = (c: { accessKeyId: string; sessionToken: string }) => resolveAccessKey(c.accessKeyId, c.sessionToken)
        const mine = yield* assume("good-token")
        yield* TestClock.adjust(1)
        const alsoMine = yield* assume("good-token")
        const bobs = yield* assume("bob-token")
        const longLived = yield* createAccessKey(alice, "stays")
        assert.isUndefined(yield* temporaryCredentialsNotBefore(alice))
        yield* resolve(mine)

        const revokedAt = yield* revokeTemporaryCredentials(alice)
        assert.strictEqual(revokedAt.toISOString(), "2026-12-08T08:00:00.001Z")
        assert.deepStrictEqual(yield* temporaryCredentialsNotBefore(alice), revokedAt)
        for (const credentials of [mine, alsoMine]) {
          const refused = yield* Effect.flip(resolve(credentials))
          assert.strictEqual(refused._tag, "InvalidToken")
          assert.isTrue(refused._tag === "InvalidToken" && refused.revoked)
        }
        assert.strictEqual((yield* resolve(bobs)).principal.key, bob.principal.key)
        assert.strictEqual((yield* resolveAccessKey(longLived.id, undefined)).principal.key, alice.principal.key)
        assert.isUndefined(yield* temporaryCredentialsNotBefore(bob))

        const sameInstant = yield* assume("good-token")
        assert.strictEqual((yield* Effect.flip(resolve(sameInstant)))._tag, "InvalidToken", "issued in the revocation's millisecond")
        yield* TestClock.adjust(1)
        const fresh = yield* assume("good-token")
        assert.strictEqual((yield* resolve(fresh)).principal.key, alice.principal.key)
        assert.strictEqual((yield* Effect.flip(resolve(mine)))._tag, "InvalidToken")
        yield* TestClock.adjust(600_000)
        assert.strictEqual((yield* Effect.flip(resolve(mine)))._tag, "ExpiredToken", "expiry is still reported first")
      }))

    it.effect("seals secrets so that another server key, or another key id, cannot open them", () =>
      Effect.gen(function*() {
        const credentials = yield* DriveCredentials
        const sealed = yield* credentials.seal("AQKAAAAAAAAAAAAAAAAA", "the secret")
        assert.notInclude(sealed, "the secret")
        assert.strictEqual(yield* credentials.unseal("AQKAAAAAAAAAAAAAAAAA", sealed), "the secret")
        assert.strictEqual((yield* Effect.flip(credentials.unseal("AQKBBBBBBBBBBBBBBBBB", sealed)))._tag, "InvalidToken")
        const other = yield* Effect.provide(
          Effect.gen(function*() {
            return yield* DriveCredentials
          }),
          layerCredentials(crypto.getRandomValues(new Uint8Array(32)))
        )
        assert.strictEqual((yield* Effect.flip(other.unseal("AQKAAAAAAAAAAAAAAAAA", sealed)))._tag, "InvalidToken")
      }))
  })
})
