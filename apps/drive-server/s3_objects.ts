// Object-level S3 operations: PutObject, GetObject (ranges, conditions, response overrides),
// HeadObject, DeleteObject, DeleteObjects and CopyObject.
import { type ByteRange, resolveRange } from "@aquifer/blob"
import {
  copyObject,
  deleteObject,
  deleteObjects,
  getObject,
  headObject,
  maxDeleteKeys,
  type ObjectAttributes,
  type ObjectInfo,
  type Preconditions,
  putObject,
  storedHeaders,
  type StoredHeader
} from "@aquifer/drive"
import type { S3Context } from "./context.ts"
import { payloadOf, readSmallBody } from "./payload.ts"
import { invalidArgument, malformedXml, S3Error } from "./s3_error.ts"
import { isoTime, parseXml, xmlResponse } from "./xml.ts"

/** The largest object a single PUT may write (S3's 5 GiB). */
export const maxPutBytes = 5 * 1024 ** 3

/** The attributes a PUT, a multipart start or a REPLACE copy sets, from its headers. */
export const attributesOf = (headers: Headers): ObjectAttributes => {
  const metadata: Record<string, string> = {}
  const stored: Partial<Record<StoredHeader, string>> = {}
  headers.forEach((value, name) => {
    if (name.startsWith("x-amz-meta-")) metadata[name.slice("x-amz-meta-".length)] = value.trim()
  })
  for (const name of storedHeaders) {
    let value = headers.get(name)
    if (name === "content-encoding" && value !== null) {
      value = value.split(",").map((v) => v.trim()).filter((v) => v !== "" && v !== "aws-chunked").join(", ")
    }
    if (value !== null && value !== "") stored[name] = value
  }
  const contentType = headers.get("content-type") ?? undefined
  return { contentType: contentType === "" ? undefined : contentType, metadata, headers: stored }
}

const httpDate = (text: string | null): Date | undefined => {
  if (text === null) return undefined
  const time = Date.parse(text)
  return Number.isNaN(time) ? undefined : new Date(time)
}

/** Conditions from the standard headers (`prefix` ""), or from `x-amz-copy-source-` ones. */
export const conditionsOf = (ctx: S3Context, prefix = ""): Preconditions | undefined => {
  const h = ctx.request.headers
  const ifMatch = h.get(`${prefix}if-match`) ?? undefined
  const ifNoneMatch = h.get(`${prefix}if-none-match`) ?? undefined
  const conditions: Preconditions = {
    ifMatch: ifMatch === undefined ? undefined : ifMatch.split(",").map((e) => ctx.acceptEtag(e.trim())).join(","),
    ifNoneMatch: ifNoneMatch === undefined ? undefined : ifNoneMatch.split(",").map((e) => ctx.acceptEtag(e.trim())).join(","),
    ifModifiedSince: httpDate(h.get(`${prefix}if-modified-since`)),
    ifUnmodifiedSince: httpDate(h.get(`${prefix}if-unmodified-since`))
  }
  return Object.values(conditions).some((v) => v !== undefined) ? conditions : undefined
}

/**
 * A `Range: bytes=…` header: undefined when absent or not a single byte range (then the whole
 * object is sent, as RFC 9110 allows); `InvalidRange` when its numbers cannot describe a range.
 */
export const parseRange = (header: string | null | undefined): ByteRange | undefined => {
  if (header === null || header === undefined) return undefined
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header)
  if (match === null) return undefined
  const [, first, last] = match as unknown as [string, string, string]
  const unsatisfiable = () => new S3Error("InvalidRange", 416, "The requested range is not satisfiable", { RangeRequested: header.slice(0, 100) })
  if (first === "" && last === "") return undefined
  if (first === "") {
    const suffix = last.length > 15 ? Number.MAX_SAFE_INTEGER : Number(last)
    if (suffix === 0) throw unsatisfiable()
    return { suffix }
  }
  if (first.length > 15) throw unsatisfiable()
  const offset = Number(first)
  if (last === "" || last.length > 15) return { offset }
  const end = Number(last)
  if (end < offset) throw unsatisfiable()
  return { offset, length: end - offset + 1 }
}

