// Hostile requests against a real Drive server: each gets its S3 error and changes nothing —
// no object written, deleted or overwritten, no file outside the store.
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand
} from "@aws-sdk/client-s3"
import { createHash } from "node:crypto"
import { readdirSync } from "node:fs"
import { dirname, join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { makeChecksum } from "./checksums.ts"
import { chunkedSigned, chunkedSignedLength, chunkedUnsigned, presign, rawRequest, send } from "./_raw_client.ts"
import { bytesOf, type Credentials, principalOf, startTestDrive, type TestDrive } from "./_test_support.ts"

let drive: TestDrive
let alice: Credentials
let bob: Credentials
const aliceBucket = "alice-hostile"
const bobBucket = "bob-hostile"

const walk = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]))

let filesBefore: Array<string>
const siblingsBefore = new Set<string>()

beforeAll(async () => {
  drive = await startTestDrive()
  alice = await drive.keyFor(principalOf("alice"))
  bob = await drive.keyFor(principalOf("bob"))
  await drive.client(alice).send(new CreateBucketCommand({ Bucket: aliceBucket }))
  await drive.client(bob).send(new CreateBucketCommand({ Bucket: bobBucket }))
  await drive.client(alice).send(new PutObjectCommand({ Bucket: aliceBucket, Key: "keep.txt", Body: "original" }))
  await drive.client(bob).send(new PutObjectCommand({ Bucket: bobBucket, Key: "key", Body: "bob's" }))
  for (const name of readdirSync(dirname(drive.root))) siblingsBefore.add(name)
  filesBefore = walk(drive.root).sort()
})
afterAll(async () => {
  await drive?.stop()
})

