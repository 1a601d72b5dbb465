// Multipart uploads and presigned URLs through the AWS SDK with its defaults.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand
} from "@aws-sdk/client-s3"
import { Upload } from "@aws-sdk/lib-storage"
import { getSignedUrl } from "@aws-sdk/s3-request-presigner"
import { createHash } from "node:crypto"
import { Readable } from "node:stream"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { bytesOf, type Credentials, failure, principalOf, startTestDrive, type TestDrive } from "./_test_support.ts"

let drive: TestDrive
let alice: Credentials
let bob: Credentials
const bucket = "alice-multipart"
const MiB = 1024 * 1024

beforeAll(async () => {
  drive = await startTestDrive()
  alice = await drive.keyFor(principalOf("alice"))
  bob = await drive.keyFor(principalOf("bob"))
  await drive.client(alice).send(new CreateBucketCommand({ Bucket: bucket }))
})
afterAll(async () => {
  await drive?.stop()
})

const digest = async (body: AsyncIterable<Uint8Array>) => {
  const hash = createHash("sha256")
  let size = 0
  for await (const chunk of body) {
    hash.update(chunk)
    size += chunk.byteLength
  }
  return { sha256: hash.digest("hex"), size }
}

describe("multipart", () => {
  it("uploads a 100 MiB object in parts, lists them, completes it and reads it back whole", async () => {
    const s3 = drive.client(alice)
    const partSize = 8 * MiB
    const total = 100 * MiB
    const data = bytesOf(total, 99)
    const key = "big/hundred.bin"
    const started = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: "application/x-big", Metadata: { kind: "big" } }))
    const uploadId = started.UploadId!
    const listedUploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))
    assert.deepStrictEqual(listedUploads.Uploads?.map((u) => [u.Key, u.UploadId]), [[key, uploadId]])
    const parts: Array<{ PartNumber: number; ETag: string }> = []
    for (let offset = 0, number = 1; offset < total; offset += partSize, number++) {
      const slice = data.subarray(offset, Math.min(offset + partSize, total))
      const body = number % 2 === 0 ? Readable.from([slice]) : slice
      const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: number, Body: body, ContentLength: slice.length }))
      parts.push({ PartNumber: number, ETag: part.ETag! })
    }
    const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MaxParts: 5 }))
    assert.deepStrictEqual(listed.Parts?.map((p) => p.PartNumber), [1, 2, 3, 4, 5])
    assert.isTrue(listed.IsTruncated)
    const rest = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: listed.NextPartNumberMarker }))
    assert.strictEqual(rest.Parts?.length, parts.length - 5)
    assert.strictEqual(rest.Parts?.at(-1)?.Size, total - (parts.length - 1) * partSize)

    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }))
    assert.match(done.ETag ?? "", /^".+"$/)
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
    assert.strictEqual(head.ContentLength, total)
    assert.strictEqual(head.ContentType, "application/x-big")
    assert.deepStrictEqual(head.Metadata, { kind: "big" })
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
    const read = await digest(got.Body as AsyncIterable<Uint8Array>)
    assert.strictEqual(read.size, total)
    assert.strictEqual(read.sha256, createHash("sha256").update(data).digest("hex"))
    assert.deepStrictEqual((await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [], [])
  })

  it("uploads with lib-storage's Upload (parallel parts from a stream)", async () => {
    const s3 = drive.client(alice)
    const data = bytesOf(23 * MiB + 5, 3)
    await new Upload({ client: s3, params: { Bucket: bucket, Key: "lib/upload.bin", Body: Readable.from([data]) }, partSize: 5 * MiB, queueSize: 2 }).done()
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "lib/upload.bin" }))
    assert.isTrue(Buffer.from(await got.Body!.transformToByteArray()).equals(data))
  })

  it("copies parts from ranges of other objects", async () => {
    const s3 = drive.client(alice)
    const source = bytesOf(6 * MiB, 11)
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "copy/source.bin", Body: source }))
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "copy/target.bin" }))
    const first = await s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: "copy/target.bin", UploadId, PartNumber: 1, CopySource: `${bucket}/copy/source.bin` }))
    const second = await s3.send(new UploadPartCopyCommand({
      Bucket: bucket,
      Key: "copy/target.bin",
      UploadId,
      PartNumber: 2,
      CopySource: `${bucket}/copy/source.bin`,
      CopySourceRange: "bytes=100-199"
    }))
    await s3.send(new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: "copy/target.bin",
      UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: first.CopyPartResult!.ETag! }, { PartNumber: 2, ETag: second.CopyPartResult!.ETag! }] }
    }))
    const got = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "copy/target.bin" }))).Body!.transformToByteArray())
    assert.isTrue(got.equals(Buffer.concat([source, source.subarray(100, 200)])))
  })

  it("refuses bad part numbers, small parts, wrong ETags, another user's upload, and anything after an abort", async () => {
    const s3 = drive.client(alice)
    const key = "bad/upload.bin"
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))
    for (const PartNumber of [0, 10001]) {
      const error = await failure(s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber, Body: "x" })))
      assert.strictEqual(error.name, "InvalidArgument", `part ${PartNumber}`)
    }
    const small = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: "tiny" }))
    const last = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 2, Body: "end" }))
    const tooSmall = await failure(s3.send(new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: small.ETag }, { PartNumber: 2, ETag: last.ETag }] }
    })))
    assert.strictEqual(tooSmall.name, "EntityTooSmall")
    const wrongEtag = await failure(s3.send(new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: "\"0123456789abcdef0123456789abcdef\"" }] }
    })))
    assert.strictEqual(wrongEtag.name, "InvalidPart")
    const outOfOrder = await failure(s3.send(new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 2, ETag: last.ETag }, { PartNumber: 1, ETag: small.ETag }] }
    })))
    assert.strictEqual(outOfOrder.name, "InvalidPartOrder")

    const bobs = drive.client(bob)
    const foreign = await failure(bobs.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 3, Body: "bob" })))
    assert.strictEqual(foreign.name, "AccessDenied")
    const bobHome = (await bobs.send(new ListBucketsCommand({}))).Buckets![0]!.Name!
    const elsewhere = await failure(bobs.send(new UploadPartCommand({ Bucket: bobHome, Key: key, UploadId, PartNumber: 3, Body: "bob" })))
    assert.strictEqual(elsewhere.name, "NoSuchUpload")
    const otherKey = await failure(s3.send(new UploadPartCommand({ Bucket: bucket, Key: "other-key", UploadId, PartNumber: 3, Body: "x" })))
    assert.strictEqual(otherKey.name, "NoSuchUpload")

    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }))
    const afterAbort = await failure(s3.send(new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 2, ETag: last.ETag }] }
    })))
    assert.strictEqual(afterAbort.name, "NoSuchUpload")
    assert.strictEqual((await failure(s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId })))).name, "NoSuchUpload")
    assert.strictEqual((await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })))).name, "NotFound")
  })
})

