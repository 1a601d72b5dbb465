// Multipart S3 operations: CreateMultipartUpload, UploadPart, UploadPartCopy,
// CompleteMultipartUpload, AbortMultipartUpload, ListParts, ListMultipartUploads.
import { maxPartNumber, maxPartSize } from "@aquifer/blob"
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
  uploadPartCopy
} from "@aquifer/drive"
import type { S3Context } from "./context.ts"
import { payloadOf, readSmallBody } from "./payload.ts"
import { encoder, optional } from "./s3_buckets.ts"
import { attributesOf, conditionsOf, copySourceOf, parseRange } from "./s3_objects.ts"
import { invalidArgument, malformedXml, S3Error } from "./s3_error.ts"
import { isoTime, parseXml, xmlResponse } from "./xml.ts"

const partNumberOf = (ctx: S3Context): number => {
  const text = ctx.param("partNumber") ?? ""
  const number = /^\d{1,6}$/.test(text) ? Number(text) : Number.NaN
  if (!(number >= 1 && number <= maxPartNumber)) {
    throw invalidArgument(`Part number must be an integer between 1 and ${maxPartNumber}, inclusive`, { ArgumentName: "partNumber" })
  }
  return number
}

const uploadIdOf = (ctx: S3Context): string => {
  const id = ctx.param("uploadId") ?? ""
  if (id === "" || id.length > 1024) throw new S3Error("NoSuchUpload", 404, "The specified multipart upload does not exist.")
  return id
}

const maxOf = (ctx: S3Context, name: string): number => {
  const text = ctx.param(name)
  if (text === undefined || text === "") return 1000
  if (!/^\d{1,10}$/.test(text)) throw invalidArgument(`Provided ${name} not an integer or within integer range`, { ArgumentName: name })
  return Math.min(Number(text), 1000)
}

const person = (ctx: S3Context, key: string) => ({ ID: key, DisplayName: key === ctx.caller.principal.key ? ctx.caller.principal.name : key })

export const createUpload = async (ctx: S3Context, bucket: string, key: string): Promise<Response> => {
  const started = await ctx.run(createMultipartUpload(ctx.caller, { bucket, key, ...attributesOf(ctx.request.headers) }))
  return xmlResponse("InitiateMultipartUploadResult", { Bucket: started.bucket, Key: started.key, UploadId: started.uploadId })
}

export const uploadPartOperation = async (ctx: S3Context, bucket: string, key: string): Promise<Response> => {
  const partNumber = partNumberOf(ctx)
  const uploadId = uploadIdOf(ctx)
  const headers = ctx.request.headers
  const source = headers.get("x-amz-copy-source")
  if (source !== null) {
    const rangeHeader = headers.get("x-amz-copy-source-range")
    const range = rangeHeader === null ? undefined : parseRange(rangeHeader)
    if (rangeHeader !== null && range === undefined) {
      throw invalidArgument("The x-amz-copy-source-range value must be of the form bytes=first-last", { ArgumentName: "x-amz-copy-source-range" })
    }
    const copied = await ctx.run(uploadPartCopy(ctx.caller, {
      bucket,
      key,
      uploadId,
      partNumber,
      source: copySourceOf(source),
      range,
      conditions: conditionsOf(ctx, "x-amz-copy-source-")
    }))
    return xmlResponse("CopyPartResult", { ETag: `"${copied.part.etag}"`, LastModified: isoTime(copied.lastModified) })
  }
  const payload = payloadOf(ctx.request.body, headers, ctx.verification)
  if (payload.length > maxPartSize) {
    throw new S3Error("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size", { MaxSizeAllowed: maxPartSize })
  }
  const part = await ctx.run(uploadPart(ctx.caller, { bucket, key, uploadId, partNumber, body: payload.stream, contentLength: payload.length }))
  const echoed: Record<string, string> = {}
  headers.forEach((value, name) => {
    if (name.startsWith("x-amz-checksum-") && name !== "x-amz-checksum-type") echoed[name] = value
  })
  return new Response(null, { status: 200, headers: { etag: `"${part.etag}"`, ...echoed } })
}