const keysOf = async (credentials: Credentials, bucket: string) =>
  ((await drive.client(credentials).send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key)

const textOf = async (credentials: Credentials, bucket: string, key: string) =>
  await (await drive.client(credentials).send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString()

const unchanged = async () => {
  assert.deepStrictEqual(await keysOf(alice, aliceBucket), ["keep.txt"])
  assert.deepStrictEqual(await keysOf(bob, bobBucket), ["key"])
  assert.strictEqual(await textOf(alice, aliceBucket, "keep.txt"), "original")
  assert.strictEqual(await textOf(bob, bobBucket, "key"), "bob's")
}

const put = (path: string, spec: Partial<Parameters<typeof rawRequest>[2]> = {}) =>
  rawRequest(drive.url, alice, { method: "PUT", path, body: "evil", ...spec })

describe("hostile keys and paths", () => {
  it("refuses keys that could escape the store, and writes no file outside it", async () => {
    const cases: Array<[string, string]> = [
      [`/${aliceBucket}/../escape.txt`, "InvalidURI"],
      [`/${aliceBucket}/a/%2e%2e/%2e%2e/escape.txt`, "InvalidURI"],
      [`/${aliceBucket}/..%5Cescape.txt`, "InvalidArgument"],
      [`/${aliceBucket}/a%5C..%5C..%5Cescape.txt`, "InvalidArgument"],
      [`/${aliceBucket}/nul%00byte.txt`, "InvalidArgument"],
      [`/${aliceBucket}//leading-slash.txt`, "InvalidArgument"],
      [`/${aliceBucket}/${"k".repeat(1025)}`, "KeyTooLongError"],
      [`/${aliceBucket}/${"k/".repeat(600)}`, "KeyTooLongError"],
      [`/${aliceBucket}/${"s".repeat(300)}`, "InvalidArgument"],
      [`/${aliceBucket}/ctrl%0Achar`, "InvalidArgument"]
    ]
    for (const [path, expected] of cases) {
      const response = await put(path)
      assert.strictEqual(response.code, expected, path.slice(0, 80))
      assert.strictEqual(response.status, 400, path.slice(0, 80))
    }
    const raw = await send(drive.url, { method: "PUT", path: `/${aliceBucket}/..\\escape.txt`, headers: { host: "x", "content-length": "4" }, body: "evil" })
    assert.strictEqual(raw.status, 400)
    await unchanged()
    assert.deepStrictEqual(walk(drive.root).sort(), filesBefore)
    assert.deepStrictEqual(readdirSync(dirname(drive.root)).filter((name) => !siblingsBefore.has(name) && name.startsWith("escape")), [])
  })

  it("never lets a path climb from one bucket into another", async () => {
    for (const path of [`/${aliceBucket}/../${bobBucket}/key`, `/${aliceBucket}/%2E%2E/${bobBucket}/key`, `/${aliceBucket}/./../${bobBucket}/key`]) {
      const response = await put(path, { body: "overwritten" })
      assert.strictEqual(response.code, "InvalidURI", path)
    }
    const signedByAliceForBob = await put(`/${bobBucket}/key`, { body: "overwritten" })
    assert.strictEqual(signedByAliceForBob.code, "AccessDenied")
    await unchanged()
  })

  it("refuses bad bucket names in paths", async () => {
    for (const name of ["UPPER", "a_b", "ab", "..", "x".repeat(64)]) {
      const response = await rawRequest(drive.url, alice, { method: "PUT", path: `/${name}` })
      assert.include(["InvalidBucketName", "InvalidURI"], response.code, name)
    }
  })
})

describe("hostile bodies", () => {
  const deleteBody = (keys: Array<string>, bucketXml = "") =>
    `<?xml version="1.0" encoding="UTF-8"?>${bucketXml}<Delete>${keys.map((k) => `<Object><Key>${k}</Key></Object>`).join("")}</Delete>`

  it("refuses DeleteObjects on another user's bucket, and with 1,001 keys", async () => {
    const body = deleteBody(["key"])
    const foreign = await rawRequest(drive.url, alice, { method: "POST", path: `/${bobBucket}`, query: { delete: "" }, body })
    assert.strictEqual(foreign.code, "AccessDenied")
    const many = deleteBody(Array.from({ length: 1001 }, (_, i) => `k${i}`).concat(["keep.txt"]).slice(-1001))
    const tooMany = await rawRequest(drive.url, alice, { method: "POST", path: `/${aliceBucket}`, query: { delete: "" }, body: many })
    assert.strictEqual(tooMany.code, "MalformedXML")
    await unchanged()
  })

  it("refuses XXE and billion-laughs bodies without expanding them", async () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Delete><Object><Key>&x;</Key></Object></Delete>`
    const lol = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY a "keep.txt"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">` +
      `<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]><Delete><Object><Key>&d;</Key></Object></Delete>`
    const sneaky = `<?xml version="1.0"?><!doctype Delete [<!ENTITY a "keep.txt">]><Delete><Object><Key>&a;</Key></Object></Delete>`
    for (const body of [xxe, lol, sneaky, "<Delete><Object><Key>keep.txt</Key></Object>", "not xml at all"]) {
      const response = await rawRequest(drive.url, alice, { method: "POST", path: `/${aliceBucket}`, query: { delete: "" }, body })
      assert.strictEqual(response.code, "MalformedXML", body.slice(0, 60))
      assert.notInclude(response.body, "root:")
    }
    const { UploadId } = await drive.client(alice).send(new CreateMultipartUploadCommand({ Bucket: aliceBucket, Key: "keep.txt" }))
    const complete = await rawRequest(drive.url, alice, {
      method: "POST",
      path: `/${aliceBucket}/keep.txt`,
      query: { uploadId: UploadId! },
      body: xxe.replace("Delete", "CompleteMultipartUpload")
    })
    assert.strictEqual(complete.code, "MalformedXML")
    await unchanged()
  })

  it("refuses a body that does not match its signed SHA-256, checksum, Content-MD5 or length", async () => {
    const wrongHash = await put(`/${aliceBucket}/keep.txt`, { body: "overwritten", payloadHash: createHash("sha256").update("something else").digest("hex") })
    assert.strictEqual(wrongHash.code, "XAmzContentSHA256Mismatch")
    const wrongCrc = await put(`/${aliceBucket}/keep.txt`, { body: "overwritten", headers: { "x-amz-checksum-crc32": "AAAAAA==" } })
    assert.strictEqual(wrongCrc.code, "BadDigest")
    const wrongMd5 = await put(`/${aliceBucket}/keep.txt`, { body: "overwritten", headers: { "content-md5": createHash("md5").update("x").digest("base64") } })
    assert.strictEqual(wrongMd5.code, "BadDigest")
    const trailer = chunkedUnsigned(Buffer.from("overwritten"), 4, [["x-amz-checksum-crc32", "AAAAAA=="]])
    const chunked = await put(`/${aliceBucket}/keep.txt`, {
      body: trailer,
      payloadHash: "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      headers: { "content-encoding": "aws-chunked", "x-amz-decoded-content-length": "11", "x-amz-trailer": "x-amz-checksum-crc32" }
    })
    assert.strictEqual(chunked.code, "BadDigest")
    const short = await put(`/${aliceBucket}/keep.txt`, {
      body: chunkedUnsigned(Buffer.from("overwritten"), 4, [["x-amz-checksum-crc32", "AAAAAA=="]]),
      payloadHash: "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      headers: { "content-encoding": "aws-chunked", "x-amz-decoded-content-length": "50", "x-amz-trailer": "x-amz-checksum-crc32" }
    })
    assert.strictEqual(short.code, "IncompleteBody")
    const garbage = await put(`/${aliceBucket}/keep.txt`, {
      body: "zz\r\nnot chunked\r\n",
      payloadHash: "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      headers: { "content-encoding": "aws-chunked", "x-amz-decoded-content-length": "11", "x-amz-trailer": "x-amz-checksum-crc32" }
    })
    assert.strictEqual(garbage.code, "InvalidRequest")
    await unchanged()
  })
})

describe("hostile signatures", () => {
  it("refuses a wrong secret, an unknown key, anonymous requests and another user's key", async () => {
    const wrongSecret = await rawRequest(drive.url, { ...alice, secretAccessKey: `${alice.secretAccessKey.slice(0, -1)}x` }, { method: "GET", path: `/${aliceBucket}` })
    assert.strictEqual(wrongSecret.code, "SignatureDoesNotMatch")
    assert.strictEqual(wrongSecret.status, 403)
    const unknown = await rawRequest(drive.url, { accessKeyId: "AQKAAAAAAAAAAAAAAAAA", secretAccessKey: "x" }, { method: "GET", path: `/${aliceBucket}` })
    assert.strictEqual(unknown.code, "InvalidAccessKeyId")
    const anonymous = await rawRequest(drive.url, alice, { method: "GET", path: `/${aliceBucket}/keep.txt`, anonymous: true })
    assert.strictEqual(anonymous.code, "AccessDenied")
    const bobs = await rawRequest(drive.url, bob, { method: "GET", path: `/${aliceBucket}/keep.txt` })
    assert.strictEqual(bobs.code, "AccessDenied")
    const sdkBob = drive.client(bob)
    assert.notInclude(((await sdkBob.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name), aliceBucket)
  })

  it("refuses a wrong region or service in the scope, and a 16-minute skew either way", async () => {
    const region = await rawRequest(drive.url, alice, { method: "GET", path: `/${aliceBucket}`, region: "eu-west-1" })
    assert.strictEqual(region.code, "AuthorizationHeaderMalformed")
    const service = await rawRequest(drive.url, alice, { method: "GET", path: `/${aliceBucket}`, service: "sts" })
    assert.strictEqual(service.code, "AuthorizationHeaderMalformed")
    for (const skew of [-16, 16]) {
      const skewed = await put(`/${aliceBucket}/keep.txt`, { body: "overwritten", signingDate: new Date(Date.now() + skew * 60_000) })
      assert.strictEqual(skewed.code, "RequestTimeTooSkewed", `${skew} minutes`)
      assert.strictEqual(skewed.status, 403)
    }
    const fine = await rawRequest(drive.url, alice, { method: "GET", path: `/${aliceBucket}`, signingDate: new Date(Date.now() - 10 * 60_000) })
    assert.strictEqual(fine.status, 200)
    await unchanged()
  })

  it("refuses headers added or changed after signing", async () => {
    const added = await put(`/${aliceBucket}/keep.txt`, { body: "overwritten", tamper: (r) => void (r.headers["x-amz-meta-evil"] = "1") })
    assert.strictEqual(added.code, "AccessDenied")
    const changed = await put(`/${aliceBucket}/keep.txt`, {
      body: "overwritten",
      headers: { "x-amz-meta-note": "signed" },
      tamper: (r) => void (r.headers["x-amz-meta-note"] = "changed")
    })
    assert.strictEqual(changed.code, "SignatureDoesNotMatch")
    const otherKey = await put(`/${aliceBucket}/keep.txt`, { body: "overwritten", tamper: (r) => void (r.path = `/${aliceBucket}/other.txt`) })
    assert.strictEqual(otherKey.code, "SignatureDoesNotMatch")
    await unchanged()
  })

  it("refuses expired, not-yet-valid, over-long and tampered presigned URLs", async () => {
    const expired = await presign(drive.url, alice, { method: "GET", path: `/${aliceBucket}/keep.txt`, expiresIn: 60, signingDate: new Date(Date.now() - 120_000) })
    const expiredResponse = await fetch(expired)
    assert.strictEqual(expiredResponse.status, 403)
    assert.match(await expiredResponse.text(), /<Code>AccessDenied<\/Code><Message>Request has expired/)
    const future = await presign(drive.url, alice, { method: "GET", path: `/${aliceBucket}/keep.txt`, expiresIn: 60, signingDate: new Date(Date.now() + 20 * 60_000) })
    assert.strictEqual((await fetch(future)).status, 403)
    const valid = await presign(drive.url, alice, { method: "GET", path: `/${aliceBucket}/keep.txt`, expiresIn: 60 })
    assert.strictEqual(await (await fetch(valid)).text(), "original")
    const overLong = valid.replace("X-Amz-Expires=60", "X-Amz-Expires=604801")
    const overLongResponse = await fetch(overLong)
    assert.strictEqual(overLongResponse.status, 400)
    assert.include(await overLongResponse.text(), "<Code>AuthorizationQueryParametersError</Code>")
    const stretched = valid.replace("X-Amz-Expires=60", "X-Amz-Expires=600")
    assert.include(await (await fetch(stretched)).text(), "<Code>SignatureDoesNotMatch</Code>")
    const asPut = await fetch(valid, { method: "PUT", body: "overwritten" })
    assert.strictEqual(asPut.status, 403)
    await asPut.text()
    await unchanged()
  })
})

describe("hostile listing parameters", () => {
  it("refuses forged continuation tokens and tokens of another bucket or prefix", async () => {
    const s3 = drive.client(alice)
    for (let i = 0; i < 3; i++) await s3.send(new PutObjectCommand({ Bucket: aliceBucket, Key: `list/${i}`, Body: "x" }))
    const page = await s3.send(new ListObjectsV2Command({ Bucket: aliceBucket, Prefix: "list/", MaxKeys: 1 }))
    const token = page.NextContinuationToken!
    const [payload, mac] = token.split(".")
    const forged = Buffer.from(JSON.stringify({ c: "eyJhZnRlciI6IiJ9", s: "0000000000000000", p: "list/", d: "" })).toString("base64url")
    for (const bad of [`${forged}.${mac}`, `${payload}.AAAA${mac!.slice(4)}`, "garbage", "a.b.c", "%%%"]) {
      const response = await rawRequest(drive.url, alice, { method: "GET", path: `/${aliceBucket}`, query: { "list-type": "2", "continuation-token": bad, prefix: "list/" } })
      assert.strictEqual(response.code, "InvalidArgument", bad.slice(0, 40))
    }
    const otherPrefix = await rawRequest(drive.url, alice, { method: "GET", path: `/${aliceBucket}`, query: { "list-type": "2", "continuation-token": token, prefix: "" } })
    assert.strictEqual(otherPrefix.code, "InvalidArgument")
    const bobsToken = await rawRequest(drive.url, bob, { method: "GET", path: `/${bobBucket}`, query: { "list-type": "2", "continuation-token": token, prefix: "list/" } })
    assert.strictEqual(bobsToken.code, "InvalidArgument")
    const maxKeys = await rawRequest(drive.url, alice, { method: "GET", path: `/${aliceBucket}`, query: { "list-type": "2", "max-keys": "-1" } })
    assert.strictEqual(maxKeys.code, "InvalidArgument")
    for (let i = 0; i < 3; i++) await s3.send(new DeleteObjectCommand({ Bucket: aliceBucket, Key: `list/${i}` }))
  })
})

describe("signed streaming uploads (aws-chunked with chunk signatures)", () => {
  const upload = (key: string, data: Uint8Array, options: { trailer?: [string, string]; corrupt?: number } = {}) =>
    put(`/${aliceBucket}/${key}`, {
      body: undefined,
      payloadHash: options.trailer === undefined ? "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" : "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
      headers: {
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": String(data.length),
        "content-length": String(chunkedSignedLength(data.length, 64 * 1024, options.trailer)),
        ...(options.trailer === undefined ? {} : { "x-amz-trailer": options.trailer[0] })
      },
      bodyFromSeed: (seed, date) => chunkedSigned(alice, seed, date, data, 64 * 1024, options)
    })

  it("stores a signed streaming upload, with and without a signed checksum trailer", async () => {
    const data = bytesOf(200_000, 21)
    const plain = await upload("streamed.bin", data)
    assert.strictEqual(plain.status, 200, plain.body)
    const crc = makeChecksum("crc32")
    crc.update(data)
    const trailed = await upload("streamed-trailer.bin", data, { trailer: ["x-amz-checksum-crc32", await crc.digestBase64()] })
    assert.strictEqual(trailed.status, 200, trailed.body)
    for (const key of ["streamed.bin", "streamed-trailer.bin"]) {
      const got = await drive.client(alice).send(new GetObjectCommand({ Bucket: aliceBucket, Key: key }))
      assert.isTrue(Buffer.from(await got.Body!.transformToByteArray()).equals(data), key)
      await drive.client(alice).send(new DeleteObjectCommand({ Bucket: aliceBucket, Key: key }))
    }
  })

  it("refuses a chunk altered after signing, and a wrong signed trailer, writing nothing", async () => {
    const data = bytesOf(200_000, 22)
    const corrupt = await upload("keep.txt", data, { corrupt: 1 })
    assert.strictEqual(corrupt.code, "SignatureDoesNotMatch")
    const wrongTrailer = await upload("keep.txt", data, { trailer: ["x-amz-checksum-crc32", "AAAAAA=="] })
    assert.strictEqual(wrongTrailer.code, "BadDigest")
    await unchanged()
  })
})
