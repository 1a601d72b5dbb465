/**
 * `BundleReader` for zip bundles (`.wave`, `.zip`): yauzl for the archive (every entry checked
 * and inflated once, sizes and CRCs verified on the bytes produced), smol-toml for `app.toml`.
 * No config keys: limits come with each call.
 * @module
 */
import {
  type BundleAsset,
  type BundleContents,
  BundleReader,
  decodeManifest,
  defaultBundleLimits,
  imageType,
  InvalidBundle
} from "@aquifer/appstore"
import { Effect, Layer } from "effect"
import { createHash } from "node:crypto"
import { parse as parseToml, TomlError } from "smol-toml"
import { collect, walkZip, ZipRefused } from "./_zip.ts"

const imageExtension = /\.(png|jpe?g)$/i

const utf8 = (bytes: Buffer, what: string): string => {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes)
  } catch {
    throw new ZipRefused(`${what} is not UTF-8 text`, what)
  }
}

const read = (archive: Uint8Array, limits = defaultBundleLimits): Effect.Effect<BundleContents, InvalidBundle> =>
  Effect.tryPromise({
    try: async () => {
      const buffer = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength)
      const kept = new Map<string, Buffer>()
      const entries: Array<{ path: string; size: number }> = []
      const wanted = (path: string) =>
        path === "app.toml" || path === "requirements.txt" || path === "packages.txt" ||
        /^static\/(icon|screenshot)[^/]*$/i.test(path) || /\.(md|markdown)$/i.test(path)
      await walkZip(buffer, limits, async (entry, chunks) => {
        entries.push({ path: entry.path, size: entry.size })
        const keep = wanted(entry.path)
        if (keep && entry.size > limits.maxAssetBytes) {
          throw new ZipRefused(`${entry.path} is ${entry.size} bytes; at most ${limits.maxAssetBytes} are allowed for it`, entry.path)
        }
        const bytes = await collect(chunks, keep)
        if (bytes !== undefined) kept.set(entry.path, bytes)
      })
      const tomlBytes = kept.get("app.toml")
      if (tomlBytes === undefined) {
        const nested = entries.find((e) => e.path.endsWith("/app.toml"))
        throw new ZipRefused(
          nested === undefined
            ? "the bundle has no app.toml at its root"
            : `the bundle has no app.toml at its root (found ${nested.path}: zip the folder's contents, not the folder)`,
          "app.toml"
        )
      }
      const text = utf8(tomlBytes, "app.toml")
      let raw: unknown
      try {
        raw = parseToml(text)
      } catch (error) {
        if (error instanceof TomlError) {
          throw new InvalidBundle({ message: `app.toml (line ${error.line}, column ${error.column}): ${error.message.split("\n")[0]}`, field: "app.toml", line: error.line })
        }
        throw new ZipRefused(`app.toml cannot be parsed: ${(error as Error).message}`, "app.toml")
      }
      const manifest = await Effect.runPromise(Effect.result(decodeManifest(raw, text)))
      if (manifest._tag === "Failure") throw manifest.failure
      const m = manifest.success
      let longDescription: string | undefined
      if (m.longDescription !== undefined) {
        const bytes = kept.get(m.longDescription)
        if (bytes === undefined) throw new InvalidBundle({ message: `app.toml: App.LongDescription names ${m.longDescription}, which is not in the bundle`, field: "App.LongDescription" })
        longDescription = utf8(bytes, m.longDescription)
      }
      const asset = (path: string): BundleAsset | undefined => {
        if (!imageExtension.test(path)) return undefined
        const bytes = kept.get(path)!
        const type = imageType(bytes)
        if (type === undefined) throw new ZipRefused(`${path} is named like an image but is not a png or jpeg`, path)
        return { path, contentType: type, bytes: new Uint8Array(bytes) }
      }
      const statics = [...kept.keys()].filter((path) => path.startsWith("static/")).sort()
      const icon = statics.filter((path) => /^static\/icon/i.test(path)).map(asset).find((a) => a !== undefined)
      const screenshots = statics.filter((path) => /^static\/screenshot/i.test(path)).map(asset).filter((a) => a !== undefined)
      return {
        manifest: m,
        entries,
        icon,
        screenshots,
        longDescription,
        requirements: kept.has("requirements.txt") ? utf8(kept.get("requirements.txt")!, "requirements.txt") : "",
        packages: kept.has("packages.txt") ? utf8(kept.get("packages.txt")!, "packages.txt") : "",
        sha256: createHash("sha256").update(buffer).digest("hex")
      } satisfies BundleContents
    },
    catch: (error) =>
      error instanceof InvalidBundle
        ? error
        : error instanceof ZipRefused
        ? new InvalidBundle({ message: error.message, field: error.entry })
        : new InvalidBundle({ message: `the bundle cannot be read: ${(error as Error).message}` })
  })

/** The zip `BundleReader`. */
export const layer: Layer.Layer<BundleReader> = Layer.succeed(BundleReader, BundleReader.of({ read }))