describe("CompleteMultipartUpload repeated", () => {
  const complete = (s3: ReturnType<TestDrive["client"]>, Key: string, UploadId: string, Parts: Array<{ PartNumber: number; ETag: string }>) =>
    s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key, UploadId, MultipartUpload: { Parts } }))
  const uploadTwoParts = async (s3: ReturnType<TestDrive["client"]>, key: string, seed: number) => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: "application/x-retry" }))
    const first = bytesOf(5 * MiB, seed)
    const second = bytesOf(1234, seed + 1)
    const one = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: first }))
    const two = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 2, Body: second }))
    return { uploadId: UploadId!, parts: [{ PartNumber: 1, ETag: one.ETag! }, { PartNumber: 2, ETag: two.ETag! }], data: Buffer.concat([first, second]) }
  }

  it("answers a retry with the same parts with the completed object's result, writing nothing", async () => {
    const s3 = drive.client(alice)
    const key = "retry/done.bin"
    const { uploadId, parts, data } = await uploadTwoParts(s3, key, 41)
    const done = await complete(s3, key, uploadId, parts)
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
    const again = await complete(s3, key, uploadId, parts)
    assert.strictEqual(again.$metadata.httpStatusCode, 200)
    assert.deepStrictEqual([again.ETag, again.Bucket, again.Key, again.Location], [done.ETag, done.Bucket, done.Key, done.Location])
    const headAgain = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
    assert.deepStrictEqual([headAgain.ETag, headAgain.ContentLength, headAgain.LastModified?.getTime()], [head.ETag, data.length, head.LastModified?.getTime()])
    assert.strictEqual(head.ETag, done.ETag)
    const got = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray())
    assert.isTrue(got.equals(data))
    const inProgress = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: "retry/" }))
    assert.deepStrictEqual(inProgress.Uploads ?? [], [])

    const otherParts = await failure(complete(s3, key, uploadId, parts.slice(0, 1)))
    assert.strictEqual(otherParts.name, "NoSuchUpload")
    const otherKey = await failure(complete(s3, "retry/elsewhere.bin", uploadId, parts))
    assert.strictEqual(otherKey.name, "NoSuchUpload")
    const foreign = await failure(complete(drive.client(bob), key, uploadId, parts))
    assert.strictEqual(foreign.name, "AccessDenied")
    for (const command of [
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: 3, Body: "late" }),
      new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
      new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })
    ]) {
      assert.strictEqual((await failure(s3.send(command as never))).name, "NoSuchUpload", command.constructor.name)
    }
    assert.strictEqual((await complete(s3, key, uploadId, parts)).ETag, done.ETag, "still answered after the refusals")
  })

  it("answers NoSuchUpload once the object is no longer the one the upload produced", async () => {
    const s3 = drive.client(alice)
    const overwritten = await uploadTwoParts(s3, "retry/overwritten.bin", 51)
    await complete(s3, "retry/overwritten.bin", overwritten.uploadId, overwritten.parts)
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "retry/overwritten.bin", Body: "a newer object" }))
    const afterOverwrite = await failure(complete(s3, "retry/overwritten.bin", overwritten.uploadId, overwritten.parts))
    assert.strictEqual(afterOverwrite.name, "NoSuchUpload")
    assert.strictEqual(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "retry/overwritten.bin" }))).Body!.transformToString(), "a newer object")

    const deleted = await uploadTwoParts(s3, "retry/deleted.bin", 61)
    await complete(s3, "retry/deleted.bin", deleted.uploadId, deleted.parts)
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: "retry/deleted.bin" }))
    const afterDelete = await failure(complete(s3, "retry/deleted.bin", deleted.uploadId, deleted.parts))
    assert.strictEqual(afterDelete.name, "NoSuchUpload")
    assert.strictEqual((await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "retry/deleted.bin" })))).name, "NotFound")

    const aborted = await uploadTwoParts(s3, "retry/aborted.bin", 71)
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: "retry/aborted.bin", UploadId: aborted.uploadId }))
    const afterAbort = await failure(complete(s3, "retry/aborted.bin", aborted.uploadId, aborted.parts))
    assert.strictEqual(afterAbort.name, "NoSuchUpload")
  })
})

