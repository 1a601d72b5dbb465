// Tests only: hand-built S3 requests, signed by the SDK's own SigV4 signer (@smithy/signature-v4)
// and sent with node:http exactly as written (paths are not normalised), so hostile requests
// can be crafted: odd paths, tampered headers, skewed clocks, aws-chunked bodies.
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto"
import { request as httpRequest } from "node:http"
import { SignatureV4 } from "@smithy/signature-v4"
import type { Credentials } from "./_test_support.ts"

class NodeSha256 {
  private hash: Hash | Hmac
  private readonly secret: Uint8Array | string | undefined
  constructor(secret?: Uint8Array | string) {
    this.secret = secret
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", secret as string)
  }
  update(data: Uint8Array | string) {
    this.hash.update(typeof data === "string" ? Buffer.from(data, "utf8") : data)
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest())
  }
  reset() {
    this.hash = this.secret === undefined ? createHash("sha256") : createHmac("sha256", this.secret as string)
  }
}

export interface RawResponse {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
  /** The S3 error code of an XML error body, if any. */
  readonly code: string | undefined
}

export interface RawRequestSpec {
  readonly method: string
  /** The path exactly as sent (already percent-encoded where wanted). */
  readonly path: string
  readonly query?: Record<string, string>
  readonly headers?: Record<string, string>
  readonly body?: Uint8Array | string
  /** The payload hash to sign (default: the SHA-256 of `body`). */
  readonly payloadHash?: string
  readonly signingDate?: Date
  readonly region?: string
  readonly service?: string
  /** Changes the request after it was signed. */
  readonly tamper?: (request: { path: string; headers: Record<string, string>; body?: Uint8Array | string | undefined }) => void
  /** Send without any signature. */
  readonly anonymous?: boolean
  /** Builds the body once the seed signature is known (signed aws-chunked uploads). */
  readonly bodyFromSeed?: (seed: string, signingDate: Date) => Promise<Uint8Array>
}

export const signerFor = (credentials: Credentials, region = "us-east-1", service = "s3") =>
  new SignatureV4({
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken },
    region,
    service,
    sha256: NodeSha256 as never,
    uriEscapePath: false,
    applyChecksum: false
  })

const queryString = (query: Record<string, string>) =>
  Object.entries(query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")

export const send = (
  url: string,
  spec: { method: string; path: string; headers: Record<string, string>; body?: Uint8Array | string | undefined }
): Promise<RawResponse> =>
  new Promise((resolve, reject) => {
    const target = new URL(url)
    const req = httpRequest({ host: target.hostname, port: target.port, method: spec.method, path: spec.path, headers: spec.headers }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (chunk: Buffer) => chunks.push(chunk))
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8")
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, code: /<Code>([^<]+)<\/Code>/.exec(body)?.[1] })
      })
      res.on("error", reject)
    })
    req.on("error", reject)
    if (spec.body !== undefined) req.write(spec.body)
    req.end()
  })

/** Signs (unless anonymous) and sends one request to the Drive at `url`. */
export const rawRequest = async (url: string, credentials: Credentials, spec: RawRequestSpec): Promise<RawResponse> => {
  const target = new URL(url)
  const body = spec.body ?? ""
  const headers: Record<string, string> = {
    host: target.host,
    "x-amz-content-sha256": spec.payloadHash ?? createHash("sha256").update(body).digest("hex"),
    ...spec.headers
  }
  if (body !== "" || spec.method === "PUT" || spec.method === "POST") headers["content-length"] ??= String(Buffer.byteLength(body))
  let path = spec.path
  let finalHeaders = headers
  const signingDate = spec.signingDate ?? new Date()
  if (spec.anonymous !== true) {
    const signed = await signerFor(credentials, spec.region, spec.service).sign(
      { method: spec.method, protocol: "http:", hostname: target.hostname, port: Number(target.port), path: spec.path, query: spec.query ?? {}, headers, body },
      { signingDate }
    )
    finalHeaders = signed.headers as Record<string, string>
  }
  if (spec.query !== undefined && Object.keys(spec.query).length > 0) path = `${path}?${queryString(spec.query)}`
  let sentBody: Uint8Array | string | undefined = spec.body
  if (spec.bodyFromSeed !== undefined) {
    const seed = /Signature=([0-9a-f]{64})/.exec(finalHeaders.authorization ?? "")?.[1] ?? ""
    sentBody = await spec.bodyFromSeed(seed, signingDate)
  }
  const outgoing = { path, headers: { ...finalHeaders }, body: sentBody }
  spec.tamper?.(outgoing)
  return send(url, { method: spec.method, path: outgoing.path, headers: outgoing.headers, body: outgoing.body })
}