const objectHeaders = (ctx: S3Context, info: ObjectInfo): Record<string, string> => {
  const headers: Record<string, string> = {
    etag: ctx.presentEtag(info.etag),
    "last-modified": info.lastModified.toUTCString(),
    "content-type": info.contentType,
    "accept-ranges": "bytes"
  }
  for (const [name, value] of Object.entries(info.headers)) if (value !== undefined) headers[name] = value
  for (const [name, value] of Object.entries(info.metadata)) headers[`x-amz-meta-${name}`] = value
  const overrides = [
    ["response-content-type", "content-type"],
    ["response-content-language", "content-language"],
    ["response-expires", "expires"],
    ["response-cache-control", "cache-control"],
    ["response-content-disposition", "content-disposition"],
    ["response-content-encoding", "content-encoding"]
  ] as const
  for (const [param, header] of overrides) {
    const value = ctx.param(param)
    if (value !== undefined) {
      if (!/^[\u0020-\u007e]*$/.test(value)) throw invalidArgument(`${param} must be printable ASCII`)
      headers[header] = value
    }
  }
  return headers
}

const checkVersion = (ctx: S3Context) => {
  const version = ctx.param("versionId")
  if (version !== undefined && version !== "null") {
    throw new S3Error("NoSuchVersion", 404, "The specified version does not exist.", { VersionId: version.slice(0, 100) })
  }
}

export const getOrHeadObject = async (ctx: S3Context, bucket: string, key: string, head: boolean): Promise<Response> => {
  checkVersion(ctx)
  if (ctx.param("partNumber") !== undefined) throw new S3Error("NotImplemented", 501, "GetObject by part number is not implemented")
  const conditions = conditionsOf(ctx)
  const range = parseRange(ctx.request.headers.get("range"))
  if (head) {
    const result = await ctx.run(headObject(ctx.caller, { bucket, key, conditions }))
    const headers = objectHeaders(ctx, result.info)
    if (result._tag === "NotModified") return new Response(null, { status: 304, headers: { etag: headers.etag!, "last-modified": headers["last-modified"]! } })
    if (range !== undefined) {
      const resolved = await ctx.run(resolveRange(key, range, result.info.size))
      return new Response(null, {
        status: 206,
        headers: {
          ...headers,
          "content-length": String(resolved.length),
          "content-range": `bytes ${resolved.offset}-${resolved.offset + resolved.length - 1}/${result.info.size}`
        }
      })
    }
    return new Response(null, { status: 200, headers: { ...headers, "content-length": String(result.info.size) } })
  }
  const result = await ctx.run(getObject(ctx.caller, { bucket, key, range, conditions }))
  const headers = objectHeaders(ctx, result.info)
  if (result._tag === "NotModified") return new Response(null, { status: 304, headers: { etag: headers.etag!, "last-modified": headers["last-modified"]! } })
  headers["content-length"] = String(result.length)
  if (range !== undefined) {
    headers["content-range"] = `bytes ${result.offset}-${result.offset + result.length - 1}/${result.info.size}`
  }
  return new Response(result.body, { status: range === undefined ? 200 : 206, headers })
}

const echoChecksum = (headers: Headers): Record<string, string> => {
  const echoed: Record<string, string> = {}
  headers.forEach((value, name) => {
    if (name.startsWith("x-amz-checksum-") && name !== "x-amz-checksum-type") echoed[name] = value
  })
  return echoed
}

export const putObjectOperation = async (ctx: S3Context, bucket: string, key: string): Promise<Response> => {
  const headers = ctx.request.headers
  const payload = payloadOf(ctx.request.body, headers, ctx.verification)
  if (payload.length > maxPutBytes) {
    throw new S3Error("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size", { MaxSizeAllowed: maxPutBytes })
  }
  const ifNoneMatch = headers.get("if-none-match")
  if (ifNoneMatch !== null && ifNoneMatch.trim() !== "*") throw new S3Error("NotImplemented", 501, "If-None-Match on PUT only supports \"*\"")
  const ifMatch = headers.get("if-match")
  const written = await ctx.run(putObject(ctx.caller, {
    bucket,
    key,
    body: payload.stream,
    contentLength: payload.length,
    ...attributesOf(headers),
    ifNoneMatch: ifNoneMatch === null ? undefined : "*",
    ifMatch: ifMatch === null ? undefined : ctx.acceptEtag(ifMatch.trim())
  }))
  return new Response(null, { status: 200, headers: { etag: ctx.presentEtag(written.etag), ...echoChecksum(headers) } })
}

