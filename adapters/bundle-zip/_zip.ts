// The one walk over an archive that both reading (import) and extracting (launch) use, so
// both refuse exactly the same archives.
import { type BundleLimits, entryPathProblem } from "@aquifer/appstore"
import type { Readable } from "node:stream"
import { crc32 } from "node:zlib"
import yauzl from "yauzl"

export class ZipRefused extends Error {
  readonly entry: string | undefined
  constructor(message: string, entry?: string) {
    super(message)
    this.entry = entry
  }
}

const S_IFMT = 0o170000
const S_IFREG = 0o100000
const S_IFDIR = 0o040000
const S_IFLNK = 0o120000

export interface WalkedEntry {
  readonly path: string
  readonly size: number
  readonly mode: number
}

/**
 * Visits every entry of the archive, checking everything before any byte of an entry is
 * handed out, and every byte as it is inflated (size and CRC). `onFile` gets each regular
 * file with its inflated bytes as an async iterable that must be consumed.
 */
export const walkZip = async (
  archive: Buffer,
  limits: BundleLimits,
  onFile: (entry: WalkedEntry, chunks: AsyncIterable<Buffer>) => Promise<void>,
  onDirectory: (path: string) => Promise<void> = async () => {}
): Promise<void> => {
  if (archive.length > limits.maxBundleBytes) throw new ZipRefused(`the bundle is ${archive.length} bytes; at most ${limits.maxBundleBytes} are allowed`)
  let zip: yauzl.ZipFile
  try {
    zip = await yauzl.fromBufferPromise(archive, { lazyEntries: true, decodeStrings: true, validateEntrySizes: true, strictFileNames: false })
  } catch (error) {
    throw new ZipRefused(`the bundle is not a readable zip archive (${(error as Error).message})`)
  }
  try {
    if (zip.entryCount > limits.maxEntries) throw new ZipRefused(`the bundle has ${zip.entryCount} entries; at most ${limits.maxEntries} are allowed`)
    const seen = new Set<string>()
    let total = 0
    let count = 0
    const iterator = zip.eachEntry()
    for (;;) {
      let next: IteratorResult<yauzl.Entry>
      try {
        next = await iterator.next()
      } catch (error) {
        if (error instanceof ZipRefused) throw error
        throw new ZipRefused(`the bundle's directory is invalid: ${(error as Error).message}`)
      }
      if (next.done === true) break
      const entry = next.value
      if (++count > limits.maxEntries) throw new ZipRefused(`the bundle has more than ${limits.maxEntries} entries`)
      const name = entry.fileName
      const problem = entryPathProblem(name)
      if (problem !== undefined) throw new ZipRefused(problem, name)
      const isDirectory = name.endsWith("/")
      const path = isDirectory ? name.slice(0, -1) : name
      const key = path.normalize("NFC").toLowerCase()
      if (seen.has(key)) throw new ZipRefused(`entry ${JSON.stringify(path)} appears twice`, path)
      seen.add(key)
      const madeOnUnix = entry.versionMadeBy >> 8 === 3
      const mode = madeOnUnix ? entry.externalFileAttributes >>> 16 : 0
      const type = mode & S_IFMT
      if (type === S_IFLNK) throw new ZipRefused(`entry ${JSON.stringify(path)} is a symbolic link; bundles may hold only files and folders`, path)
      if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) {
        throw new ZipRefused(`entry ${JSON.stringify(path)} is a special file (mode ${type.toString(8)}); bundles may hold only files and folders`, path)
      }
      for (const field of entry.extraFields) {
        // PKWARE Unix (0x000d) and ASi Unix (0x756e) fields carry a link target for hard and
        // symbolic links: an entry with one is a link, whatever its mode says.
        if (field.id === 0x000d && field.data.length > 12) throw new ZipRefused(`entry ${JSON.stringify(path)} is a link; bundles may hold only files and folders`, path)
        if (field.id === 0x756e && field.data.length > 14) throw new ZipRefused(`entry ${JSON.stringify(path)} is a link; bundles may hold only files and folders`, path)
      }
      if (entry.isEncrypted()) throw new ZipRefused(`entry ${JSON.stringify(path)} is encrypted`, path)
      if (isDirectory || type === S_IFDIR) {
        if (entry.uncompressedSize !== 0) throw new ZipRefused(`folder entry ${JSON.stringify(path)} has content`, path)
        await onDirectory(path)
        continue
      }
      if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
        throw new ZipRefused(`entry ${JSON.stringify(path)} uses compression method ${entry.compressionMethod}; only stored and deflated entries are supported`, path)
      }
      if (entry.uncompressedSize > limits.maxEntryBytes) {
        throw new ZipRefused(`entry ${JSON.stringify(path)} inflates to ${entry.uncompressedSize} bytes; at most ${limits.maxEntryBytes} are allowed per entry`, path)
      }
      total += entry.uncompressedSize
      if (total > limits.maxTotalBytes) throw new ZipRefused(`the bundle inflates to more than ${limits.maxTotalBytes} bytes`, path)
      let stream: Readable
      try {
        stream = await zip.openReadStreamPromise(entry)
      } catch (error) {
        throw new ZipRefused(`entry ${JSON.stringify(path)} cannot be read: ${(error as Error).message}`, path)
      }
      let produced = 0
      let crc = 0
      const chunks = (async function*() {
        try {
          for await (const chunk of stream as AsyncIterable<Buffer>) {
            produced += chunk.length
            if (produced > entry.uncompressedSize || produced > limits.maxEntryBytes) {
              throw new ZipRefused(`entry ${JSON.stringify(path)} inflates past the size its header declares`, path)
            }
            crc = crc32(chunk, crc)
            yield chunk
          }
        } catch (error) {
          if (error instanceof ZipRefused) throw error
          throw new ZipRefused(`entry ${JSON.stringify(path)} is corrupt: ${(error as Error).message}`, path)
        } finally {
          stream.destroy()
        }
        if (produced !== entry.uncompressedSize) throw new ZipRefused(`entry ${JSON.stringify(path)} is shorter than its header declares`, path)
        if ((crc >>> 0) !== (entry.crc32 >>> 0)) throw new ZipRefused(`entry ${JSON.stringify(path)} fails its CRC check: the archive is corrupt`, path)
      })()
      await onFile({ path, size: entry.uncompressedSize, mode }, chunks)
    }
  } finally {
    zip.close()
  }
}

/** Drains an entry's chunks, keeping them when `keep` (bounded by the caller's limit). */
export const collect = async (chunks: AsyncIterable<Buffer>, keep: boolean): Promise<Buffer | undefined> => {
  const parts: Array<Buffer> = []
  for await (const chunk of chunks) if (keep) parts.push(chunk)
  return keep ? Buffer.concat(parts) : undefined
}
