// SigV4 verification against AWS's published streaming-upload example (the seed and chunk
// signatures of "examplebucket/chunkObject.txt"), and the body decoder's refusals.
import { assert, describe, it } from "vitest"
import { payloadOf } from "./payload.ts"
import { S3Error } from "./s3_error.ts"
import { checkClaim, readClaim, verifySignature } from "./sigv4.ts"

const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
const seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
const chunkSignatures = [
  "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
  "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
  "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
]

const exampleHeaders = () =>
  new Headers({
    host: "s3.amazonaws.com",
    "x-amz-date": "20130524T000000Z",
    "x-amz-storage-class": "REDUCED_REDUNDANCY",
    authorization: "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
      "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class, " +
      `Signature=${seed}`,
    "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "content-encoding": "aws-chunked",
    "x-amz-decoded-content-length": "66560",
    "content-length": "66824"
  })

const exampleBody = (signatures = chunkSignatures, data = [Buffer.alloc(65536, "a"), Buffer.alloc(1024, "a")]) =>
  Buffer.concat([
    Buffer.from(`10000;chunk-signature=${signatures[0]}\r\n`),
    data[0]!,
    Buffer.from(`\r\n400;chunk-signature=${signatures[1]}\r\n`),
    data[1]!,
    Buffer.from(`\r\n0;chunk-signature=${signatures[2]}\r\n\r\n`)
  ])

const verifyExample = (headers: Headers) => {
  const claim = readClaim(headers, [])!
  checkClaim(claim, headers, { region: "us-east-1", now: Date.UTC(2013, 4, 24, 0, 5) })
  const key = verifySignature(claim, secret, { method: "PUT", rawPath: "/examplebucket/chunkObject.txt", query: [], headers, host: "s3.amazonaws.com" })
  return { claim, key }
}

async function* from(...chunks: Array<Uint8Array>) {
  yield* chunks
}

const drain = async (stream: AsyncIterable<Uint8Array>) => {
  let size = 0
  for await (const chunk of stream) size += chunk.byteLength
  return size
}

const code = async (work: () => Promise<unknown> | unknown): Promise<string> => {
  try {
    await work()
  } catch (error) {
    if (error instanceof S3Error) return error.code
    throw error
  }
  return "no error"
}

describe("SigV4", () => {
  it("verifies AWS's example seed signature and every chunk signature of its streaming body", async () => {
    const headers = exampleHeaders()
    const verification = verifyExample(headers)
    const payload = payloadOf(from(exampleBody()), headers, verification)
    assert.strictEqual(payload.length, 66560)
    assert.strictEqual(await drain(payload.stream), 66560)
  })

  it("decodes the body however the network splits it (single bytes, random pieces)", async () => {
    const headers = exampleHeaders()
    const verification = verifyExample(headers)
    const body = exampleBody()
    const singleBytes = async function*() {
      for (let i = 0; i < body.length; i++) yield body.subarray(i, i + 1)
    }
    assert.strictEqual(await drain(payloadOf(singleBytes(), headers, verification).stream), 66560)
    let seed = 7
    const randomPieces = async function*() {
      for (let at = 0; at < body.length;) {
        seed = (seed * 1103515245 + 12345) % 2147483648
        const size = 1 + (seed % 9000)
        yield body.subarray(at, at + size)
        at += size
      }
    }
    assert.strictEqual(await drain(payloadOf(randomPieces(), headers, verification).stream), 66560)
    const withExtra = Buffer.concat([body, Buffer.from("junk")])
    assert.strictEqual(await code(() => drain(payloadOf(from(withExtra), headers, verification).stream)), "InvalidRequest")
  })

  it("refuses a chunk whose data or signature was altered, before the body ends", async () => {
    const headers = exampleHeaders()
    const verification = verifyExample(headers)
    const altered = payloadOf(from(exampleBody(chunkSignatures, [Buffer.alloc(65536, "b"), Buffer.alloc(1024, "a")])), headers, verification)
    assert.strictEqual(await code(() => drain(altered.stream)), "SignatureDoesNotMatch")
    const reordered = [chunkSignatures[0]!, chunkSignatures[2]!, chunkSignatures[1]!]
    assert.strictEqual(await code(() => drain(payloadOf(from(exampleBody(reordered)), headers, verification).stream)), "SignatureDoesNotMatch")
    const truncated = exampleBody().subarray(0, 40_000)
    assert.strictEqual(await code(() => drain(payloadOf(from(truncated), headers, verification).stream)), "IncompleteBody")
  })

  it("checks the scope, the clock and the secret", async () => {
    const headers = exampleHeaders()
    const claim = readClaim(headers, [])!
    assert.strictEqual(await code(() => checkClaim(claim, headers, { region: "eu-west-1", now: Date.UTC(2013, 4, 24) })), "AuthorizationHeaderMalformed")
    assert.strictEqual(await code(() => checkClaim(claim, headers, { region: "us-east-1", now: Date.UTC(2013, 4, 24, 0, 16) })), "RequestTimeTooSkewed")
    assert.strictEqual(await code(() => checkClaim(claim, headers, { region: "us-east-1", now: Date.UTC(2013, 4, 23, 23, 44) })), "RequestTimeTooSkewed")
    assert.strictEqual(
      await code(() => verifySignature(claim, `${secret}x`, { method: "PUT", rawPath: "/examplebucket/chunkObject.txt", query: [], headers, host: "" })),
      "SignatureDoesNotMatch"
    )
    headers.set("x-amz-storage-class", "STANDARD")
    assert.strictEqual(
      await code(() => verifySignature(claim, secret, { method: "PUT", rawPath: "/examplebucket/chunkObject.txt", query: [], headers, host: "" })),
      "SignatureDoesNotMatch"
    )
  })
})
