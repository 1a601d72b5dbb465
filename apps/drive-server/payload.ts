// Request bodies as the Drive stores them: the plain body or the decoded aws-chunked stream,
// verified on the way (payload SHA-256, chunk and trailer signatures, Content-MD5 and the
// x-amz-checksum-* of headers or trailers). A body that fails a check throws an S3Error before
// its stream ends, so the BlobStore never commits it.
import { createHash, type Hash } from "node:crypto"
import { type Checksum, type ChecksumAlgorithm, isChecksumAlgorithm, makeChecksum } from "./checksums.ts"
import { S3Error } from "./s3_error.ts"
import {
  chunkSignature,
  emptySha256,
  sameHex,
  type SignatureClaim,
  streamingSigned,
  streamingSignedTrailer,
  streamingUnsignedTrailer,
  unsignedPayload
} from "./sigv4.ts"

export interface Verification {
  readonly claim: SignatureClaim
  /** The signing key of the verified request (seeds chunk signatures). */
  readonly key: Buffer
}

/** A body ready for the BlobStore: its decoded bytes and their exact length. */
export interface Payload {
  readonly stream: AsyncIterable<Uint8Array>
  readonly length: number
}

const incomplete = () => new S3Error("IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length HTTP header")
const badDigest = (what: string) => new S3Error("BadDigest", 400, `The ${what} you specified did not match the calculated checksum.`)
const invalidChunk = (message: string) => new S3Error("InvalidRequest", 400, `invalid aws-chunked body: ${message}`)

interface ChecksumCheck {
  readonly name: string
  readonly checksum: Checksum
  /** Known up front (header), or filled in from the trailer. */
  expected: string | undefined
}

const checksumHeader = (headers: Headers): { algorithm: ChecksumAlgorithm; value: string } | undefined => {
  let found: { algorithm: ChecksumAlgorithm; value: string } | undefined
  headers.forEach((value, name) => {
    if (!name.startsWith("x-amz-checksum-") || name === "x-amz-checksum-type" || name === "x-amz-checksum-algorithm") return
    const algorithm = name.slice("x-amz-checksum-".length)
    if (!isChecksumAlgorithm(algorithm)) throw new S3Error("InvalidRequest", 400, `unsupported checksum header ${name}`)
    if (found !== undefined) throw new S3Error("InvalidRequest", 400, "expecting a single x-amz-checksum- header")
    found = { algorithm, value }
  })
  return found
}

const parseLength = (text: string | null, what: string): number => {
  if (text === null || !/^\d{1,16}$/.test(text)) {
    throw new S3Error("MissingContentLength", 411, `You must provide the ${what} HTTP header.`)
  }
  return Number(text)
}

const readHex = (line: string): number => {
  if (!/^[0-9a-fA-F]{1,12}$/.test(line)) throw invalidChunk("a chunk size is not hexadecimal")
  return Number.parseInt(line, 16)
}

/** Chunk data are at most this big, and a chunk header line this long (defence against garbage). */
const maxChunkSize = 64 * 1024 * 1024
const maxLine = 4096

