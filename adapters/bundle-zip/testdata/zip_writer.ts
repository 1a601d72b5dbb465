// A minimal zip writer for tests: it writes exactly what a test asks for — hostile names,
// link modes, extra fields, lying sizes — which no well-behaved zip library would.
import { crc32, deflateRawSync } from "node:zlib"

export interface TestEntry {
  readonly name: string
  readonly data?: Uint8Array | string
  /** Unix mode (type + permissions) recorded in the external attributes. */
  readonly mode?: number
  readonly deflate?: boolean
  /** Uncompressed size to claim in the headers (default: the real one). */
  readonly declaredSize?: number
  readonly extra?: ReadonlyArray<{ readonly id: number; readonly data: Uint8Array }>
}

export const zip = (entries: ReadonlyArray<TestEntry>): Buffer => {
  const locals: Array<Buffer> = []
  const centrals: Array<Buffer> = []
  let offset = 0
  for (const entry of entries) {
    const name = Buffer.from(entry.name, "utf8")
    const raw = typeof entry.data === "string" ? Buffer.from(entry.data, "utf8") : Buffer.from(entry.data ?? new Uint8Array(0))
    const body = entry.deflate === true ? deflateRawSync(raw) : raw
    const crc = crc32(raw) >>> 0
    const size = entry.declaredSize ?? raw.length
    const extra = Buffer.concat((entry.extra ?? []).map((field) => {
      const header = Buffer.alloc(4)
      header.writeUInt16LE(field.id, 0)
      header.writeUInt16LE(field.data.length, 2)
      return Buffer.concat([header, Buffer.from(field.data)])
    }))
    const method = entry.deflate === true ? 8 : 0
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(0x0800, 6)
    local.writeUInt16LE(method, 8)
    local.writeUInt32LE(0, 10)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(body.length, 18)
    local.writeUInt32LE(size, 22)
    local.writeUInt16LE(name.length, 26)
    local.writeUInt16LE(0, 28)
    locals.push(local, name, body)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE((3 << 8) | 20, 4)
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(0x0800, 8)
    central.writeUInt16LE(method, 10)
    central.writeUInt32LE(0, 12)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(body.length, 20)
    central.writeUInt32LE(size, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt16LE(extra.length, 30)
    central.writeUInt16LE(0, 32)
    central.writeUInt16LE(0, 34)
    central.writeUInt16LE(0, 36)
    const mode = entry.mode ?? (entry.name.endsWith("/") ? 0o040755 : 0o100644)
    central.writeUInt32LE(((mode & 0xffff) << 16) >>> 0, 38)
    central.writeUInt32LE(offset, 42)
    centrals.push(central, name, extra)
    offset += local.length + name.length + body.length
  }
  const directory = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(directory.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, directory, end])
}

/** A 1×1 png. */
export const png = Buffer.from(
  "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082",
  "hex"
)
/** The first bytes of a jpeg. */
export const jpeg = Buffer.from("ffd8ffe000104a46494600010100000100010000ffd9", "hex")

export const appToml = (extra = "", app = `Name = "demo-app"\nVersion = "1.0.0"`) =>
  `[App]\n${app}\nTitle = "Demo"\nDescription = "A demo"\n\n[Runtime]\nModule = "app"\nAppMode = "python"\n${extra}`