export const deleteObjectOperation = async (ctx: S3Context, bucket: string, key: string): Promise<Response> => {
  checkVersion(ctx)
  await ctx.run(deleteObject(ctx.caller, { bucket, key }))
  return new Response(null, { status: 204 })
}

const keyErrorCode = (tag: string): [string, string] => {
  switch (tag) {
    case "InvalidObjectKey":
      return ["InvalidArgument", "Object name contains unsupported characters."]
    case "Forbidden":
      return ["AccessDenied", "Access Denied"]
    default:
      return ["InternalError", "We encountered an internal error. Please try again."]
  }
}

export const deleteObjectsOperation = async (ctx: S3Context, bucket: string): Promise<Response> => {
  const body = await readSmallBody(ctx.request.body, ctx.request.headers, ctx.verification, 2 * 1024 * 1024)
  const parsed = parseXml(body, "Delete")
  const objects = parsed.Object
  if (!Array.isArray(objects) || objects.length === 0) throw malformedXml()
  if (objects.length > maxDeleteKeys) throw malformedXml()
  const keys: Array<string> = []
  const refused: Array<{ Key: string; Code: string; Message: string }> = []
  for (const entry of objects as Array<Record<string, unknown>>) {
    if (typeof entry !== "object" || entry === null || typeof entry.Key !== "string") throw malformedXml()
    const version = entry.VersionId
    if (version !== undefined && version !== "null") refused.push({ Key: entry.Key, Code: "NoSuchVersion", Message: "The specified version does not exist." })
    else keys.push(entry.Key)
  }
  const quiet = parsed.Quiet === "true"
  const outcomes = keys.length === 0 ? [] : await ctx.run(deleteObjects(ctx.caller, { bucket, keys }))
  const errors = [
    ...refused,
    ...outcomes.flatMap((o) => {
      if (o.deleted) return []
      const [Code, Message] = keyErrorCode(o.error._tag)
      return [{ Key: o.key, Code, Message }]
    })
  ]
  return xmlResponse("DeleteResult", {
    Deleted: quiet ? [] : outcomes.filter((o) => o.deleted).map((o) => ({ Key: o.key })),
    Error: errors
  })
}

/** Reads `x-amz-copy-source` (`bucket/key`, URL-encoded, optionally `?versionId=null`). */
export const copySourceOf = (header: string): { bucket: string; key: string } => {
  const [path = "", query] = header.split("?", 2)
  if (query !== undefined) {
    const version = new URLSearchParams(query).get("versionId")
    if (version !== null && version !== "null") throw new S3Error("NoSuchVersion", 404, "The specified version does not exist.")
  }
  let decoded: string
  try {
    decoded = decodeURIComponent(path)
  } catch {
    throw invalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
  }
  const trimmed = decoded.startsWith("/") ? decoded.slice(1) : decoded
  const slash = trimmed.indexOf("/")
  if (slash <= 0 || slash === trimmed.length - 1) {
    throw invalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey", { ArgumentName: "x-amz-copy-source" })
  }
  return { bucket: trimmed.slice(0, slash), key: trimmed.slice(slash + 1) }
}

export const copyObjectOperation = async (ctx: S3Context, bucket: string, key: string, sourceHeader: string): Promise<Response> => {
  const source = copySourceOf(sourceHeader)
  const directive = ctx.request.headers.get("x-amz-metadata-directive") ?? "COPY"
  if (directive !== "COPY" && directive !== "REPLACE") throw invalidArgument("Unknown metadata directive.", { ArgumentName: "x-amz-metadata-directive" })
  const result = await ctx.run(copyObject(ctx.caller, {
    source,
    destination: { bucket, key },
    replace: directive === "REPLACE" ? attributesOf(ctx.request.headers) : undefined,
    conditions: conditionsOf(ctx, "x-amz-copy-source-")
  }))
  return xmlResponse("CopyObjectResult", { ETag: ctx.presentEtag(result.etag), LastModified: isoTime(result.lastModified) })
}