describe("ListMultipartUploads", () => {
  const listing = "alice-uploads-list"
  const started = new Map<string, Array<string>>()
  const keys = ["a.txt", "a.txt", "dir/one.bin", "dir/two.bin", "dir/sub/three.bin", "other/x", "zeta"]
  beforeAll(async () => {
    const s3 = drive.client(alice)
    await s3.send(new CreateBucketCommand({ Bucket: listing }))
    for (const key of keys) {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: listing, Key: key }))
      started.set(key, [...(started.get(key) ?? []), UploadId!].sort())
    }
  })
  const entries = (page: { Uploads?: Array<{ Key?: string; UploadId?: string }>; CommonPrefixes?: Array<{ Prefix?: string }> }) => [
    ...(page.Uploads ?? []).map((u) => `${u.Key}#${u.UploadId}`),
    ...(page.CommonPrefixes ?? []).map((p) => `${p.Prefix}`)
  ]
  const upload = (key: string, index = 0) => `${key}#${started.get(key)![index]}`

  it("lists every upload by key then upload id, and narrows to a prefix", async () => {
    const s3 = drive.client(alice)
    const all = await s3.send(new ListMultipartUploadsCommand({ Bucket: listing }))
    assert.deepStrictEqual(entries(all), [
      upload("a.txt", 0),
      upload("a.txt", 1),
      upload("dir/one.bin"),
      upload("dir/sub/three.bin"),
      upload("dir/two.bin"),
      upload("other/x"),
      upload("zeta")
    ])
    assert.isFalse(all.IsTruncated)
    const dir = await s3.send(new ListMultipartUploadsCommand({ Bucket: listing, Prefix: "dir/" }))
    assert.deepStrictEqual(entries(dir), [upload("dir/one.bin"), upload("dir/sub/three.bin"), upload("dir/two.bin")])
    assert.strictEqual(dir.Prefix, "dir/")
  })

  it("rolls keys up into common prefixes at a delimiter, below a prefix too", async () => {
    const s3 = drive.client(alice)
    const top = await s3.send(new ListMultipartUploadsCommand({ Bucket: listing, Delimiter: "/" }))
    assert.deepStrictEqual(top.Uploads?.map((u) => u.Key), ["a.txt", "a.txt", "zeta"])
    assert.deepStrictEqual(top.CommonPrefixes?.map((p) => p.Prefix), ["dir/", "other/"])
    assert.strictEqual(top.Delimiter, "/")
    const dir = await s3.send(new ListMultipartUploadsCommand({ Bucket: listing, Prefix: "dir/", Delimiter: "/" }))
    assert.deepStrictEqual(dir.Uploads?.map((u) => u.Key), ["dir/one.bin", "dir/two.bin"])
    assert.deepStrictEqual(dir.CommonPrefixes?.map((p) => p.Prefix), ["dir/sub/"])
    const byDot = await s3.send(new ListMultipartUploadsCommand({ Bucket: listing, Delimiter: "." }))
    assert.deepStrictEqual(byDot.CommonPrefixes?.map((p) => p.Prefix), ["a.", "dir/one.", "dir/sub/three.", "dir/two."])
    assert.deepStrictEqual(byDot.Uploads?.map((u) => u.Key), ["other/x", "zeta"])
  })

  it("pages with max-uploads, key-marker and upload-id-marker, a common prefix counting as one entry", async () => {
    const s3 = drive.client(alice)
    const seen: Array<string> = []
    const pages: Array<number> = []
    let keyMarker: string | undefined
    let uploadIdMarker: string | undefined
    for (let round = 0; round < 10; round++) {
      const page = await s3.send(new ListMultipartUploadsCommand({ Bucket: listing, Delimiter: "/", MaxUploads: 2, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }))
      assert.strictEqual(page.MaxUploads, 2)
      seen.push(...entries(page))
      pages.push(entries(page).length)
      if (page.IsTruncated !== true) break
      keyMarker = page.NextKeyMarker
      uploadIdMarker = page.NextUploadIdMarker
    }
    assert.deepStrictEqual(seen, [upload("a.txt", 0), upload("a.txt", 1), "dir/", "other/", upload("zeta")])
    assert.deepStrictEqual(pages, [2, 2, 1])

    const afterKey = await s3.send(new ListMultipartUploadsCommand({ Bucket: listing, KeyMarker: "a.txt" }))
    assert.strictEqual(entries(afterKey)[0], upload("dir/one.bin"))
    const afterId = await s3.send(new ListMultipartUploadsCommand({ Bucket: listing, KeyMarker: "a.txt", UploadIdMarker: started.get("a.txt")![0], MaxUploads: 2 }))
    assert.deepStrictEqual(entries(afterId), [upload("a.txt", 1), upload("dir/one.bin")])
    assert.isTrue(afterId.IsTruncated)
    assert.strictEqual(afterId.NextKeyMarker, "dir/one.bin")
    assert.strictEqual(afterId.NextUploadIdMarker, started.get("dir/one.bin")![0])
    const idAlone = await s3.send(new ListMultipartUploadsCommand({ Bucket: listing, UploadIdMarker: "ignored-without-key-marker" }))
    assert.strictEqual(entries(idAlone).length, keys.length)
    const past = await s3.send(new ListMultipartUploadsCommand({ Bucket: listing, KeyMarker: "zeta" }))
    assert.deepStrictEqual(entries(past), [])
    assert.isFalse(past.IsTruncated)
    const none = await s3.send(new ListMultipartUploadsCommand({ Bucket: listing, MaxUploads: 0 }))
    assert.deepStrictEqual(entries(none), [])
  })

  it("URL-encodes keys and prefixes with encoding-type=url, and refuses bad arguments and other users", async () => {
    const s3 = drive.client(alice)
    await s3.send(new CreateBucketCommand({ Bucket: "alice-uploads-enc" }))
    await s3.send(new CreateMultipartUploadCommand({ Bucket: "alice-uploads-enc", Key: "ü dir/a b.bin" }))
    await s3.send(new CreateMultipartUploadCommand({ Bucket: "alice-uploads-enc", Key: "plain+key" }))
    const encoded = await s3.send(new ListMultipartUploadsCommand({ Bucket: "alice-uploads-enc", Delimiter: "/", EncodingType: "url" }))
    assert.strictEqual(encoded.EncodingType, "url")
    assert.deepStrictEqual(encoded.Uploads?.map((u) => u.Key), ["plain%2Bkey"])
    assert.deepStrictEqual(encoded.CommonPrefixes?.map((p) => p.Prefix), ["%C3%BC%20dir/"])
    const plain = await s3.send(new ListMultipartUploadsCommand({ Bucket: "alice-uploads-enc", Prefix: "ü dir/" }))
    assert.deepStrictEqual(plain.Uploads?.map((u) => u.Key), ["ü dir/a b.bin"])

    const negative = await failure(s3.send(new ListMultipartUploadsCommand({ Bucket: listing, MaxUploads: -1 })))
    assert.strictEqual(negative.name, "InvalidArgument")
    const badEncoding = await failure(s3.send(new ListMultipartUploadsCommand({ Bucket: listing, EncodingType: "base64" as never })))
    assert.strictEqual(badEncoding.name, "InvalidArgument")
    const foreign = await failure(drive.client(bob).send(new ListMultipartUploadsCommand({ Bucket: listing })))
    assert.strictEqual(foreign.name, "AccessDenied")
  })
})

