/**
 * The `BundleReader` port: opens an uploaded bundle (a `.wave` or `.zip` archive) and returns
 * what the catalog needs from it — the decoded `app.toml`, the static assets, the long
 * description and the dependency lists — or refuses it with `InvalidBundle`.
 *
 * A bundle, as users build it:
 *
 * ```
 * app.toml            the manifest (see manifest.ts)
 * static/icon.png     the icon: a png or jpeg whose name starts with "icon"
 * static/screenshot1.jpg …  screenshots: names starting with "screenshot"
 * requirements.txt    Python dependencies (pip)
 * packages.txt        OS packages, one per line (installed where the OS allows)
 * .appignore          patterns the packaging tool left out (kept, not interpreted)
 * app.py …            the source
 * ```
 *
 * Every adapter refuses, with nothing written anywhere: archives that are not zips; entries
 * that would land outside the app's folder (`../`, absolute paths, drive letters, backslashes);
 * symbolic and hard links and any other non-regular entry; duplicate paths; more than
 * `maxEntries` entries, an entry over `maxEntryBytes` or a total over `maxTotalBytes` once
 * *inflated* (counted on the bytes really produced, not the sizes the archive claims);
 * a missing or malformed `app.toml`. Icons and screenshots must really be png or jpeg.
 * @module
 */
import { Context, type Effect } from "effect"
import type { InvalidBundle } from "./errors.ts"
import type { AppManifest } from "./manifest.ts"

/** Bounds a bundle must stay within. */
export interface BundleLimits {
  /** The archive itself. */
  readonly maxBundleBytes: number
  readonly maxEntries: number
  /** One entry, inflated. */
  readonly maxEntryBytes: number
  /** All entries together, inflated. */
  readonly maxTotalBytes: number
  /** One static asset (icon, screenshot) or the long description. */
  readonly maxAssetBytes: number
}

export const defaultBundleLimits: BundleLimits = {
  maxBundleBytes: 256 * 1024 * 1024,
  maxEntries: 10_000,
  maxEntryBytes: 256 * 1024 * 1024,
  maxTotalBytes: 1024 * 1024 * 1024,
  maxAssetBytes: 5 * 1024 * 1024
}

/** A static asset taken from the bundle. */
export interface BundleAsset {
  /** Path inside the bundle (`static/icon.png`). */
  readonly path: string
  readonly contentType: "image/png" | "image/jpeg"
  readonly bytes: Uint8Array
}

/** What a valid bundle holds, as the catalog needs it. */
export interface BundleContents {
  readonly manifest: AppManifest
  /** Every regular file, with its inflated size. */
  readonly entries: ReadonlyArray<{ readonly path: string; readonly size: number }>
  readonly icon?: BundleAsset | undefined
  readonly screenshots: ReadonlyArray<BundleAsset>
  /** The markdown named by `LongDescription`. */
  readonly longDescription?: string | undefined
  readonly requirements: string
  readonly packages: string
  /** Hex SHA-256 of the archive. */
  readonly sha256: string
}

export class BundleReader extends Context.Service<BundleReader, {
  /**
   * Checks and reads an archive held in memory. Fails with `InvalidBundle` naming the entry or
   * the `app.toml` field (and line) at fault.
   */
  readonly read: (archive: Uint8Array, limits?: BundleLimits) => Effect.Effect<BundleContents, InvalidBundle>
}>()("@aquifer/appstore/BundleReader") {}

/** The content type of png or jpeg bytes, by their signature; undefined for anything else. */
export const imageType = (bytes: Uint8Array): "image/png" | "image/jpeg" | undefined => {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47 && bytes[4] === 0x0d && bytes[5] === 0x0a && bytes[6] === 0x1a && bytes[7] === 0x0a) {
    return "image/png"
  }
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg"
  return undefined
}

/**
 * Why an entry path may not be extracted, or undefined when it is safe: relative, `/`-separated,
 * no `.`/`..` parts, no drive letter, backslash, NUL or control character.
 */
export const entryPathProblem = (path: string): string | undefined => {
  if (path === "") return "an entry has an empty name"
  if (path.length > 1024) return "an entry name is longer than 1024 characters"
  if (path.startsWith("/")) return `entry ${JSON.stringify(path)} has an absolute path`
  if (/^[A-Za-z]:/.test(path)) return `entry ${JSON.stringify(path)} has a drive letter`
  if (path.includes("\\")) return `entry ${JSON.stringify(path)} contains a backslash`
  // oxlint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(path)) return `entry ${JSON.stringify(path)} contains a control character`
  const parts = path.replace(/\/$/, "").split("/")
  if (parts.some((part) => part === ".." )) return `entry ${JSON.stringify(path)} climbs out of the bundle (..)`
  if (parts.some((part) => part === "." || part === "")) return `entry ${JSON.stringify(path)} has an empty or "." path part`
  return undefined
}
