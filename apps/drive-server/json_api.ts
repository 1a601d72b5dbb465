// The web UI's JSON API over the same use cases as the S3 surface: buckets (list, create,
// delete, share, quota), objects (list, upload, download, delete), access keys, and revoking the
// caller's temporary credentials. Errors are RFC 9457 problems from one table.
import {
  coreProblems,
  type Problem,
  problemContentType,
  problemFromError,
  type ProblemMapping
} from "@aquifer/core"
import {
  type Bucket,
  canOnBucket,
  createAccessKey,
  createBucket,
  deleteBucket,
  deleteObject,
  getObject,
  listAccessKeys,
  listBuckets,
  listObjects,
  Member,
  putObject,
  Quota,
  revokeAccessKey,
  revokeTemporaryCredentials,
  setMembers,
  temporaryCredentialsNotBefore,
  setQuota,
  WebIdentityVerifier
} from "@aquifer/drive"
import type { Caller } from "@aquifer/identity"
import { Cause, Effect, Exit, Schema } from "effect"
import { Hono } from "hono"
import type { Context } from "hono"
import type { DriveRuntime, DriveServices } from "./context.ts"
import { rawOf } from "./s3_app.ts"
import { parseRange } from "./s3_objects.ts"
import { S3Error } from "./s3_error.ts"

export interface JsonApiOptions {
  readonly runtime: DriveRuntime
  /**
   * Who is calling: the platform's session or bearer resolution (`c.var.auth` in the
   * all-in-one). Default: an OIDC bearer access token, verified like STS verifies it.
   */
  readonly callerOf?: ((c: Context) => Promise<Caller | undefined> | Caller | undefined) | undefined
}

/** The JSON API's error table (RFC 9457 types `urn:aquifer:problem:<slug>`). */
export const driveProblems: { readonly [tag: string]: ProblemMapping } = {
  ...coreProblems,
  NoSuchBucket: { slug: "drive-no-such-bucket", title: "No such bucket", status: 404 },
  NoSuchKey: { slug: "drive-no-such-key", title: "No such object", status: 404 },
  NoSuchUpload: { slug: "drive-no-such-upload", title: "No such upload", status: 404 },
  BucketAlreadyExists: { slug: "drive-bucket-exists", title: "Bucket name taken", status: 409 },
  BucketNotEmpty: { slug: "drive-bucket-not-empty", title: "Bucket not empty", status: 409 },
  InvalidBucketName: { slug: "drive-invalid-bucket-name", title: "Invalid bucket name", status: 400 },
  InvalidObjectKey: { slug: "drive-invalid-key", title: "Invalid object key", status: 400 },
  QuotaExceeded: { slug: "drive-quota-exceeded", title: "Quota exceeded", status: 403 },
  InvalidRange: { slug: "drive-invalid-range", title: "Range not satisfiable", status: 416 },
  InvalidArgument: { slug: "invalid-input", title: "Invalid input", status: 400 },
  InvalidKey: { slug: "drive-invalid-key", title: "Invalid object key", status: 400 },
  PreconditionFailed: { slug: "drive-precondition-failed", title: "Precondition failed", status: 412 },
  BlobAlreadyExists: { slug: "drive-precondition-failed", title: "Precondition failed", status: 412 },
  BlobStoreUnavailable: { slug: "unavailable", title: "Service unavailable", status: 503 },
  LengthRequired: { slug: "drive-length-required", title: "Content-Length required", status: 411 }
}

const problem = (p: Problem): Response =>
  new Response(JSON.stringify(p), { status: p.status, headers: { "content-type": problemContentType, "cache-control": "no-store" } })

const problemOf = (error: { readonly _tag: string; readonly message?: string; readonly field?: string | undefined }) =>
  problem(problemFromError(error, driveProblems))

const bucketJson = (caller: Caller, bucket: Bucket) => ({
  name: bucket.name,
  owner: bucket.owner,
  home: bucket.home,
  createdAt: bucket.createdAt.toISOString(),
  members: bucket.members,
  quota: bucket.quota,
  usage: bucket.usage,
  access: canOnBucket(caller, bucket, "manage") ? "owner" : canOnBucket(caller, bucket, "write") ? "read-write" : "read"
})

