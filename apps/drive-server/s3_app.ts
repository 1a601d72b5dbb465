// The S3 REST surface of the Drive as a Web `Request → Response` handler and a Hono app:
// path-style (`/<bucket>/<key>`, under an optional base path) or virtual-host style
// (`<bucket>.<domain>/<key>`), SigV4-authenticated, STS on the service root.
import { unquoteEtag } from "@aquifer/blob"
import { resolveAccessKey } from "@aquifer/drive"
import type { Cause, Effect } from "effect"
import { Hono } from "hono"
import type { DriveRuntime, DriveServices, S3Context, S3Request } from "./context.ts"
import { runWith } from "./context.ts"
import type { Verification } from "./payload.ts"
import { accessDenied, notImplemented, S3Error } from "./s3_error.ts"
import {
  bucketLocation,
  bucketVersioning,
  headBucket,
  listAllBuckets,
  listObjectsV1,
  listObjectsV2,
  listObjectVersions,
  putBucket,
  removeBucket
} from "./s3_buckets.ts"
import { abortUpload, completeUpload, createUpload, listPartsOperation, listUploadsOperation, uploadPartOperation } from "./s3_multipart.ts"
import {
  copyObjectOperation,
  deleteObjectOperation,
  deleteObjectsOperation,
  getOrHeadObject,
  putObjectOperation
} from "./s3_objects.ts"
import { checkClaim, parseQuery, readClaim, verifySignature } from "./sigv4.ts"
import { handleSts } from "./sts.ts"
import { toXml } from "./xml.ts"

export interface S3Options {
  readonly runtime: DriveRuntime
  /** The region clients must sign for (default `us-east-1`). */
  readonly region?: string | undefined
  /** Where the S3 API is mounted (e.g. `/drive` in the all-in-one); default the root. */
  readonly basePath?: string | undefined
  /** With it, `<bucket>.<domain>` hosts address buckets (virtual-host style). */
  readonly virtualHostDomain?: string | undefined
  /** True when the BlobStore's ETags are content MD5s (S3); see `docs/drive.md`. */
  readonly etagsAreMd5?: boolean | undefined
  /** The clock for signature checks (tests). */
  readonly now?: (() => number) | undefined
  /** Where unexpected failures are reported (never sent to clients). */
  readonly onInternalError?: ((requestId: string, cause: Cause.Cause<unknown> | unknown) => void) | undefined
}

/** What a Node server adds to a request: the raw request line's target and the body as a Node stream. */
export interface RawRequest {
  readonly url?: string | undefined
  readonly body?: AsyncIterable<Uint8Array> | undefined
}

const subresources = {
  bucket: ["acl", "policy", "cors", "lifecycle", "tagging", "website", "logging", "notification", "replication", "encryption",
    "object-lock", "ownershipControls", "publicAccessBlock", "accelerate", "requestPayment", "analytics", "metrics",
    "inventory", "intelligent-tiering", "policyStatus"],
  object: ["acl", "tagging", "retention", "legal-hold", "attributes", "torrent", "restore", "select"]
} as const

const md5Like = /^[0-9a-f]{32}$/

const newRequestId = () => crypto.randomUUID().replaceAll("-", "").slice(0, 16).toUpperCase()

const decodePart = (text: string): string => {
  try {
    return decodeURIComponent(text)
  } catch {
    throw new S3Error("InvalidURI", 400, "Couldn't parse the specified URI.")
  }
}

const errorResponse = (error: S3Error, request: { method: string; resource: string; requestId: string; closeConnection: boolean }) => {
  const headers: Record<string, string> = { "content-type": "application/xml", "x-amz-request-id": request.requestId }
  if (request.closeConnection) headers.connection = "close"
  if (error.code === "RequestTimeTooSkewed" || error.code === "AccessDenied") headers.date = new Date().toUTCString()
  const body = request.method === "HEAD"
    ? null
    : toXml("Error", { Code: error.code, Message: error.message, ...error.extra, Resource: request.resource, RequestId: request.requestId }, null)
  return new Response(body, { status: error.status, headers })
}

