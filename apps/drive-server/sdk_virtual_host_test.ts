// Virtual-host style addressing (`<bucket>.<domain>/<key>`) through `@aws-sdk/client-s3` with
// `forcePathStyle: false`, against a real Drive on 127.0.0.1 whose virtual-host domain is
// `drive.localhost`. Name resolution is the only thing bent: an `http.Agent` whose `lookup` sends
// every host to 127.0.0.1, so the SDK really connects to `<bucket>.drive.localhost:<port>`, sends
// that Host header and signs it. Path style keeps working on the same server.
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client
} from "@aws-sdk/client-s3"
import { getSignedUrl } from "@aws-sdk/s3-request-presigner"
import { Agent, type IncomingHttpHeaders, request } from "node:http"
import type { LookupAddress, LookupOptions } from "node:dns"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { bytesOf, type Credentials, failure, principalOf, region, startTestDrive, type TestDrive } from "./_test_support.ts"

const domain = "drive.localhost"
let drive: TestDrive
let alice: Credentials
let bob: Credentials
let port: string
/** Every host name the agent was asked to resolve. */
const looked: Array<string> = []

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | Array<LookupAddress>, family?: number) => void

/** Resolves every name to 127.0.0.1 and remembers it (the test's stand-in for wildcard DNS). */
const agent = new Agent({
  keepAlive: true,
  lookup: ((hostname: string, options: LookupOptions, callback: LookupCallback) => {
    looked.push(hostname)
    if (options.all === true) callback(null, [{ address: "127.0.0.1", family: 4 }])
    else callback(null, "127.0.0.1", 4)
  }) as never
})

const clients: Array<S3Client> = []
const virtualHosted = (credentials: Credentials) => {
  const client = new S3Client({
    endpoint: `http://${domain}:${port}`,
    region,
    forcePathStyle: false,
    credentials,
    maxAttempts: 1,
    requestHandler: { httpAgent: agent }
  })
  clients.push(client)
  return client
}

beforeAll(async () => {
  drive = await startTestDrive({ virtualHostDomain: domain })
  port = new URL(drive.url).port
  alice = await drive.keyFor(principalOf("alice"))
  bob = await drive.keyFor(principalOf("bob"))
})
afterAll(async () => {
  for (const client of clients) client.destroy()
  agent.destroy()
  await drive?.stop()
})

/** A plain GET through the resolving agent (for presigned URLs): status, headers and body. */
const get = (url: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = request(url, { agent, headers }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (chunk: Buffer) => chunks.push(chunk))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }))
      res.on("error", reject)
    })
    req.on("error", reject)
    req.end()
  })