describe("presigned URLs", () => {
  it("downloads and uploads with presigned GET and PUT URLs, and refuses them when tampered with", async () => {
    const s3 = drive.client(alice)
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "shared/report.txt", Body: "quarterly numbers" }))
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: "shared/report.txt" }), { expiresIn: 300 })
    const got = await fetch(getUrl)
    assert.strictEqual(got.status, 200)
    assert.strictEqual(await got.text(), "quarterly numbers")

    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: "shared/upload.bin", ContentType: "application/octet-stream" }), { expiresIn: 300 })
    const payload = bytesOf(2 * MiB + 3, 5)
    const put = await fetch(putUrl, { method: "PUT", body: new Uint8Array(payload), headers: { "content-type": "application/octet-stream" } })
    assert.strictEqual(put.status, 200, await put.text())
    const back = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "shared/upload.bin" }))).Body!.transformToByteArray())
    assert.isTrue(back.equals(payload))

    const otherKey = getUrl.replace("report.txt", "upload.bin")
    const tampered = await fetch(otherKey)
    assert.strictEqual(tampered.status, 403)
    assert.include(await tampered.text(), "<Code>SignatureDoesNotMatch</Code>")
    const asPut = await fetch(getUrl, { method: "PUT", body: "overwrite" })
    assert.strictEqual(asPut.status, 403)
    await asPut.text()
    assert.strictEqual(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "shared/report.txt" }))).Body!.transformToString(), "quarterly numbers")
  })
})
