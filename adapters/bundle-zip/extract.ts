/**
 * Unpacks a bundle into a new folder with exactly the checks `BundleReader` applies, so the
 * launcher never writes outside its folder whatever the archive holds. The folder appears
 * whole or not at all (written beside it, then renamed).
 * @module
 */
import { type BundleLimits, defaultBundleLimits } from "@aquifer/appstore"
import { createWriteStream, mkdirSync, renameSync, rmSync } from "node:fs"
import { dirname, join, resolve, sep } from "node:path"
import { pipeline } from "node:stream/promises"
import { Readable } from "node:stream"
import { walkZip } from "./_zip.ts"

export { ZipRefused } from "./_zip.ts"

/** Extracts `archive` into `target` (which must not exist yet). */
export const extractBundle = async (archive: Buffer, target: string, limits: BundleLimits = defaultBundleLimits): Promise<void> => {
  const root = resolve(target)
  const temp = `${root}.partial-${process.pid}-${Date.now()}`
  rmSync(temp, { recursive: true, force: true })
  mkdirSync(temp, { recursive: true, mode: 0o755 })
  const inside = (path: string) => {
    const full = resolve(temp, path)
    if (!full.startsWith(temp + sep)) throw new Error(`refusing to write outside the bundle folder: ${path}`)
    return full
  }
  try {
    await walkZip(
      archive,
      limits,
      async (entry, chunks) => {
        const file = inside(entry.path)
        mkdirSync(dirname(file), { recursive: true, mode: 0o755 })
        const executable = (entry.mode & 0o111) !== 0
        await pipeline(Readable.from(chunks), createWriteStream(file, { flags: "wx", mode: executable ? 0o755 : 0o644 }))
      },
      async (path) => void mkdirSync(inside(path), { recursive: true, mode: 0o755 })
    )
    renameSync(temp, root)
  } catch (error) {
    rmSync(temp, { recursive: true, force: true })
    throw error
  }
}

/** Where `extractBundle` would put a relative path (for tests and messages). */
export const bundlePath = (target: string, path: string): string => join(target, path)