/** The S3 handler: a Web request (plus what Node knows of it) in, a response out. */
export const makeS3Handler = (options: S3Options) => {
  const region = options.region ?? "us-east-1"
  const base = (options.basePath ?? "").replace(/\/+$/, "")
  const now = options.now ?? Date.now
  const etagsAreMd5 = options.etagsAreMd5 ?? false
  const presentEtag = (etag: string) => `"${!etagsAreMd5 && md5Like.test(etag) ? `${etag}-1` : etag}"`
  const acceptEtag = (value: string) => {
    const bare = unquoteEtag(value.trim())
    return !etagsAreMd5 && /^[0-9a-f]{32}-1$/.test(bare) ? bare.slice(0, -2) : bare
  }
  const report = options.onInternalError ?? ((requestId: string, cause: unknown) => {
    process.stderr.write(`drive: internal error in request ${requestId}: ${String(cause)}\n`)
  })

  return async (request: Request, raw: RawRequest = {}): Promise<Response> => {
    const requestId = newRequestId()
    const url = new URL(request.url)
    let target = raw.url ?? `${url.pathname}${url.search}`
    if (!target.startsWith("/")) target = target.replace(/^[a-z]+:\/\/[^/]*/i, "") || "/"
    const question = target.indexOf("?")
    const rawPath = question < 0 ? target : target.slice(0, question)
    const rawQuery = question < 0 ? "" : target.slice(question + 1)
    const method = request.method.toUpperCase()
    const headers = request.headers
    const host = headers.get("host") ?? url.host
    const hasBody = (headers.get("content-length") ?? "0") !== "0" || headers.has("transfer-encoding")
    let resource = rawPath
    try {
      if (base !== "" && rawPath !== base && !rawPath.startsWith(`${base}/`)) throw new S3Error("NoSuchBucket", 404, "The specified bucket does not exist")
      const rest = rawPath.slice(base.length) || "/"
      if (rest.split("/").some((segment) => {
        const decoded = decodePart(segment)
        return decoded === "." || decoded === ".."
      })) throw new S3Error("InvalidURI", 400, "Couldn't parse the specified URI.")

      let bucket: string | undefined
      let key: string | undefined
      const hostName = host.replace(/:\d+$/, "").toLowerCase()
      const domain = options.virtualHostDomain?.toLowerCase()
      if (domain !== undefined && hostName.endsWith(`.${domain}`)) {
        bucket = hostName.slice(0, -domain.length - 1)
        key = rest.length > 1 ? decodePart(rest.slice(1)) : undefined
      } else {
        const slash = rest.indexOf("/", 1)
        const first = slash < 0 ? rest.slice(1) : rest.slice(1, slash)
        bucket = first === "" ? undefined : decodePart(first)
        const remainder = slash < 0 ? "" : rest.slice(slash + 1)
        key = remainder === "" ? undefined : decodePart(remainder)
      }
      resource = `/${bucket ?? ""}${key === undefined ? "" : `/${key}`}`
      const query = parseQuery(rawQuery)
      const body: AsyncIterable<Uint8Array> | null = raw.body ?? request.body

      if (bucket === undefined && (method === "POST" || (method === "GET" && query.some(([name]) => name === "Action")))) {
        let params = new URLSearchParams(rawQuery)
        if (method === "POST") {
          const chunks: Array<Uint8Array> = []
          let size = 0
          for await (const chunk of body ?? []) {
            size += chunk.byteLength
            if (size > 64 * 1024) throw new S3Error("MaxMessageLengthExceeded", 400, "Your request was too big.")
            chunks.push(chunk)
          }
          params = new URLSearchParams(Buffer.concat(chunks).toString("utf8"))
        }
        return await handleSts(options.runtime, params, requestId, (cause) => report(requestId, cause))
      }

      const claim = readClaim(headers, query)
      if (claim === undefined) throw accessDenied()
      checkClaim(claim, headers, { region, now: now() })
      const run = <A, E extends { readonly _tag: string }>(effect: Effect.Effect<A, E, DriveServices>) =>
        runWith(options.runtime, effect, (cause) => report(requestId, cause))
      const resolved = await run(resolveAccessKey(claim.accessKeyId, claim.securityToken))
      const s3Request: S3Request = { method, rawPath, query, headers, host, body, bucket, key, requestId }
      const signingKey = verifySignature(claim, resolved.secretAccessKey, s3Request)
      const verification: Verification = { claim, key: signingKey }
      const has = (name: string) => query.some(([n]) => n === name)
      const ctx: S3Context = {
        request: s3Request,
        caller: { principal: resolved.principal },
        verification,
        region,
        param: (name) => query.find(([n]) => n === name)?.[1],
        has,
        run,
        presentEtag,
        acceptEtag,
        now
      }
      const response = await dispatch(ctx, method, bucket, key, has)
      response.headers.set("x-amz-request-id", requestId)
      return response
    } catch (error) {
      if (error instanceof S3Error) {
        return errorResponse(error, { method, resource, requestId, closeConnection: hasBody })
      }
      report(requestId, error)
      return errorResponse(new S3Error("InternalError", 500, "We encountered an internal error. Please try again."), {
        method,
        resource,
        requestId,
        closeConnection: hasBody
      })
    }
  }
}

