// Large object bodies are sent through a few reused buffers (pooled_response.ts): they arrive
// whole, keep-alive connections go on serving, a client that leaves mid-body releases the file,
// and a body that fails mid-way never looks complete to the client.
import http from "node:http"
import type { AddressInfo } from "node:net"
import { readdirSync, readlinkSync } from "node:fs"
import { setTimeout as sleep } from "node:timers/promises"
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3"
import { getSignedUrl } from "@aws-sdk/s3-request-presigner"
import { serve, type ServerType } from "@hono/node-server"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Hono } from "hono"
import { bytesOf, principalOf, startTestDrive, type TestDrive } from "./_test_support.ts"
import { withPooledBodies } from "./pooled_response.ts"

const MiB = 1024 * 1024

/** Paths of this process's open files under `dir`. */
const openFilesUnder = (dir: string): Array<string> =>
  readdirSync("/proc/self/fd").flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`)
      return target.startsWith(dir) ? [target] : []
    } catch {
      return []
    }
  })

describe("large bodies through reused buffers (the Drive's GET)", () => {
  let drive: TestDrive
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  beforeAll(async () => {
    drive = await startTestDrive()
  })
  afterAll(async () => {
    agent.destroy()
    await drive.stop()
  })

  it("serves whole and ranged objects, and the same connection then serves the next requests", async () => {
    const s3 = drive.client(await drive.keyFor(principalOf("pool-alice")), {
      requestHandler: { httpAgent: agent }
    })
    await s3.send(new CreateBucketCommand({ Bucket: "pool-alice" }))
    const data = bytesOf(5 * MiB + 7, 5)
    await s3.send(new PutObjectCommand({ Bucket: "pool-alice", Key: "big.bin", Body: data }))
    for (let i = 0; i < 3; i++) {
      const got = await s3.send(new GetObjectCommand({ Bucket: "pool-alice", Key: "big.bin" }))
      assert.strictEqual(got.ContentLength, data.length)
      assert.isTrue(Buffer.from(await got.Body!.transformToByteArray()).equals(data), "the whole object, byte for byte")
      const ranged = await s3.send(new GetObjectCommand({ Bucket: "pool-alice", Key: "big.bin", Range: `bytes=${MiB + 3}-${3 * MiB + 2}` }))
      assert.strictEqual(ranged.ContentRange, `bytes ${MiB + 3}-${3 * MiB + 2}/${data.length}`)
      assert.isTrue(Buffer.from(await ranged.Body!.transformToByteArray()).equals(data.subarray(MiB + 3, 3 * MiB + 3)), "the range")
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: "pool-alice" }))
      assert.deepStrictEqual(listed.Contents?.map((c) => c.Key), ["big.bin"])
    }
  })

  it("releases the object's file when the client leaves in the middle of the body", async () => {
    const s3 = drive.client(await drive.keyFor(principalOf("pool-bob")))
    await s3.send(new CreateBucketCommand({ Bucket: "pool-bob" }))
    await s3.send(new PutObjectCommand({ Bucket: "pool-bob", Key: "big.bin", Body: bytesOf(16 * MiB, 9) }))
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: "pool-bob", Key: "big.bin" }), { expiresIn: 60 })
    const blobs = `${drive.root}/blobs`
    const received = await new Promise<number>((resolve, reject) => {
      http.get(url, (response) => {
        assert.strictEqual(response.statusCode, 200)
        response.once("data", (chunk: Buffer) => {
          response.destroy()
          resolve(chunk.length)
        })
      }).on("error", reject)
    })
    assert.isAbove(received, 0)
    let open = openFilesUnder(blobs)
    for (let i = 0; i < 50 && open.length > 0; i++) {
      await sleep(50)
      open = openFilesUnder(blobs)
    }
    assert.deepStrictEqual(open, [], "no blob file left open")
    const again = await s3.send(new GetObjectCommand({ Bucket: "pool-bob", Key: "big.bin", Range: "bytes=0-9" }))
    assert.strictEqual((await again.Body!.transformToByteArray()).length, 10, "the server goes on serving")
  })
})

describe("withPooledBodies on any Hono app", () => {
  let server: ServerType
  let base: string
  const failing = () => {
    let sent = 0
    return new ReadableStream({
      type: "bytes",
      pull(controller) {
        if (sent >= 768 * 1024) {
          controller.error(new Error("the disk went away"))
          return
        }
        const view = controller.byobRequest!.view!
        const n = Math.min(view.byteLength, 64 * 1024)
        new Uint8Array(view.buffer, view.byteOffset, n).fill(7)
        sent += n
        controller.byobRequest!.respond(n)
      }
    })
  }
  beforeAll(async () => {
    const app = new Hono()
    app.get("/failing", () => new Response(failing(), { headers: { "content-length": String(2 * MiB) } }))
    app.get("/plain", () =>
      new Response(new ReadableStream({
        start(controller) {
          for (let i = 0; i < 4; i++) controller.enqueue(new Uint8Array(256 * 1024).fill(i))
          controller.close()
        }
      }), { headers: { "content-length": String(MiB), "x-kind": "plain" } }))
    app.get("/small", (c) => c.text("small body", 201, { "x-kind": "small" }))
    server = await new Promise((resolve) => {
      const listening = serve({ fetch: withPooledBodies(app.fetch), hostname: "127.0.0.1", port: 0 }, () => resolve(listening))
    })
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it("cuts the connection when a body fails mid-way, so the client never sees a complete response", async () => {
    const outcome = await new Promise<{ bytes: number; complete: boolean; error?: string }>((resolve) => {
      http.get(`${base}/failing`, (response) => {
        let bytes = 0
        response.on("data", (chunk: Buffer) => (bytes += chunk.length))
        response.on("end", () => resolve({ bytes, complete: response.complete }))
        response.on("error", (error) => resolve({ bytes, complete: response.complete, error: error.message }))
        response.on("aborted", () => resolve({ bytes, complete: false, error: "aborted" }))
      }).on("error", (error) => resolve({ bytes: -1, complete: false, error: error.message }))
    })
    assert.isFalse(outcome.complete, "the response is not complete")
    assert.isBelow(outcome.bytes, 2 * MiB)
  })

  it("leaves plain streams and small bodies to the server, unchanged", async () => {
    const plain = await fetch(`${base}/plain`)
    assert.strictEqual(plain.headers.get("x-kind"), "plain")
    const bytes = new Uint8Array(await plain.arrayBuffer())
    assert.strictEqual(bytes.length, MiB)
    assert.deepStrictEqual([bytes[0], bytes[256 * 1024], bytes[MiB - 1]], [0, 1, 3])
    const small = await fetch(`${base}/small`)
    assert.strictEqual(small.status, 201)
    assert.strictEqual(await small.text(), "small body")
  })
})
