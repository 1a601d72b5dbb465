// The Drive through `@aws-sdk/client-s3` with its defaults (flexible checksums on) and
// path-style addressing, against a real server (blob-fs + PGlite) on 127.0.0.1.
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand
} from "@aws-sdk/client-s3"
import { Readable } from "node:stream"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { bytesOf, type Credentials, failure, principalOf, startTestDrive, type TestDrive } from "./_test_support.ts"

let drive: TestDrive
let alice: Credentials
let bob: Credentials

beforeAll(async () => {
  drive = await startTestDrive()
  alice = await drive.keyFor(principalOf("alice"))
  bob = await drive.keyFor(principalOf("bob"))
})
afterAll(async () => {
  await drive?.stop()
})

const text = async (body: unknown): Promise<string> => await (body as { transformToString(): Promise<string> }).transformToString()

describe("buckets", () => {
  it("lists the caller's home bucket, created on first use, and only the caller's buckets", async () => {
    const s3 = drive.client(alice)
    const first = await s3.send(new ListBucketsCommand({}))
    const names = first.Buckets?.map((b) => b.Name) ?? []
    assert.strictEqual(names.length, 1)
    assert.match(names[0]!, /^alice-[0-9a-f]{8}$/)
    const again = await s3.send(new ListBucketsCommand({}))
    assert.deepStrictEqual(again.Buckets?.map((b) => b.Name), names)
    const bobs = await drive.client(bob).send(new ListBucketsCommand({}))
    assert.notInclude(bobs.Buckets?.map((b) => b.Name) ?? [], names[0])
  })

  it("creates, heads, locates and deletes a bucket, with S3's errors for taken and bad names", async () => {
    const s3 = drive.client(alice)
    await s3.send(new CreateBucketCommand({ Bucket: "alice-projects" }))
    await s3.send(new HeadBucketCommand({ Bucket: "alice-projects" }))
    const location = await s3.send(new GetBucketLocationCommand({ Bucket: "alice-projects" }))
    assert.isUndefined(location.LocationConstraint || undefined)
    assert.strictEqual((await failure(s3.send(new CreateBucketCommand({ Bucket: "alice-projects" })))).name, "BucketAlreadyOwnedByYou")
    assert.strictEqual((await failure(drive.client(bob).send(new CreateBucketCommand({ Bucket: "alice-projects" })))).name, "BucketAlreadyExists")
    for (const bad of ["ab", "Upper", "under_score", "192.168.1.1", "-start", "a..b", "x".repeat(64)]) {
      const error = await failure(s3.send(new CreateBucketCommand({ Bucket: bad })))
      assert.include(["InvalidBucketName", "InvalidBucketName"], error.name, bad)
    }
    await s3.send(new PutObjectCommand({ Bucket: "alice-projects", Key: "keep.txt", Body: "x" }))
    assert.strictEqual((await failure(s3.send(new DeleteBucketCommand({ Bucket: "alice-projects" })))).name, "BucketNotEmpty")
    await s3.send(new DeleteObjectCommand({ Bucket: "alice-projects", Key: "keep.txt" }))
    await s3.send(new DeleteBucketCommand({ Bucket: "alice-projects" }))
    const gone = await failure(s3.send(new HeadBucketCommand({ Bucket: "alice-projects" })))
    assert.strictEqual(gone.$metadata.httpStatusCode, 404)
    assert.strictEqual((await failure(s3.send(new ListObjectsV2Command({ Bucket: "alice-projects" })))).name, "NoSuchBucket")
  })

  it("refuses another user's bucket with AccessDenied", async () => {
    await drive.client(alice).send(new CreateBucketCommand({ Bucket: "alice-private" }))
    const s3 = drive.client(bob)
    for (const command of [
      new ListObjectsV2Command({ Bucket: "alice-private" }),
      new PutObjectCommand({ Bucket: "alice-private", Key: "x", Body: "intruder" }),
      new GetObjectCommand({ Bucket: "alice-private", Key: "x" }),
      new DeleteBucketCommand({ Bucket: "alice-private" })
    ]) {
      const error = await failure(s3.send(command as never))
      assert.strictEqual(error.name, "AccessDenied", command.constructor.name)
    }
  })
})