export const completeUpload = async (ctx: S3Context, bucket: string, key: string): Promise<Response> => {
  const uploadId = uploadIdOf(ctx)
  const body = await readSmallBody(ctx.request.body, ctx.request.headers, ctx.verification, 4 * 1024 * 1024)
  const parsed = parseXml(body, "CompleteMultipartUpload")
  const entries = parsed.Part ?? []
  if (!Array.isArray(entries)) throw malformedXml()
  const parts = (entries as Array<Record<string, unknown>>).map((entry) => {
    const number = typeof entry.PartNumber === "string" && /^\d{1,6}$/.test(entry.PartNumber) ? Number(entry.PartNumber) : Number.NaN
    if (!(number >= 1 && number <= maxPartNumber) || typeof entry.ETag !== "string" || entry.ETag === "") throw malformedXml()
    return { partNumber: number, etag: entry.ETag }
  })
  const ifNoneMatch = ctx.request.headers.get("if-none-match")
  const ifMatch = ctx.request.headers.get("if-match")
  const done = await ctx.run(completeMultipartUpload(ctx.caller, {
    bucket,
    key,
    uploadId,
    parts,
    ifNoneMatch: ifNoneMatch === null ? undefined : "*",
    ifMatch: ifMatch === null ? undefined : ctx.acceptEtag(ifMatch)
  }))
  return xmlResponse("CompleteMultipartUploadResult", {
    Location: `/${done.bucket}/${done.key}`,
    Bucket: done.bucket,
    Key: done.key,
    ETag: ctx.presentEtag(done.etag)
  })
}

export const abortUpload = async (ctx: S3Context, bucket: string, key: string): Promise<Response> => {
  await ctx.run(abortMultipartUpload(ctx.caller, { bucket, key, uploadId: uploadIdOf(ctx) }))
  return new Response(null, { status: 204 })
}

export const listPartsOperation = async (ctx: S3Context, bucket: string, key: string): Promise<Response> => {
  const uploadId = uploadIdOf(ctx)
  const limit = maxOf(ctx, "max-parts")
  const markerText = ctx.param("part-number-marker")
  if (markerText !== undefined && markerText !== "" && !/^\d{1,6}$/.test(markerText)) {
    throw invalidArgument("part-number-marker must be an integer", { ArgumentName: "part-number-marker" })
  }
  const marker = markerText === undefined || markerText === "" ? 0 : Number(markerText)
  const listed = await ctx.run(listParts(ctx.caller, { bucket, key, uploadId, partNumberMarker: marker, limit }))
  return xmlResponse("ListPartsResult", {
    Bucket: bucket,
    Key: key,
    UploadId: uploadId,
    Initiator: person(ctx, listed.upload.initiator),
    Owner: person(ctx, listed.upload.initiator),
    StorageClass: "STANDARD",
    PartNumberMarker: marker,
    NextPartNumberMarker: listed.parts.at(-1)?.partNumber ?? marker,
    MaxParts: limit,
    IsTruncated: listed.truncated,
    Part: listed.parts.map((part) => ({
      PartNumber: part.partNumber,
      LastModified: isoTime(listed.upload.createdAt),
      ETag: `"${part.etag}"`,
      Size: part.size
    }))
  })
}

export const listUploadsOperation = async (ctx: S3Context, bucket: string): Promise<Response> => {
  const encode = encoder(ctx)
  const limit = maxOf(ctx, "max-uploads")
  const prefix = ctx.param("prefix") ?? ""
  const delimiter = ctx.param("delimiter") || undefined
  const keyMarker = ctx.param("key-marker") ?? ""
  const uploadIdMarker = ctx.param("upload-id-marker") ?? ""
  const page = await ctx.run(listMultipartUploads(ctx.caller, { bucket, prefix, delimiter, keyMarker, uploadIdMarker, limit }))
  return xmlResponse("ListMultipartUploadsResult", {
    Bucket: bucket,
    KeyMarker: encode(keyMarker),
    UploadIdMarker: uploadIdMarker,
    ...optional("NextKeyMarker", page.nextKeyMarker === undefined ? undefined : encode(page.nextKeyMarker)),
    ...optional("NextUploadIdMarker", page.nextUploadIdMarker),
    Prefix: encode(prefix),
    ...optional("Delimiter", delimiter === undefined ? undefined : encode(delimiter)),
    MaxUploads: limit,
    ...optional("EncodingType", ctx.param("encoding-type")),
    IsTruncated: page.truncated,
    Upload: page.uploads.map((upload) => ({
      Key: encode(upload.key),
      UploadId: upload.uploadId,
      Initiator: person(ctx, upload.initiator),
      Owner: person(ctx, upload.initiator),
      StorageClass: "STANDARD",
      Initiated: isoTime(upload.createdAt)
    })),
    CommonPrefixes: page.prefixes.map((p) => ({ Prefix: encode(p) }))
  })
}
