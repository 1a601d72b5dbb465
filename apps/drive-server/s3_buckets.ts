// Service- and bucket-level S3 operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
// GetBucketLocation, ListObjects (V1 and V2), ListObjectVersions, and the harmless bucket
// sub-resources clients probe (versioning).
import { createBucket, deleteBucket, listBuckets, listObjects, bucketFor, type ObjectSummary } from "@aquifer/drive"
import type { S3Context } from "./context.ts"
import { readSmallBody } from "./payload.ts"
import { invalidArgument, S3Error } from "./s3_error.ts"
import { uriEncode } from "./sigv4.ts"
import { isoTime, parseXml, xmlResponse } from "./xml.ts"

const owner = (ctx: S3Context) => ({ ID: ctx.caller.principal.key, DisplayName: ctx.caller.principal.name })

export const listAllBuckets = async (ctx: S3Context): Promise<Response> => {
  const buckets = await ctx.run(listBuckets(ctx.caller))
  return xmlResponse("ListAllMyBucketsResult", {
    Owner: owner(ctx),
    Buckets: { Bucket: buckets.map((b) => ({ Name: b.name, CreationDate: isoTime(b.createdAt) })) }
  })
}

export const putBucket = async (ctx: S3Context, bucket: string): Promise<Response> => {
  const body = await readSmallBody(ctx.request.body, ctx.request.headers, ctx.verification, 64 * 1024)
  if (body.byteLength > 0) {
    const config = parseXml(body, "CreateBucketConfiguration")
    const constraint = typeof config.LocationConstraint === "string" ? config.LocationConstraint : ""
    if (constraint !== "" && constraint !== ctx.region) {
      throw new S3Error(
        "IllegalLocationConstraintException",
        400,
        `The ${constraint.slice(0, 64)} location constraint is incompatible for the region specific endpoint this request was sent to.`
      )
    }
  }
  await ctx.run(createBucket(ctx.caller, bucket))
  return new Response(null, { status: 200, headers: { location: `/${bucket}` } })
}

export const headBucket = async (ctx: S3Context, bucket: string): Promise<Response> => {
  await ctx.run(bucketFor(ctx.caller, bucket, "read"))
  return new Response(null, { status: 200, headers: { "x-amz-bucket-region": ctx.region } })
}

export const removeBucket = async (ctx: S3Context, bucket: string): Promise<Response> => {
  await ctx.run(deleteBucket(ctx.caller, bucket))
  return new Response(null, { status: 204 })
}

export const bucketLocation = async (ctx: S3Context, bucket: string): Promise<Response> => {
  await ctx.run(bucketFor(ctx.caller, bucket, "read"))
  return xmlResponse("LocationConstraint", ctx.region === "us-east-1" ? {} : { "#text": ctx.region })
}

export const bucketVersioning = async (ctx: S3Context, bucket: string): Promise<Response> => {
  await ctx.run(bucketFor(ctx.caller, bucket, "read"))
  return xmlResponse("VersioningConfiguration", {})
}

const maxKeysOf = (ctx: S3Context, name: string): number => {
  const text = ctx.param(name)
  if (text === undefined || text === "") return 1000
  if (!/^\d{1,10}$/.test(text)) throw invalidArgument(`Provided ${name} not an integer or within integer range`, { ArgumentName: name })
  return Math.min(Number(text), 1000)
}

/** Keys, prefixes and markers as listings send them: URL-encoded with `encoding-type=url`. */
export const encoder = (ctx: S3Context) => {
  const type = ctx.param("encoding-type")
  if (type !== undefined && type !== "url") throw invalidArgument("Invalid Encoding Method specified in Request", { ArgumentName: "encoding-type" })
  return type === "url" ? (text: string) => uriEncode(text, true) : (text: string) => text
}

export const optional = (name: string, value: string | undefined) => (value === undefined ? {} : { [name]: value })

const contents = (ctx: S3Context, encode: (t: string) => string, items: ReadonlyArray<ObjectSummary>, withOwner: boolean) =>
  items.map((item) => ({
    Key: encode(item.key),
    LastModified: isoTime(item.lastModified),
    ETag: ctx.presentEtag(item.etag),
    Size: item.size,
    ...(withOwner ? { Owner: owner(ctx) } : {}),
    StorageClass: "STANDARD"
  }))