describe("objects", () => {
  const bucket = "alice-objects"
  beforeAll(async () => {
    await drive.client(alice).send(new CreateBucketCommand({ Bucket: bucket }))
  })

  it("puts a streamed body with metadata and gets it back byte-identical, with its attributes", async () => {
    const s3 = drive.client(alice)
    const data = bytesOf(3 * 1024 * 1024 + 17, 7)
    const put = await s3.send(new PutObjectCommand({
      Bucket: bucket,
      Key: "data/ünïcødé file.bin",
      Body: Readable.from([data.subarray(0, 1_000_000), data.subarray(1_000_000)]),
      ContentLength: data.length,
      ContentType: "application/x-test",
      ContentDisposition: "attachment; filename=\"x.bin\"",
      CacheControl: "max-age=60",
      Metadata: { owner: "alice", "run-id": "42" }
    }))
    assert.match(put.ETag ?? "", /^".+"$/)
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "data/ünïcødé file.bin" }))
    const bytes = Buffer.from(await got.Body!.transformToByteArray())
    assert.isTrue(bytes.equals(data))
    assert.strictEqual(got.ContentType, "application/x-test")
    assert.strictEqual(got.ContentLength, data.length)
    assert.strictEqual(got.ETag, put.ETag)
    assert.strictEqual(got.ContentDisposition, "attachment; filename=\"x.bin\"")
    assert.strictEqual(got.CacheControl, "max-age=60")
    assert.deepStrictEqual(got.Metadata, { owner: "alice", "run-id": "42" })
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "data/ünïcødé file.bin" }))
    assert.strictEqual(head.ContentLength, data.length)
    assert.strictEqual(head.ETag, put.ETag)
    assert.deepStrictEqual(head.Metadata, { owner: "alice", "run-id": "42" })
  })

  it("serves byte ranges and refuses unsatisfiable ones with InvalidRange", async () => {
    const s3 = drive.client(alice)
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "range.txt", Body: "0123456789" }))
    const cases: Array<[string, string, string]> = [
      ["bytes=0-4", "01234", "bytes 0-4/10"],
      ["bytes=7-", "789", "bytes 7-9/10"],
      ["bytes=-3", "789", "bytes 7-9/10"],
      ["bytes=8-99999999999999999999", "89", "bytes 8-9/10"]
    ]
    for (const [range, expected, contentRange] of cases) {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "range.txt", Range: range }))
      assert.strictEqual(await text(got.Body), expected, range)
      assert.strictEqual(got.ContentRange, contentRange, range)
      assert.strictEqual(got.$metadata.httpStatusCode, 206)
    }
    for (const range of ["bytes=10-", "bytes=5-2", "bytes=99999999999999999999-"]) {
      const error = await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: "range.txt", Range: range })))
      assert.strictEqual(error.name, "InvalidRange", range)
      assert.strictEqual(error.$metadata.httpStatusCode, 416, range)
    }
  })

  it("honours conditional GETs and conditional PUTs", async () => {
    const s3 = drive.client(alice)
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "cond.txt", Body: "v1" }))
    const notModified = await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: "cond.txt", IfNoneMatch: put.ETag })))
    assert.strictEqual(notModified.$metadata.httpStatusCode, 304)
    const mismatch = await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: "cond.txt", IfMatch: "\"nope\"" })))
    assert.strictEqual(mismatch.$metadata.httpStatusCode, 412)
    const ok = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "cond.txt", IfMatch: put.ETag }))
    assert.strictEqual(await text(ok.Body), "v1")
    const exists = await failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: "cond.txt", Body: "v2", IfNoneMatch: "*" })))
    assert.strictEqual(exists.$metadata.httpStatusCode, 412)
    assert.strictEqual(await text((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "cond.txt" }))).Body), "v1")
    assert.strictEqual((await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: "absent" })))).name, "NoSuchKey")
  })

  it("lists with prefixes, delimiters and pages (V2, V1 and versions)", async () => {
    const s3 = drive.client(alice)
    await s3.send(new CreateBucketCommand({ Bucket: "alice-listing" }))
    const keys = ["a/1.txt", "a/2.txt", "a/b/3.txt", "c.txt", "d+e f.txt", "日本/語.txt"]
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: "alice-listing", Key: key, Body: key }))
    const all = await s3.send(new ListObjectsV2Command({ Bucket: "alice-listing" }))
    assert.deepStrictEqual(all.Contents?.map((o) => o.Key), keys)
    assert.strictEqual(all.KeyCount, keys.length)
    assert.strictEqual(all.Contents?.[3]?.Size, "c.txt".length)
    const rolled = await s3.send(new ListObjectsV2Command({ Bucket: "alice-listing", Delimiter: "/" }))
    assert.deepStrictEqual(rolled.Contents?.map((o) => o.Key), ["c.txt", "d+e f.txt"])
    assert.deepStrictEqual(rolled.CommonPrefixes?.map((p) => p.Prefix), ["a/", "日本/"])
    const inA = await s3.send(new ListObjectsV2Command({ Bucket: "alice-listing", Prefix: "a/", Delimiter: "/" }))
    assert.deepStrictEqual(inA.Contents?.map((o) => o.Key), ["a/1.txt", "a/2.txt"])
    assert.deepStrictEqual(inA.CommonPrefixes?.map((p) => p.Prefix), ["a/b/"])

    const paged: Array<string> = []
    let token: string | undefined
    let pages = 0
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: "alice-listing", MaxKeys: 2, ContinuationToken: token }))
      paged.push(...(page.Contents ?? []).map((o) => o.Key!))
      token = page.NextContinuationToken
      assert.strictEqual(page.IsTruncated, token !== undefined)
      pages++
    } while (token !== undefined && pages < 10)
    assert.deepStrictEqual(paged, keys)
    const after = await s3.send(new ListObjectsV2Command({ Bucket: "alice-listing", StartAfter: "a/b/3.txt" }))
    assert.deepStrictEqual(after.Contents?.map((o) => o.Key), keys.slice(3))

    const v1: Array<string> = []
    let marker: string | undefined
    for (let i = 0; i < 10; i++) {
      const page = await s3.send(new ListObjectsCommand({ Bucket: "alice-listing", MaxKeys: 2, Marker: marker, Delimiter: "/" }))
      v1.push(...(page.Contents ?? []).map((o) => o.Key!), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!))
      if (page.IsTruncated !== true) break
      marker = page.NextMarker
    }
    assert.deepStrictEqual(v1.sort(), ["a/", "c.txt", "d+e f.txt", "日本/"].sort())
    // One entry a page: pages that end on a common prefix resume after every key rolled into it.
    for (const [name, list] of [
      ["ListObjects", (after: string | undefined) => s3.send(new ListObjectsCommand({ Bucket: "alice-listing", MaxKeys: 1, Marker: after, Delimiter: "/" }))
        .then((page) => ({ entries: [...(page.Contents ?? []).map((o) => o.Key!), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!)], next: page.IsTruncated === true ? page.NextMarker : undefined }))],
      ["ListObjectVersions", (after: string | undefined) => s3.send(new ListObjectVersionsCommand({ Bucket: "alice-listing", MaxKeys: 1, KeyMarker: after, Delimiter: "/" }))
        .then((page) => ({ entries: [...(page.Versions ?? []).map((o) => o.Key!), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!)], next: page.IsTruncated === true ? page.NextKeyMarker : undefined }))]
    ] as const) {
      const seen: Array<string> = []
      let after: string | undefined
      for (let i = 0; i < 10; i++) {
        const page = await list(after)
        seen.push(...page.entries)
        if (page.next === undefined) break
        after = page.next
      }
      assert.deepStrictEqual(seen, ["a/", "c.txt", "d+e f.txt", "日本/"], name)
    }
    const pastPrefix = await s3.send(new ListObjectsV2Command({ Bucket: "alice-listing", StartAfter: "a/", Delimiter: "/" }))
    assert.deepStrictEqual(pastPrefix.Contents?.map((o) => o.Key), ["c.txt", "d+e f.txt"])
    assert.deepStrictEqual(pastPrefix.CommonPrefixes?.map((p) => p.Prefix), ["日本/"])

    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: "alice-listing", Prefix: "a/" }))
    assert.deepStrictEqual(versions.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest]), [
      ["a/1.txt", "null", true],
      ["a/2.txt", "null", true],
      ["a/b/3.txt", "null", true]
    ])
  })

  it("deletes one object and many, reporting keys it cannot delete one by one", async () => {
    const s3 = drive.client(alice)
    for (const key of ["del/1", "del/2", "del/3"]) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }))
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: "del/1" }))
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: "del/never-existed" }))
    const result = await s3.send(new DeleteObjectsCommand({
      Bucket: bucket,
      Delete: { Objects: [{ Key: "del/2" }, { Key: "del/3" }, { Key: "del/../escape" }] }
    }))
    assert.deepStrictEqual(result.Deleted?.map((d) => d.Key).sort(), ["del/2", "del/3"])
    assert.deepStrictEqual(result.Errors?.map((e) => [e.Key, e.Code]), [["del/../escape", "InvalidArgument"]])
    const left = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "del/" }))
    assert.strictEqual(left.KeyCount, 0)
  })

  it("copies objects, keeping or replacing metadata, across buckets", async () => {
    const s3 = drive.client(alice)
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "src.txt", Body: "copy me", ContentType: "text/plain", Metadata: { a: "1" } }))
    const copied = await s3.send(new CopyObjectCommand({ Bucket: "alice-listing", Key: "copy.txt", CopySource: `${bucket}/src.txt` }))
    assert.match(copied.CopyObjectResult?.ETag ?? "", /^".+"$/)
    const got = await s3.send(new GetObjectCommand({ Bucket: "alice-listing", Key: "copy.txt" }))
    assert.strictEqual(await text(got.Body), "copy me")
    assert.strictEqual(got.ContentType, "text/plain")
    assert.deepStrictEqual(got.Metadata, { a: "1" })
    await s3.send(new CopyObjectCommand({
      Bucket: bucket,
      Key: "src.txt",
      CopySource: `${bucket}/src.txt`,
      MetadataDirective: "REPLACE",
      ContentType: "text/markdown",
      Metadata: { b: "2" }
    }))
    const replaced = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "src.txt" }))
    assert.strictEqual(replaced.ContentType, "text/markdown")
    assert.deepStrictEqual(replaced.Metadata, { b: "2" })
    const self = await failure(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: "src.txt", CopySource: `${bucket}/src.txt` })))
    assert.strictEqual(self.name, "InvalidRequest")
    const missing = await failure(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: "x", CopySource: `${bucket}/absent.txt` })))
    assert.strictEqual(missing.name, "NoSuchKey")
    const foreign = await failure(drive.client(bob).send(new CopyObjectCommand({ Bucket: (await homeOf(bob)), Key: "stolen", CopySource: `${bucket}/src.txt` })))
    assert.strictEqual(foreign.name, "AccessDenied")
  })
})

