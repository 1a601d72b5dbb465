// AWS Signature Version 4 as S3 verifies it: in the Authorization header or in a presigned
// query string, with the clock-skew, expiry and scope checks, and the chunk and trailer
// signatures of streaming (aws-chunked) uploads.
import { createHash, createHmac, timingSafeEqual } from "node:crypto"
import { accessDenied, invalidArgument, invalidRequest, S3Error, signatureMismatch } from "./s3_error.ts"

export const algorithm = "AWS4-HMAC-SHA256"
/** How far a request's time may be from the server's, either way (S3's 15 minutes). */
export const maxSkewMillis = 15 * 60 * 1000
/** The longest validity of a presigned URL (S3's one week). */
export const maxPresignSeconds = 604_800
export const emptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

export const unsignedPayload = "UNSIGNED-PAYLOAD"
export const streamingSigned = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
export const streamingSignedTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
export const streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

/** What a request's signature claims, before it is verified. */
export interface SignatureClaim {
  readonly kind: "header" | "query"
  readonly accessKeyId: string
  /** `YYYYMMDD` of the credential scope. */
  readonly scopeDate: string
  readonly region: string
  readonly service: string
  readonly signedHeaders: ReadonlyArray<string>
  readonly signature: string
  /** `YYYYMMDDTHHMMSSZ` */
  readonly amzDate: string
  readonly requestTime: number
  readonly expiresSeconds?: number | undefined
  readonly securityToken?: string | undefined
  /** `x-amz-content-sha256` (or `UNSIGNED-PAYLOAD` for a presigned URL without one). */
  readonly payloadHash: string
}

export const sha256Hex = (data: string | Uint8Array): string => createHash("sha256").update(data).digest("hex")
const hmac = (key: Uint8Array | string, data: string): Buffer => createHmac("sha256", key).update(data).digest()

const signingKeys = new Map<string, Buffer>()
/** The derived signing key of a secret for a day, region and service (cached: it changes daily). */
export const signingKey = (secret: string, date: string, region: string, service: string): Buffer => {
  const id = `${date}/${region}/${service}/${secret}`
  const cached = signingKeys.get(id)
  if (cached !== undefined) return cached
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request")
  if (signingKeys.size > 1000) signingKeys.clear()
  signingKeys.set(id, key)
  return key
}