/** A presigned URL made by the SDK's signer (any expiry, any signing date). */
export const presign = async (
  url: string,
  credentials: Credentials,
  spec: { method: string; path: string; expiresIn: number; signingDate?: Date }
): Promise<string> => {
  const target = new URL(url)
  const signer = signerFor(credentials)
  const presigned = await signer.presign(
    { method: spec.method, protocol: "http:", hostname: target.hostname, port: Number(target.port), path: spec.path, query: {}, headers: { host: target.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } },
    { expiresIn: spec.expiresIn, signingDate: spec.signingDate ?? new Date() }
  )
  return `${url}${spec.path}?${queryString(presigned.query as Record<string, string>)}`
}

/** aws-chunked framing of `data`, unsigned, with a trailer line per entry. */
export const chunkedUnsigned = (data: Uint8Array, chunkSize: number, trailers: Array<[string, string]>): Buffer => {
  const parts: Array<Buffer> = []
  for (let offset = 0; offset < data.length; offset += chunkSize) {
    const chunk = data.subarray(offset, Math.min(offset + chunkSize, data.length))
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), Buffer.from(chunk), Buffer.from("\r\n"))
  }
  parts.push(Buffer.from(`0\r\n${trailers.map(([n, v]) => `${n}:${v}\r\n`).join("")}\r\n`))
  return Buffer.concat(parts)
}

const amzDate = (date: Date) => date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "")
const sha256Hex = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex")
const emptyHash = sha256Hex("")

/**
 * A signed aws-chunked body (STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or -TRAILER when `trailer` is
 * given), each chunk signature computed by the SDK's signer over the string AWS specifies.
 * `corrupt` alters the data of chunk `index` after it was signed.
 */
export const chunkedSigned = async (
  credentials: Credentials,
  seed: string,
  signingDate: Date,
  data: Uint8Array,
  chunkSize: number,
  options: { trailer?: [string, string]; corrupt?: number } = {}
): Promise<Buffer> => {
  const signer = signerFor(credentials)
  const scope = `${amzDate(signingDate).slice(0, 8)}/us-east-1/s3/aws4_request`
  const parts: Array<Buffer> = []
  let previous = seed
  const chunks: Array<Uint8Array> = []
  for (let offset = 0; offset < data.length; offset += chunkSize) chunks.push(data.subarray(offset, Math.min(offset + chunkSize, data.length)))
  chunks.push(new Uint8Array(0))
  for (const [index, chunk] of chunks.entries()) {
    const text = `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate(signingDate)}\n${scope}\n${previous}\n${emptyHash}\n${sha256Hex(chunk)}`
    previous = await signer.sign(text, { signingDate })
    const sent = options.corrupt === index ? Buffer.from(chunk).fill(0x21) : Buffer.from(chunk)
    parts.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`), sent, Buffer.from(chunk.length === 0 ? "" : "\r\n"))
  }
  if (options.trailer !== undefined) {
    const [name, value] = options.trailer
    const text = `AWS4-HMAC-SHA256-TRAILER\n${amzDate(signingDate)}\n${scope}\n${previous}\n${sha256Hex(`${name}:${value}\n`)}`
    const signature = await signer.sign(text, { signingDate })
    parts.push(Buffer.from(`${name}:${value}\r\nx-amz-trailer-signature:${signature}\r\n`))
  }
  parts.push(Buffer.from("\r\n"))
  return Buffer.concat(parts)
}

/** The encoded length of {@link chunkedSigned}'s output. */
export const chunkedSignedLength = (size: number, chunkSize: number, trailer?: [string, string]): number => {
  let length = 0
  for (let offset = 0; offset < size; offset += chunkSize) {
    const n = Math.min(chunkSize, size - offset)
    length += n.toString(16).length + ";chunk-signature=".length + 64 + 2 + n + 2
  }
  length += 1 + ";chunk-signature=".length + 64 + 2
  if (trailer !== undefined) length += `${trailer[0]}:${trailer[1]}\r\n`.length + "x-amz-trailer-signature:".length + 64 + 2
  return length + 2
}
