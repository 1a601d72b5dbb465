// Read-after-write, racing writers, and a Drive process killed in the middle of a PUT.
import { spawn, type ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { request as httpRequest } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { signerFor } from "./_raw_client.ts"
import { bytesOf, type Credentials, principalOf, startTestDrive, type TestDrive } from "./_test_support.ts"

let drive: TestDrive
let alice: Credentials
const bucket = "alice-consistency"

beforeAll(async () => {
  drive = await startTestDrive()
  alice = await drive.keyFor(principalOf("alice"))
  await drive.client(alice).send(new CreateBucketCommand({ Bucket: bucket }))
})
afterAll(async () => {
  await drive?.stop()
})

describe("consistency", () => {
  it("sees every PUT at once in GET, HEAD and LIST", async () => {
    const s3 = drive.client(alice)
    for (let i = 0; i < 30; i++) {
      const body = `version ${i} ${"x".repeat(i * 97)}`
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "raw/key", Body: body }))
      const [got, head, list] = await Promise.all([
        s3.send(new GetObjectCommand({ Bucket: bucket, Key: "raw/key" })).then(async (r) => ({ text: await r.Body!.transformToString(), etag: r.ETag })),
        s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "raw/key" })),
        s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "raw/" }))
      ])
      assert.strictEqual(got.text, body)
      assert.strictEqual(got.etag, put.ETag)
      assert.strictEqual(head.ETag, put.ETag)
      assert.strictEqual(head.ContentLength, body.length)
      assert.deepStrictEqual(list.Contents?.map((o) => [o.Key, o.ETag, o.Size]), [["raw/key", put.ETag, body.length]])
    }
  })

  it("leaves one whole body of two racing PUTs, with that body's ETag", async () => {
    const s3 = drive.client(alice)
    for (let round = 0; round < 8; round++) {
      const a = bytesOf(3 * 1024 * 1024, round * 2 + 1)
      const b = bytesOf(3 * 1024 * 1024 + 1, round * 2 + 2)
      const [putA, putB] = await Promise.all([
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: "race", Body: a })),
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: "race", Body: b }))
      ])
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "race" }))
      const bytes = Buffer.from(await got.Body!.transformToByteArray())
      const winner = bytes.equals(a) ? putA : bytes.equals(b) ? putB : undefined
      assert.isDefined(winner, `round ${round}: the body is neither writer's`)
      assert.strictEqual(got.ETag, winner!.ETag)
    }
  })
})

describe("a Drive process killed during a PUT", () => {
  const key = Buffer.from(randomBytes(32)).toString("hex")
  let root: string
  let child: ChildProcess | undefined

  const startChild = async (): Promise<{ url: string; key: Credentials }> => {
    const started = spawn(process.execPath, [join(import.meta.dirname, "testdata", "drive_process.ts"), root], {
      env: { ...process.env, DRIVE_TEST_KEY: key },
      stdio: ["ignore", "pipe", "inherit"]
    })
    child = started
    return await new Promise((resolve, reject) => {
      let buffer = ""
      started.stdout!.on("data", (chunk: Buffer) => {
        buffer += chunk.toString()
        const line = buffer.split("\n").find((l) => l.startsWith("{\"url\""))
        if (line !== undefined) resolve(JSON.parse(line))
      })
      started.on("exit", (code) => reject(new Error(`the Drive process exited (${code}) before it listened`)))
    })
  }
  const killChild = async () => {
    const running = child
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return
    const exited = new Promise((resolve) => running.once("exit", resolve))
    running.kill("SIGKILL")
    await exited
  }

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "aquifer-drive-crash-"))
  })
  afterAll(async () => {
    await killChild()
    rmSync(root, { recursive: true, force: true })
  })

  it("keeps the old object whole, and the store stays usable after a restart", async () => {
    const first = await startChild()
    const client = (url: string, credentials: Credentials) =>
      new S3Client({ endpoint: url, region: "us-east-1", forcePathStyle: true, credentials, maxAttempts: 1 })
    let s3 = client(first.url, first.key)
    await s3.send(new CreateBucketCommand({ Bucket: "kim-crash" }))
    const old = bytesOf(1024 * 1024, 77)
    const written = await s3.send(new PutObjectCommand({ Bucket: "kim-crash", Key: "precious.bin", Body: old }))
    s3.destroy()

    const size = 64 * 1024 * 1024
    const target = new URL(first.url)
    const signed = await signerFor(first.key).sign({
      method: "PUT",
      protocol: "http:",
      hostname: target.hostname,
      port: Number(target.port),
      path: "/kim-crash/precious.bin",
      query: {},
      headers: { host: target.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", "content-length": String(size) }
    })
    const upload = httpRequest({ host: target.hostname, port: target.port, method: "PUT", path: "/kim-crash/precious.bin", headers: signed.headers })
    const failed = new Promise<void>((resolve) => {
      upload.on("error", () => resolve())
      upload.on("response", (response) => {
        response.resume()
        response.on("end", () => resolve())
      })
    })
    const half = bytesOf(size / 2, 78)
    await new Promise<void>((resolve) => upload.write(half, () => resolve()))
    await new Promise((resolve) => setTimeout(resolve, 500))
    await killChild()
    await failed

    const second = await startChild()
    s3 = client(second.url, second.key)
    const got = await s3.send(new GetObjectCommand({ Bucket: "kim-crash", Key: "precious.bin" }))
    assert.strictEqual(got.ETag, written.ETag)
    assert.isTrue(Buffer.from(await got.Body!.transformToByteArray()).equals(old), "the old object, whole")
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: "kim-crash" }))
    assert.deepStrictEqual(listed.Contents?.map((o) => [o.Key, o.Size]), [["precious.bin", old.length]])
    const fresh = bytesOf(2 * 1024 * 1024, 79)
    await s3.send(new PutObjectCommand({ Bucket: "kim-crash", Key: "precious.bin", Body: fresh }))
    const after = await s3.send(new GetObjectCommand({ Bucket: "kim-crash", Key: "precious.bin" }))
    assert.isTrue(Buffer.from(await after.Body!.transformToByteArray()).equals(fresh))
    s3.destroy()
    await killChild()
  })
})