export const listObjectsV2 = async (ctx: S3Context, bucket: string): Promise<Response> => {
  const encode = encoder(ctx)
  const limit = maxKeysOf(ctx, "max-keys")
  const prefix = ctx.param("prefix") ?? ""
  const delimiter = ctx.param("delimiter") || undefined
  const startAfter = ctx.param("start-after") || undefined
  const token = ctx.param("continuation-token")
  if (token === "") throw invalidArgument("The continuation token provided is incorrect", { ArgumentName: "continuation-token" })
  const page = await ctx.run(listObjects(ctx.caller, { bucket, prefix, delimiter, startAfter, continuationToken: token, limit }))
  const encodingType = ctx.param("encoding-type")
  return xmlResponse("ListBucketResult", {
    Name: bucket,
    Prefix: encode(prefix),
    ...optional("Delimiter", delimiter === undefined ? undefined : encode(delimiter)),
    MaxKeys: limit,
    ...optional("EncodingType", encodingType),
    KeyCount: page.items.length + page.prefixes.length,
    IsTruncated: page.continuationToken !== undefined,
    ...optional("ContinuationToken", token),
    ...optional("NextContinuationToken", page.continuationToken),
    ...optional("StartAfter", startAfter === undefined ? undefined : encode(startAfter)),
    Contents: contents(ctx, encode, page.items, ctx.param("fetch-owner") === "true"),
    CommonPrefixes: page.prefixes.map((p) => ({ Prefix: encode(p) }))
  })
}

export const listObjectsV1 = async (ctx: S3Context, bucket: string): Promise<Response> => {
  const encode = encoder(ctx)
  const limit = maxKeysOf(ctx, "max-keys")
  const prefix = ctx.param("prefix") ?? ""
  const delimiter = ctx.param("delimiter") || undefined
  const marker = ctx.param("marker") || undefined
  const page = await ctx.run(listObjects(ctx.caller, { bucket, prefix, delimiter, startAfter: marker, limit }))
  const truncated = page.continuationToken !== undefined
  return xmlResponse("ListBucketResult", {
    Name: bucket,
    Prefix: encode(prefix),
    Marker: encode(marker ?? ""),
    ...optional("NextMarker", truncated && page.lastEntry !== undefined ? encode(page.lastEntry) : undefined),
    MaxKeys: limit,
    ...optional("Delimiter", delimiter === undefined ? undefined : encode(delimiter)),
    ...optional("EncodingType", ctx.param("encoding-type")),
    IsTruncated: truncated,
    Contents: contents(ctx, encode, page.items, true),
    CommonPrefixes: page.prefixes.map((p) => ({ Prefix: encode(p) }))
  })
}

/** Unversioned buckets: every object is its only version, `null`. */
export const listObjectVersions = async (ctx: S3Context, bucket: string): Promise<Response> => {
  const encode = encoder(ctx)
  const limit = maxKeysOf(ctx, "max-keys")
  const prefix = ctx.param("prefix") ?? ""
  const delimiter = ctx.param("delimiter") || undefined
  const keyMarker = ctx.param("key-marker") || undefined
  const versionMarker = ctx.param("version-id-marker") || undefined
  if (versionMarker !== undefined && keyMarker === undefined) {
    throw invalidArgument("A version-id marker cannot be specified without a key marker.", { ArgumentName: "version-id-marker" })
  }
  const page = await ctx.run(listObjects(ctx.caller, { bucket, prefix, delimiter, startAfter: keyMarker, limit }))
  const truncated = page.continuationToken !== undefined
  return xmlResponse("ListVersionsResult", {
    Name: bucket,
    Prefix: encode(prefix),
    KeyMarker: encode(keyMarker ?? ""),
    VersionIdMarker: versionMarker ?? "",
    ...(truncated && page.lastEntry !== undefined ? { NextKeyMarker: encode(page.lastEntry), NextVersionIdMarker: "null" } : {}),
    MaxKeys: limit,
    ...optional("Delimiter", delimiter === undefined ? undefined : encode(delimiter)),
    ...optional("EncodingType", ctx.param("encoding-type")),
    IsTruncated: truncated,
    Version: page.items.map((item) => ({
      Key: encode(item.key),
      VersionId: "null",
      IsLatest: true,
      LastModified: isoTime(item.lastModified),
      ETag: ctx.presentEtag(item.etag),
      Size: item.size,
      Owner: owner(ctx),
      StorageClass: "STANDARD"
    })),
    CommonPrefixes: page.prefixes.map((p) => ({ Prefix: encode(p) }))
  })
}
