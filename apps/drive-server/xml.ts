// S3's XML, in and out, with fast-xml-parser. Bodies that declare a DOCTYPE (the only way to
// define entities, so the only door to XXE and "billion laughs") are refused before parsing;
// what is parsed expands only XML's predefined and numeric character references.
import { XMLBuilder, XMLParser, XMLValidator } from "fast-xml-parser"
import { malformedXml } from "./s3_error.ts"

export const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: "@_", suppressEmptyNode: false })

const lists = new Set(["Object", "Part", "CORSRule"])
const parser = new XMLParser({
  processEntities: true,
  htmlEntities: true,
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  trimValues: true,
  removeNSPrefix: true,
  isArray: (name) => lists.has(name)
})

/** Serialises one root element, with the XML declaration. */
export const toXml = (root: string, body: Record<string, unknown>, namespace: string | null = s3Namespace): string =>
  builder.build({
    "?xml": { "@_version": "1.0", "@_encoding": "UTF-8" },
    [root]: namespace === null ? body : { "@_xmlns": namespace, ...body }
  }) as string

/** An XML response. */
export const xmlResponse = (root: string, body: Record<string, unknown>, init: { status?: number; headers?: Record<string, string> } = {}): Response =>
  new Response(toXml(root, body), {
    status: init.status ?? 200,
    headers: { "content-type": "application/xml", ...init.headers }
  })

/** Parses a request body whose root element must be `root`; `MalformedXML` otherwise. */
export const parseXml = (bytes: Uint8Array, root: string): Record<string, unknown> => {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8")
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw malformedXml()
  if (XMLValidator.validate(text) !== true) throw malformedXml()
  let parsed: unknown
  try {
    parsed = parser.parse(text)
  } catch {
    throw malformedXml()
  }
  const element = (parsed as Record<string, unknown> | undefined)?.[root]
  if (element === "") return {}
  if (typeof element !== "object" || element === null || Array.isArray(element)) throw malformedXml()
  return element as Record<string, unknown>
}

/** S3's timestamp format in XML bodies: ISO 8601 with milliseconds. */
export const isoTime = (date: Date): string => date.toISOString()