describe("virtual-host style", () => {
  it("creates, lists, puts, gets and deletes with the bucket in the host name", async () => {
    const s3 = virtualHosted(alice)
    const bucket = "alice-vhost"
    looked.length = 0
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    assert.include(looked, `${bucket}.${domain}`, "the SDK addressed the bucket's own host")
    await s3.send(new HeadBucketCommand({ Bucket: bucket }))

    const data = bytesOf(2 * 1024 * 1024 + 9, 21)
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "nested/dir/ünï file.bin", Body: data, ContentType: "application/x-test" }))
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "top.txt", Body: "top" }))
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "nested/dir/ünï file.bin" }))
    assert.strictEqual(got.ContentType, "application/x-test")
    assert.isTrue(Buffer.from(await got.Body!.transformToByteArray()).equals(data))

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: "/" }))
    assert.deepStrictEqual(listed.Contents?.map((c) => c.Key), ["top.txt"])
    assert.deepStrictEqual(listed.CommonPrefixes?.map((p) => p.Prefix), ["nested/"])
    const buckets = await s3.send(new ListBucketsCommand({}))
    assert.include(buckets.Buckets?.map((b) => b.Name) ?? [], bucket)
    assert.include(looked, domain, "ListBuckets went to the service host itself")

    const removed = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: "top.txt" }] } }))
    assert.deepStrictEqual(removed.Deleted?.map((d) => d.Key), ["top.txt"])
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: "nested/dir/ünï file.bin" }))
    assert.strictEqual((await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: "top.txt" })))).name, "NoSuchKey")
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }))
    assert.strictEqual((await failure(s3.send(new ListObjectsV2Command({ Bucket: bucket })))).name, "NoSuchBucket")
    assert.notInclude(looked, "127.0.0.1")
  })

  it("sees the same objects as path style, on the IP address and on the service host", async () => {
    const bucket = "alice-both"
    const vhost = virtualHosted(alice)
    await vhost.send(new CreateBucketCommand({ Bucket: bucket }))
    await vhost.send(new PutObjectCommand({ Bucket: bucket, Key: "a/from-vhost.txt", Body: "written by host" }))

    const byIp = drive.client(alice)
    const onIp = await byIp.send(new GetObjectCommand({ Bucket: bucket, Key: "a/from-vhost.txt" }))
    assert.strictEqual(await onIp.Body!.transformToString(), "written by host")
    await byIp.send(new PutObjectCommand({ Bucket: bucket, Key: "a/from-path.txt", Body: "written by path" }))

    const pathOnDomain = new S3Client({
      endpoint: `http://${domain}:${port}`,
      region,
      forcePathStyle: true,
      credentials: alice,
      maxAttempts: 1,
      requestHandler: { httpAgent: agent }
    })
    clients.push(pathOnDomain)
    const listed = await pathOnDomain.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "a/" }))
    assert.deepStrictEqual(listed.Contents?.map((c) => c.Key), ["a/from-path.txt", "a/from-vhost.txt"])
    const back = await vhost.send(new GetObjectCommand({ Bucket: bucket, Key: "a/from-path.txt" }))
    assert.strictEqual(await back.Body!.transformToString(), "written by path")
  })

  it("takes the whole path as the key: a path that names the bucket again is a key under it", async () => {
    const bucket = "alice-paths"
    const s3 = virtualHosted(alice)
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    // In virtual-host style the key "alice-paths/inner.txt" travels as /alice-paths/inner.txt,
    // exactly what path style would send for the key "inner.txt".
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${bucket}/inner.txt`, Body: "nested" }))
    const listed = await drive.client(alice).send(new ListObjectsV2Command({ Bucket: bucket }))
    assert.deepStrictEqual(listed.Contents?.map((c) => c.Key), [`${bucket}/inner.txt`])
    assert.strictEqual((await failure(drive.client(alice).send(new GetObjectCommand({ Bucket: bucket, Key: "inner.txt" })))).name, "NoSuchKey")
  })

  it("serves presigned GET URLs for the bucket's host, and refuses one moved to another bucket's host", async () => {
    const bucket = "alice-presign"
    const s3 = virtualHosted(alice)
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "report.txt", Body: "signed for the host" }))
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: "report.txt" }), { expiresIn: 300 })
    assert.strictEqual(new URL(url).host, `${bucket}.${domain}:${port}`)
    assert.strictEqual(new URL(url).pathname, "/report.txt")
    const got = await get(url)
    assert.strictEqual(got.status, 200, got.body)
    assert.strictEqual(got.body, "signed for the host")

    await drive.client(bob).send(new CreateBucketCommand({ Bucket: "bob-presign" }))
    await drive.client(bob).send(new PutObjectCommand({ Bucket: "bob-presign", Key: "report.txt", Body: "bob's" }))
    const moved = new URL(url)
    moved.hostname = `bob-presign.${domain}`
    const refused = await get(moved.toString())
    assert.strictEqual(refused.status, 403)
    assert.include(refused.body, "<Code>SignatureDoesNotMatch</Code>")
  })

  it("keeps another user's bucket closed in virtual-host style", async () => {
    await drive.client(alice).send(new CreateBucketCommand({ Bucket: "alice-closed" }))
    await drive.client(alice).send(new PutObjectCommand({ Bucket: "alice-closed", Key: "secret.txt", Body: "alice only" }))
    const s3 = virtualHosted(bob)
    for (const command of [
      new GetObjectCommand({ Bucket: "alice-closed", Key: "secret.txt" }),
      new ListObjectsV2Command({ Bucket: "alice-closed" }),
      new PutObjectCommand({ Bucket: "alice-closed", Key: "x", Body: "intruder" })
    ]) {
      assert.strictEqual((await failure(s3.send(command as never))).name, "AccessDenied", command.constructor.name)
    }
  })
})