async function* decodeChunked(
  source: AsyncIterable<Uint8Array>,
  options: {
    readonly decodedLength: number
    readonly signed: Verification | undefined
    readonly checksums: ReadonlyArray<ChecksumCheck>
    readonly trailerName: string | undefined
  }
): AsyncGenerator<Uint8Array> {
  const { signed, checksums } = options
  let previous = signed?.claim.signature ?? ""
  type State = "header" | "data" | "data-end" | "trailer" | "done"
  let state = "header" as State
  let remaining = 0
  let crlfSeen = 0
  let carry: Uint8Array | undefined
  let chunkSig: string | undefined
  let chunkHash: Hash | undefined
  let produced = 0
  let extra = false
  const trailers: Array<[string, string]> = []

  const finishChunk = (empty: boolean) => {
    if (signed !== undefined) {
      const hash = empty ? emptySha256 : chunkHash!.digest("hex")
      const expected = chunkSignature(signed.key, signed.claim, previous, hash, "PAYLOAD")
      if (chunkSig === undefined || !sameHex(expected, chunkSig)) {
        throw new S3Error("SignatureDoesNotMatch", 403, "The request signature we calculated does not match the signature you provided for a chunk.")
      }
      previous = expected
    }
  }

  const onHeader = (line: string) => {
    const semicolon = line.indexOf(";")
    const size = readHex(semicolon < 0 ? line : line.slice(0, semicolon))
    if (size > maxChunkSize) throw invalidChunk("a chunk is too large")
    chunkSig = undefined
    if (semicolon >= 0) {
      const extension = line.slice(semicolon + 1)
      if (!extension.startsWith("chunk-signature=")) throw invalidChunk("unknown chunk extension")
      chunkSig = extension.slice("chunk-signature=".length)
    }
    if (signed !== undefined && chunkSig === undefined) throw invalidChunk("a chunk lacks its signature")
    chunkHash = signed === undefined ? undefined : createHash("sha256")
    if (size === 0) {
      finishChunk(true)
      state = "trailer"
    } else {
      remaining = size
      state = "data"
    }
  }

  const onTrailer = (line: string) => {
    if (line === "") {
      state = "done"
      return
    }
    const colon = line.indexOf(":")
    if (colon <= 0) throw invalidChunk("a trailer line lacks its colon")
    trailers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()])
    if (trailers.length > 8) throw invalidChunk("too many trailers")
  }

  for await (const input of source) {
    let at = 0
    while (at < input.length) {
      if ((state as State) === "done") {
        extra = true
        break
      }
      if ((state as State) === "data") {
        const take = Math.min(remaining, input.length - at)
        const part = input.subarray(at, at + take)
        at += take
        remaining -= take
        produced += take
        if (produced > options.decodedLength) throw incomplete()
        chunkHash?.update(part)
        for (const check of checksums) check.checksum.update(part)
        if (remaining === 0) {
          state = "data-end"
          crlfSeen = 0
        }
        yield part
      } else if (state === "data-end") {
        const expected = crlfSeen === 0 ? 13 : 10
        if (input[at] !== expected) throw invalidChunk("chunk data must end with CRLF")
        at++
        if (++crlfSeen === 2) {
          finishChunk(false)
          state = "header"
        }
      } else {
        const newline = input.indexOf(10, at)
        const end = newline < 0 ? input.length : newline + 1
        const piece = input.subarray(at, end)
        at = end
        const bytes = carry === undefined ? piece : Buffer.concat([carry, piece])
        if (bytes.length > maxLine) throw invalidChunk("a header or trailer line is too long")
        if (newline < 0) {
          carry = bytes === piece ? Buffer.from(piece) : bytes
          continue
        }
        carry = undefined
        if (bytes.length < 2 || bytes[bytes.length - 2] !== 13) throw invalidChunk("lines must end with CRLF")
        const line = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length - 2).toString("latin1")
        if (state === "header") onHeader(line)
        else onTrailer(line)
      }
    }
    if (extra) break
  }
  if (extra) throw invalidChunk("data after the final chunk")
  if ((state as State) !== "done") throw incomplete()
  if (produced !== options.decodedLength) throw incomplete()

  const trailerSignature = trailers.find(([name]) => name === "x-amz-trailer-signature")?.[1]
  const fields = trailers.filter(([name]) => name !== "x-amz-trailer-signature")
  if (options.trailerName !== undefined) {
    const value = fields.find(([name]) => name === options.trailerName)?.[1]
    if (value === undefined) throw new S3Error("MalformedTrailerError", 400, `the ${options.trailerName} trailer was announced but not sent`)
    const check = checksums.find((c) => c.name === options.trailerName)
    if (check !== undefined) check.expected = value
    if (signed !== undefined) {
      const canonical = fields.map(([name, v]) => `${name}:${v}\n`).join("")
      const expected = chunkSignature(signed.key, signed.claim, previous, createHash("sha256").update(canonical).digest("hex"), "TRAILER")
      if (trailerSignature === undefined || !sameHex(expected, trailerSignature)) {
        throw new S3Error("SignatureDoesNotMatch", 403, "The request signature we calculated does not match the signature you provided for the trailer.")
      }
    }
  }
  await verifyChecksums(checksums)
}

const verifyChecksums = async (checksums: ReadonlyArray<ChecksumCheck>) => {
  for (const check of checksums) {
    if (check.expected === undefined) continue
    const actual = await check.checksum.digestBase64()
    if (actual !== check.expected) {
      throw check.name === "content-md5"
        ? badDigest("Content-MD5")
        : new S3Error("BadDigest", 400, `The ${check.name.slice("x-amz-checksum-".length).toUpperCase()} you specified did not match the calculated checksum.`)
    }
  }
}