const methodNotAllowed = () => new S3Error("MethodNotAllowed", 405, "The specified method is not allowed against this resource.")

const dispatch = (
  ctx: S3Context,
  method: string,
  bucket: string | undefined,
  key: string | undefined,
  has: (name: string) => boolean
): Promise<Response> => {
  if (bucket === undefined) {
    if (method === "GET") return listAllBuckets(ctx)
    throw methodNotAllowed()
  }
  if (key === undefined) {
    const sub = subresources.bucket.find(has)
    switch (method) {
      case "PUT":
        if (sub !== undefined || has("versioning")) throw notImplemented(sub ?? "versioning")
        return putBucket(ctx, bucket)
      case "HEAD":
        return headBucket(ctx, bucket)
      case "DELETE":
        if (sub !== undefined) throw notImplemented(sub)
        return removeBucket(ctx, bucket)
      case "GET":
        if (has("location")) return bucketLocation(ctx, bucket)
        if (has("versioning")) return bucketVersioning(ctx, bucket)
        if (has("uploads")) return listUploadsOperation(ctx, bucket)
        if (has("versions")) return listObjectVersions(ctx, bucket)
        if (sub !== undefined) throw notImplemented(sub)
        return ctx.param("list-type") === "2" ? listObjectsV2(ctx, bucket) : listObjectsV1(ctx, bucket)
      case "POST":
        if (has("delete")) return deleteObjectsOperation(ctx, bucket)
        throw notImplemented("POST object")
      default:
        throw methodNotAllowed()
    }
  }
  const sub = subresources.object.find(has)
  if (sub !== undefined) throw notImplemented(sub)
  switch (method) {
    case "PUT": {
      if (has("partNumber") || has("uploadId")) return uploadPartOperation(ctx, bucket, key)
      const source = ctx.request.headers.get("x-amz-copy-source")
      return source === null ? putObjectOperation(ctx, bucket, key) : copyObjectOperation(ctx, bucket, key, source)
    }
    case "GET":
      return has("uploadId") ? listPartsOperation(ctx, bucket, key) : getOrHeadObject(ctx, bucket, key, false)
    case "HEAD":
      return getOrHeadObject(ctx, bucket, key, true)
    case "DELETE":
      return has("uploadId") ? abortUpload(ctx, bucket, key) : deleteObjectOperation(ctx, bucket, key)
    case "POST":
      if (has("uploads")) return createUpload(ctx, bucket, key)
      if (has("uploadId")) return completeUpload(ctx, bucket, key)
      throw notImplemented("POST object")
    default:
      throw methodNotAllowed()
  }
}

/** Node's incoming request, when the app runs on `@hono/node-server`. */
type NodeBindings = { incoming?: { url?: string } & AsyncIterable<Uint8Array> }

/** The raw parts of a request served by `@hono/node-server`, for exact signature checks. */
export const rawOf = (env: unknown): RawRequest => {
  const incoming = (env as NodeBindings | undefined)?.incoming
  return incoming === undefined ? {} : { url: incoming.url, body: incoming }
}

/** The S3 surface as a Hono app (mount it under `basePath`). */
export const makeS3App = (options: S3Options): Hono => {
  const handle = makeS3Handler(options)
  const app = new Hono()
  app.all("*", (c) => handle(c.req.raw, rawOf(c.env)))
  return app
}