const homeOf = async (credentials: Credentials): Promise<string> =>
  (await drive.client(credentials).send(new ListBucketsCommand({}))).Buckets![0]!.Name!

describe("checksums the SDK can choose", () => {
  it("accepts CRC32C, CRC64NVME, SHA1 and SHA256 streamed as aws-chunked trailers, and refuses a wrong one with BadDigest", async () => {
    const s3 = drive.client(alice)
    const bucket = (await s3.send(new ListBucketsCommand({}))).Buckets![0]!.Name!
    const body = "checksummed by the client, verified by the Drive ✓".repeat(3000)
    for (const algorithm of ["CRC32C", "CRC64NVME", "SHA1", "SHA256"] as const) {
      const key = `checksums/${algorithm}.txt`
      // A stream body with no length makes the SDK send aws-chunked with the checksum as a trailer.
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Readable.from([Buffer.from(body)]), ContentLength: Buffer.byteLength(body), ChecksumAlgorithm: algorithm }))
      const read = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      assert.strictEqual(await text(read.Body), body, algorithm)
    }
    const wrong = await failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: "checksums/wrong.txt", Body: body, ChecksumCRC32C: "AAAAAA==" })))
    assert.strictEqual(wrong.name, "BadDigest")
    const wrong64 = await failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: "checksums/wrong.txt", Body: body, ChecksumCRC64NVME: "AAAAAAAAAAA=" })))
    assert.strictEqual(wrong64.name, "BadDigest")
    assert.strictEqual((await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "checksums/wrong.txt" })))).name, "NotFound")
  })
})
