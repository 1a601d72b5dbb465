// How objects sit on disk under the root:
//
//   objects/<segment>/<segment>/…/\blob   one directory per key segment, the object in `\blob`
//   tmp/<random>                          writes in progress (renamed into place when complete)
//   uploads/<upload id>/upload.json       a multipart upload: its key and attributes
//   uploads/<upload id>/part-<n>          its parts (same file format as objects)
//   uploads/<upload id>/completed.json    written on completion, for idempotent retries
//
// A directory per segment lets `a` and `a/b` both exist, and lets listing with the `/`
// delimiter skip whole subtrees. Names holding a backslash are reserved: keys cannot contain
// one, so `\blob` (the object) and `\empty` (an empty segment, as in `a//b` or `a/`) never
// collide with a segment. Keys never reach the file system unchecked: `fromDriver` has refused
// `.`, `..`, NUL, backslashes and absolute keys before a path is built here.
//
// Each object file starts with a header — "AQB1", a 32-bit big-endian length, then JSON
// { etag, contentType, metadata } — followed by the bytes. One file holds both, so one rename
// publishes data and attributes together.
import { join } from "node:path"

export const objectFile = "\\blob"
const emptySegment = "\\empty"
const magic = Buffer.from("AQB1", "latin1")

export const segmentName = (segment: string): string => (segment === "" ? emptySegment : segment)
export const segmentOf = (name: string): string | undefined =>
  name === emptySegment ? "" : name.includes("\\") ? undefined : name

/** The directory of an object (`objects/…`), from a key already checked by `fromDriver`. */
export const objectDir = (objects: string, key: string): string => join(objects, ...key.split("/").map(segmentName))

export interface Header {
  readonly etag: string
  readonly contentType: string
  readonly metadata: Readonly<Record<string, string>>
}

export const encodeHeader = (header: Header): Buffer => {
  const json = Buffer.from(JSON.stringify(header), "utf8")
  const prefix = Buffer.alloc(8)
  magic.copy(prefix, 0)
  prefix.writeUInt32BE(json.byteLength, 4)
  return Buffer.concat([prefix, json])
}

/** Reads the header of an open object file; returns it with the offset of the data. */
export const readHeader = async (
  handle: import("node:fs/promises").FileHandle
): Promise<{ readonly header: Header; readonly dataOffset: number }> => {
  const first = Buffer.alloc(8192)
  const { bytesRead } = await handle.read(first, 0, first.byteLength, 0)
  if (bytesRead < 8 || !first.subarray(0, 4).equals(magic)) throw new Error("not an Aquifer blob file")
  const length = first.readUInt32BE(4)
  if (length > 1024 * 1024) throw new Error("blob header too large")
  let json = first.subarray(8, Math.min(bytesRead, 8 + length))
  if (json.byteLength < length) {
    const rest = Buffer.alloc(length)
    const { bytesRead: more } = await handle.read(rest, 0, length, 8)
    if (more < length) throw new Error("truncated blob header")
    json = rest
  }
  const parsed = JSON.parse(json.toString("utf8")) as Header
  return { header: parsed, dataOffset: 8 + length }
}