const CreateBucketBody = Schema.Struct({ name: Schema.String })
const MembersBody = Schema.Struct({ members: Schema.Array(Member) })
const QuotaBody = Schema.Struct({
  maxBytes: Schema.optional(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
  maxObjects: Schema.optional(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)))
})
const AccessKeyBody = Schema.Struct({ description: Schema.optional(Schema.String) })

class BadBody extends Error {}

const bodyOf = async <S extends Schema.Top>(c: Context, schema: S): Promise<S["Type"]> => {
  let json: unknown
  try {
    json = await c.req.json()
  } catch {
    throw new BadBody("the body is not JSON")
  }
  const decoded = Schema.decodeUnknownExit(schema as never)(json)
  if (Exit.isFailure(decoded)) throw new BadBody(`the body does not match: ${Cause.pretty(decoded.cause).split("\n")[0]}`)
  return decoded.value as S["Type"]
}

export const makeJsonApi = (options: JsonApiOptions): Hono => {
  const { runtime } = options
  const callerOf = options.callerOf ?? (async (c: Context) => {
    const header = c.req.header("authorization") ?? null
    if (header === null || !header.startsWith("Bearer ")) return undefined
    const exit = await runtime.runPromiseExit(Effect.gen(function*() {
      const verifier = yield* WebIdentityVerifier
      return yield* verifier.verify(header.slice(7).trim())
    }))
    return Exit.isSuccess(exit) ? { principal: exit.value } : undefined
  })

  const handle = (work: (caller: Caller, c: Context) => Promise<Response>) => async (c: Context) => {
    const caller = await callerOf(c)
    if (caller === undefined) return problemOf({ _tag: "Unauthenticated", message: "sign in, or send an OIDC access token as a bearer token" })
    try {
      return await work(caller, c)
    } catch (error) {
      if (error instanceof BadBody) return problemOf({ _tag: "InvalidInput", message: error.message })
      if (error instanceof S3Error) return problemOf({ _tag: error.status === 416 ? "InvalidRange" : "InvalidInput", message: error.message })
      if (typeof error === "object" && error !== null && "_tag" in error) return problemOf(error as { _tag: string })
      process.stderr.write(`drive api: unexpected failure: ${String(error)}\n`)
      return problem(problemFromError({ _tag: "Internal" }, driveProblems))
    }
  }

  const run = async <A, E extends { readonly _tag: string }>(effect: Effect.Effect<A, E, DriveServices>): Promise<A> => {
    const exit = await runtime.runPromiseExit(effect)
    if (Exit.isSuccess(exit)) return exit.value
    const failure = exit.cause.reasons.find(Cause.isFailReason)
    if (failure !== undefined) throw failure.error
    throw new Error(Cause.pretty(exit.cause))
  }

  const objectKey = (c: Context) => {
    const bucket = c.req.param("bucket")!
    const marker = `/buckets/${encodeURIComponent(bucket)}/objects/`
    const path = new URL(c.req.url).pathname
    const at = path.indexOf(marker)
    return decodeURIComponent(at < 0 ? "" : path.slice(at + marker.length))
  }

  const app = new Hono()
  app.get("/buckets", handle(async (caller) => {
    const buckets = await run(listBuckets(caller))
    return Response.json({ items: buckets.map((b) => bucketJson(caller, b)) })
  }))
  app.post("/buckets", handle(async (caller, c) => {
    const body = await bodyOf(c, CreateBucketBody)
    const bucket = await run(createBucket(caller, body.name))
    return Response.json(bucketJson(caller, bucket), { status: 201 })
  }))
  app.delete("/buckets/:bucket", handle(async (caller, c) => {
    await run(deleteBucket(caller, c.req.param("bucket")!))
    return new Response(null, { status: 204 })
  }))
  app.put("/buckets/:bucket/members", handle(async (caller, c) => {
    const body = await bodyOf(c, MembersBody)
    const bucket = await run(setMembers(caller, c.req.param("bucket")!, body.members))
    return Response.json(bucketJson(caller, bucket))
  }))
  app.put("/buckets/:bucket/quota", handle(async (caller, c) => {
    const body = await bodyOf(c, QuotaBody)
    const bucket = await run(setQuota(caller, c.req.param("bucket")!, new Quota(body)))
    return Response.json(bucketJson(caller, bucket))
  }))
  app.get("/buckets/:bucket/objects", handle(async (caller, c) => {
    const limitText = c.req.query("limit")
    const limit = limitText === undefined ? 1000 : Number(limitText)
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return problemOf({ _tag: "InvalidInput", message: "limit is 1 to 1000", field: "limit" })
    const page = await run(listObjects(caller, {
      bucket: c.req.param("bucket")!,
      prefix: c.req.query("prefix"),
      delimiter: c.req.query("delimiter") ?? "/",
      continuationToken: c.req.query("cursor"),
      limit
    }))
    return Response.json({
      items: page.items.map((item) => ({ key: item.key, size: item.size, etag: item.etag, lastModified: item.lastModified.toISOString() })),
      prefixes: page.prefixes,
      next: page.continuationToken
    })
  }))
  app.put("/buckets/:bucket/objects/*", handle(async (caller, c) => {
    const lengthText = c.req.header("content-length")
    if (lengthText === undefined || !/^\d{1,16}$/.test(lengthText)) return problemOf({ _tag: "LengthRequired", message: "send the upload with a Content-Length" })
    const body = rawOf(c.env).body ?? c.req.raw.body ?? (async function*() {})()
    const written = await run(putObject(caller, {
      bucket: c.req.param("bucket")!,
      key: objectKey(c),
      body,
      contentLength: Number(lengthText),
      contentType: c.req.header("content-type")
    }))
    return Response.json({ etag: written.etag, size: written.size }, { status: 201 })
  }))
  app.get("/buckets/:bucket/objects/*", handle(async (caller, c) => {
    const range = parseRange(c.req.header("range"))
    const result = await run(getObject(caller, { bucket: c.req.param("bucket")!, key: objectKey(c), range }))
    if (result._tag === "NotModified") return new Response(null, { status: 304 })
    const name = result.info.key.split("/").pop() ?? "download"
    const headers: Record<string, string> = {
      "content-type": result.info.contentType,
      "content-length": String(result.length),
      etag: `"${result.info.etag}"`,
      "last-modified": result.info.lastModified.toUTCString(),
      "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
      "x-content-type-options": "nosniff"
    }
    if (range !== undefined) headers["content-range"] = `bytes ${result.offset}-${result.offset + result.length - 1}/${result.info.size}`
    return new Response(result.body, { status: range === undefined ? 200 : 206, headers })
  }))
  app.delete("/buckets/:bucket/objects/*", handle(async (caller, c) => {
    await run(deleteObject(caller, { bucket: c.req.param("bucket")!, key: objectKey(c) }))
    return new Response(null, { status: 204 })
  }))
  app.get("/access-keys", handle(async (caller) => {
    const keys = await run(listAccessKeys(caller))
    return Response.json({ items: keys.map((k) => ({ id: k.id, description: k.description, createdAt: k.createdAt.toISOString() })) })
  }))
  app.post("/access-keys", handle(async (caller, c) => {
    const body = await bodyOf(c, AccessKeyBody)
    const created = await run(createAccessKey(caller, body.description ?? ""))
    return Response.json(
      { id: created.id, secretAccessKey: created.secretAccessKey, description: created.description, createdAt: created.createdAt.toISOString() },
      { status: 201, headers: { "cache-control": "no-store" } }
    )
  }))
  app.delete("/access-keys/:id", handle(async (caller, c) => {
    await run(revokeAccessKey(caller, c.req.param("id")!))
    return new Response(null, { status: 204 })
  }))
  app.get("/temporary-credentials", handle(async (caller) => {
    const notBefore = await run(temporaryCredentialsNotBefore(caller))
    return Response.json({ revokedBefore: notBefore?.toISOString() ?? null }, { headers: { "cache-control": "no-store" } })
  }))
  app.delete("/temporary-credentials", handle(async (caller) => {
    const notBefore = await run(revokeTemporaryCredentials(caller))
    return Response.json({ revokedBefore: notBefore.toISOString() }, { headers: { "cache-control": "no-store" } })
  }))
  return app
}