/** RFC 3986 encoding as SigV4 wants it: everything but `A-Za-z0-9-_.~` (and `/` when asked). */
export const uriEncode = (text: string, keepSlash = false): string => {
  let out = ""
  for (const byte of Buffer.from(text, "utf8")) {
    const c = String.fromCharCode(byte)
    if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === "/")) out += c
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`
  }
  return out
}

const decode = (text: string): string => {
  try {
    return decodeURIComponent(text)
  } catch {
    throw invalidArgument("the request URI is not correctly percent-encoded")
  }
}

/** Splits a raw query string into decoded pairs, in order. */
export const parseQuery = (rawQuery: string): Array<[string, string]> =>
  rawQuery === ""
    ? []
    : rawQuery.split("&").filter((part) => part !== "").map((part) => {
      const eq = part.indexOf("=")
      return eq < 0 ? [decode(part), ""] : [decode(part.slice(0, eq)), decode(part.slice(eq + 1))]
    })

const canonicalQuery = (pairs: ReadonlyArray<[string, string]>, kind: "header" | "query"): string =>
  pairs
    .filter(([key]) => !(kind === "query" && key === "X-Amz-Signature"))
    .map(([key, value]) => [uriEncode(key), uriEncode(value)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join("&")

/** The canonical URI of a raw path: each segment decoded once and encoded the SigV4 way. */
export const canonicalUri = (rawPath: string): string =>
  rawPath.split("/").map((segment) => uriEncode(decode(segment))).join("/") || "/"

const canonicalHeaderValue = (value: string): string => value.trim().replace(/\s+/g, " ")

const parseAmzDate = (text: string): number | undefined => {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text)
  if (match === null) return undefined
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number]
  const time = Date.UTC(y, mo - 1, d, h, mi, s)
  return Number.isNaN(time) ? undefined : time
}

const toAmzDate = (time: number): string => new Date(time).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "")

const malformedHeader = (message: string) => new S3Error("AuthorizationHeaderMalformed", 400, message)
const malformedQuery = (message: string) => new S3Error("AuthorizationQueryParametersError", 400, message)

const parseCredential = (credential: string, malformed: (m: string) => S3Error) => {
  const parts = credential.split("/")
  if (parts.length !== 5 || parts[4] !== "aws4_request" || !/^\d{8}$/.test(parts[1]!) || parts[0] === "") {
    throw malformed(`the Credential "${credential.slice(0, 200)}" is malformed; expected "<key>/<YYYYMMDD>/<region>/<service>/aws4_request"`)
  }
  return { accessKeyId: parts[0]!, scopeDate: parts[1]!, region: parts[2]!, service: parts[3]! }
}

/**
 * Reads the signature claimed by a request, or `undefined` for an anonymous one. Throws an
 * `S3Error` for a malformed or unsupported signature.
 */
export const readClaim = (headers: Headers, query: ReadonlyArray<[string, string]>): SignatureClaim | undefined => {
  const authorization = headers.get("authorization")
  const queryValue = (name: string) => query.find(([key]) => key === name)?.[1]
  const queryAlgorithm = queryValue("X-Amz-Algorithm")
  if (authorization !== null && queryAlgorithm !== undefined) {
    throw invalidArgument("only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified")
  }
  if (authorization !== null) {
    if (authorization.startsWith("AWS ")) throw invalidRequest("Signature Version 2 is not supported; use AWS Signature Version 4")
    if (!authorization.startsWith(`${algorithm} `)) {
      throw malformedHeader(`unsupported authorization type; only ${algorithm} is supported`)
    }
    const fields = new Map<string, string>()
    for (const part of authorization.slice(algorithm.length + 1).split(",")) {
      const eq = part.indexOf("=")
      if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
    }
    const credential = fields.get("Credential")
    const signedHeaders = fields.get("SignedHeaders")
    const signature = fields.get("Signature")
    if (credential === undefined || signedHeaders === undefined || signature === undefined) {
      throw malformedHeader("the authorization header is malformed; it needs Credential, SignedHeaders and Signature")
    }
    if (!/^[0-9a-f]{64}$/.test(signature)) throw malformedHeader("the Signature is not 64 lower-case hex digits")
    const scope = parseCredential(credential, malformedHeader)
    const amzDate = headers.get("x-amz-date")
    let requestTime: number | undefined
    let dateText: string
    if (amzDate !== null) {
      requestTime = parseAmzDate(amzDate)
      dateText = amzDate
    } else {
      const date = headers.get("date")
      requestTime = date === null ? undefined : Date.parse(date)
      dateText = requestTime === undefined || Number.isNaN(requestTime) ? "" : toAmzDate(requestTime)
    }
    if (requestTime === undefined || Number.isNaN(requestTime)) {
      throw accessDenied("AWS authentication requires a valid Date or x-amz-date header")
    }
    const payloadHash = headers.get("x-amz-content-sha256")
    if (payloadHash === null) throw invalidRequest("Missing required header for this request: x-amz-content-sha256")
    return {
      kind: "header",
      ...scope,
      signedHeaders: signedHeaders.split(";"),
      signature,
      amzDate: dateText,
      requestTime,
      securityToken: headers.get("x-amz-security-token") ?? undefined,
      payloadHash
    }
  }
  if (queryAlgorithm === undefined) return undefined
  if (queryAlgorithm !== algorithm) throw malformedQuery(`X-Amz-Algorithm only supports "${algorithm}"`)
  const credential = queryValue("X-Amz-Credential")
  const amzDate = queryValue("X-Amz-Date")
  const expires = queryValue("X-Amz-Expires")
  const signedHeaders = queryValue("X-Amz-SignedHeaders")
  const signature = queryValue("X-Amz-Signature")
  if (credential === undefined || amzDate === undefined || signedHeaders === undefined || signature === undefined || expires === undefined) {
    throw malformedQuery(
      "query-string authentication requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders and X-Amz-Expires parameters"
    )
  }
  const requestTime = parseAmzDate(amzDate)
  if (requestTime === undefined) throw malformedQuery("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
  if (!/^\d{1,7}$/.test(expires)) throw malformedQuery("X-Amz-Expires should be a number")
  const expiresSeconds = Number(expires)
  if (expiresSeconds < 1) throw malformedQuery("X-Amz-Expires must be non-negative")
  if (expiresSeconds > maxPresignSeconds) throw malformedQuery("X-Amz-Expires must be less than a week (in seconds) that is 604800")
  if (!/^[0-9a-f]{64}$/.test(signature)) throw malformedQuery("X-Amz-Signature is not 64 lower-case hex digits")
  return {
    kind: "query",
    ...parseCredential(credential, malformedQuery),
    signedHeaders: signedHeaders.split(";"),
    signature,
    amzDate,
    requestTime,
    expiresSeconds,
    securityToken: queryValue("X-Amz-Security-Token"),
    payloadHash: headers.get("x-amz-content-sha256") ?? unsignedPayload
  }
}

/**
 * Checks what can be checked before the secret is known: the scope's region, service and
 * date, the clock skew (or the presigned URL's validity window), and that every `x-amz-*`
 * header sent was signed. Throws an `S3Error`.
 */
export const checkClaim = (claim: SignatureClaim, headers: Headers, options: { readonly region: string; readonly now: number }): void => {
  const malformed = claim.kind === "header" ? malformedHeader : malformedQuery
  if (claim.region !== options.region) {
    throw malformed(`the authorization header is malformed; the region '${claim.region.slice(0, 64)}' is wrong; expecting '${options.region}'`)
  }
  if (claim.service !== "s3") {
    throw malformed(`the authorization header is malformed; the service '${claim.service.slice(0, 64)}' is wrong; expecting 's3'`)
  }
  if (claim.scopeDate !== claim.amzDate.slice(0, 8)) {
    throw malformed(`the credential scope date ${claim.scopeDate} does not match the request date ${claim.amzDate.slice(0, 8)}`)
  }
  if (claim.kind === "header") {
    if (Math.abs(options.now - claim.requestTime) > maxSkewMillis) {
      throw new S3Error("RequestTimeTooSkewed", 403, "The difference between the request time and the current time is too large.", {
        RequestTime: claim.amzDate,
        ServerTime: new Date(options.now).toISOString(),
        MaxAllowedSkewMilliseconds: maxSkewMillis
      })
    }
  } else {
    if (claim.requestTime - options.now > maxSkewMillis) throw accessDenied("Request is not valid yet")
    if (options.now > claim.requestTime + claim.expiresSeconds! * 1000) {
      throw new S3Error("AccessDenied", 403, "Request has expired", {
        Expires: new Date(claim.requestTime + claim.expiresSeconds! * 1000).toISOString(),
        ServerTime: new Date(options.now).toISOString()
      })
    }
  }
  const signed = new Set(claim.signedHeaders)
  if (!signed.has("host")) throw malformed("the host header must be signed")
  const unsigned: Array<string> = []
  headers.forEach((_, name) => {
    if (name.startsWith("x-amz-") && !signed.has(name) && !(claim.kind === "query" && name === "x-amz-content-sha256")) {
      unsigned.push(name)
    }
  })
  if (unsigned.length > 0) {
    throw new S3Error("AccessDenied", 403, "There were headers present in the request which were not signed", {
      HeadersNotSigned: unsigned.sort().join(", ")
    })
  }
}

/** The canonical request and string to sign, as the client must have computed them. */
export const stringToSign = (
  claim: SignatureClaim,
  request: { readonly method: string; readonly rawPath: string; readonly query: ReadonlyArray<[string, string]>; readonly headers: Headers; readonly host: string },
  uri: string
): { readonly canonicalRequest: string; readonly stringToSign: string } => {
  const headerLines = claim.signedHeaders.map((name) => {
    const value = name === "host" ? (request.headers.get("host") ?? request.host) : (request.headers.get(name) ?? "")
    return `${name}:${canonicalHeaderValue(value)}\n`
  })
  const canonicalRequest = [
    request.method,
    uri,
    canonicalQuery(request.query, claim.kind),
    headerLines.join(""),
    claim.signedHeaders.join(";"),
    claim.payloadHash
  ].join("\n")
  const scope = `${claim.scopeDate}/${claim.region}/${claim.service}/aws4_request`
  return { canonicalRequest, stringToSign: `${algorithm}\n${claim.amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}` }
}

const sameHex = (a: string, b: string): boolean =>
  a.length === b.length && timingSafeEqual(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"))

/**
 * Verifies the signature with the secret. The canonical URI is tried as the client most likely
 * computed it (each segment decoded and re-encoded) and, failing that, exactly as sent. Throws
 * `SignatureDoesNotMatch` with the string to sign, so clients can compare.
 */
export const verifySignature = (
  claim: SignatureClaim,
  secret: string,
  request: { readonly method: string; readonly rawPath: string; readonly query: ReadonlyArray<[string, string]>; readonly headers: Headers; readonly host: string }
): Buffer => {
  const key = signingKey(secret, claim.scopeDate, claim.region, claim.service)
  const candidates = [canonicalUri(request.rawPath), request.rawPath]
  let first: { canonicalRequest: string; stringToSign: string } | undefined
  for (const uri of candidates) {
    const computed = stringToSign(claim, request, uri)
    first ??= computed
    if (sameHex(hmac(key, computed.stringToSign).toString("hex"), claim.signature)) return key
  }
  throw signatureMismatch({
    AWSAccessKeyId: claim.accessKeyId,
    StringToSign: first!.stringToSign,
    CanonicalRequest: first!.canonicalRequest
  })
}

/** Verifies the signature of one aws-chunked chunk (or the trailer) and returns it as the next seed. */
export const chunkSignature = (
  key: Buffer,
  claim: SignatureClaim,
  previous: string,
  hash: string,
  kind: "PAYLOAD" | "TRAILER"
): string => {
  const scope = `${claim.scopeDate}/${claim.region}/${claim.service}/aws4_request`
  const text = kind === "PAYLOAD"
    ? `${algorithm}-PAYLOAD\n${claim.amzDate}\n${scope}\n${previous}\n${emptySha256}\n${hash}`
    : `${algorithm}-TRAILER\n${claim.amzDate}\n${scope}\n${previous}\n${hash}`
  return hmac(key, text).toString("hex")
}

export { sameHex }
