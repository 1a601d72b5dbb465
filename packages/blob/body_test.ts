import { assert, describe, it } from "@effect/vitest"
import { BodySource, pooledChunks, readChunks } from "./mod.ts"

async function* bytes(total: number, chunk: number) {
  for (let offset = 0; offset < total; offset += chunk) {
    yield Uint8Array.from({ length: Math.min(chunk, total - offset) }, (_, i) => (offset + i) & 0xff)
  }
}

describe("bodies", () => {
  it("re-chunks into parts of exactly the size asked, the last one shorter", async () => {
    const parts: Array<Uint8Array> = []
    for await (const part of readChunks(bytes(1000, 7), 128)) parts.push(part)
    assert.deepStrictEqual(parts.map((part) => part.byteLength), [128, 128, 128, 128, 128, 128, 128, 104])
    assert.deepStrictEqual(Array.from(parts[1]!.subarray(0, 3)), [128, 129, 130])
  })

  it("a pool never holds more buffers than allowed, and waits for released ones", async () => {
    const pool = pooledChunks(bytes(1000, 33), 100, 2)
    const iterator = pool[Symbol.asyncIterator]()
    const first = (await iterator.next()).value as Uint8Array
    const second = iterator.next()
    const third = iterator.next()
    let thirdArrived = false
    void third.then(() => {
      thirdArrived = true
    })
    const secondPart = (await second).value as Uint8Array
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.isFalse(thirdArrived, "a third part needs a released buffer")
    assert.strictEqual(first[0], 0)
    pool.release(first)
    const thirdPart = (await third).value as Uint8Array
    assert.strictEqual(thirdPart.buffer, first.buffer, "the released buffer is reused")
    assert.strictEqual(thirdPart[0], 200)
    assert.strictEqual(secondPart[0], 100)
  })

  it("holds a body to its declared length and reports why it refused it", async () => {
    const short = BodySource.from(bytes(10, 4), 11)
    const error = await (async () => {
      for await (const _ of short) void _
    })().catch((cause: unknown) => cause)
    assert.strictEqual((error as { _tag: string })._tag, "InvalidArgument")
    assert.strictEqual(short.failure?._tag, "InvalidArgument")
    assert.strictEqual(short.bytes, 10)
  })
})