async function* plain(
  source: AsyncIterable<Uint8Array>,
  length: number,
  sha256: string | undefined,
  checksums: ReadonlyArray<ChecksumCheck>
): AsyncGenerator<Uint8Array> {
  const hash = sha256 === undefined ? undefined : createHash("sha256")
  let produced = 0
  for await (const chunk of source) {
    produced += chunk.byteLength
    if (produced > length) throw incomplete()
    hash?.update(chunk)
    for (const check of checksums) check.checksum.update(chunk)
    yield chunk
  }
  if (produced !== length) throw incomplete()
  if (hash !== undefined && hash.digest("hex") !== sha256) {
    throw new S3Error("XAmzContentSHA256Mismatch", 400, "The provided 'x-amz-content-sha256' header does not match what was computed.")
  }
  await verifyChecksums(checksums)
}

/**
 * The payload of a PUT or UploadPart: decodes aws-chunked bodies and arranges every check the
 * request asks for. Throws an `S3Error` at once for inconsistent headers.
 */
export const payloadOf = (
  body: AsyncIterable<Uint8Array> | null,
  headers: Headers,
  verification: Verification | undefined
): Payload => {
  const payloadHash = verification?.claim.payloadHash ?? unsignedPayload
  const checks: Array<ChecksumCheck> = []
  const md5 = headers.get("content-md5")
  if (md5 !== null) {
    if (!/^[A-Za-z0-9+/]{22}==$/.test(md5)) throw new S3Error("InvalidDigest", 400, "The Content-MD5 you specified was invalid.")
    checks.push({ name: "content-md5", checksum: makeChecksum("md5"), expected: md5 })
  }
  const header = checksumHeader(headers)
  if (header !== undefined) checks.push({ name: `x-amz-checksum-${header.algorithm}`, checksum: makeChecksum(header.algorithm), expected: header.value })
  const source = body ?? (async function*() {})()
  const streaming = payloadHash === streamingSigned || payloadHash === streamingSignedTrailer || payloadHash === streamingUnsignedTrailer
  if (!streaming) {
    if (payloadHash !== unsignedPayload && !/^[0-9a-f]{64}$/.test(payloadHash)) {
      throw new S3Error("InvalidArgument", 400, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-… or a hex SHA-256")
    }
    const length = parseLength(headers.get("content-length"), "Content-Length")
    return { stream: plain(source, length, payloadHash === unsignedPayload ? undefined : payloadHash, checks), length }
  }
  const decodedLength = parseLength(headers.get("x-amz-decoded-content-length"), "x-amz-decoded-content-length")
  const trailerName = headers.get("x-amz-trailer")?.trim().toLowerCase() || undefined
  const withTrailer = payloadHash !== streamingSigned
  if (withTrailer !== (trailerName !== undefined)) {
    throw new S3Error("InvalidRequest", 400, "x-amz-trailer must be sent with (and only with) a STREAMING-…-TRAILER payload")
  }
  if (trailerName !== undefined) {
    const algorithm = trailerName.startsWith("x-amz-checksum-") ? trailerName.slice("x-amz-checksum-".length) : ""
    if (!isChecksumAlgorithm(algorithm)) throw new S3Error("InvalidRequest", 400, `unsupported trailer ${trailerName.slice(0, 64)}`)
    if (!checks.some((c) => c.name === trailerName)) checks.push({ name: trailerName, checksum: makeChecksum(algorithm), expected: undefined })
  }
  const signed = payloadHash === streamingUnsignedTrailer ? undefined : verification
  if (payloadHash !== streamingUnsignedTrailer && signed === undefined) {
    throw new S3Error("InvalidRequest", 400, "a signed streaming payload needs a signed request")
  }
  return { stream: decodeChunked(source, { decodedLength, signed, checksums: checks, trailerName }), length: decodedLength }
}

/**
 * Reads a small body (XML of DeleteObjects, CompleteMultipartUpload…) whole, up to `limit`
 * bytes, with the same checks as {@link payloadOf}. A request without any length header has an
 * empty body.
 */
export const readSmallBody = async (
  body: AsyncIterable<Uint8Array> | null,
  headers: Headers,
  verification: Verification | undefined,
  limit: number
): Promise<Buffer> => {
  const declared = headers.get("x-amz-decoded-content-length") ?? headers.get("content-length")
  if (declared === null) return Buffer.alloc(0)
  if (Number(declared) > limit) throw new S3Error("MaxMessageLengthExceeded", 400, "Your request was too big.")
  const payload = payloadOf(body, headers, verification)
  const chunks: Array<Uint8Array> = []
  for await (const chunk of payload.stream) chunks.push(chunk)
  return Buffer.concat(chunks)
}
