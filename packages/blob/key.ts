/**
 * What a blob key, a metadata name and a content type may be — in one place, so every adapter
 * and the Drive (which takes keys from S3 clients) accept and refuse exactly the same inputs.
 *
 * A key is a non-empty, well-formed Unicode string of at most {@link maxKeyBytes} bytes of UTF-8.
 * `/` separates segments; a key may end with `/` (an S3 "folder marker") and may hold empty
 * segments (`a//b`), but:
 * - it may not start with `/` (absolute paths);
 * - no segment may be `.` or `..` (no way to climb out of a store's root, and URL parsers
 *   collapse such segments);
 * - it may not contain a backslash (a path separator on some systems), NUL or any other
 *   control character (U+0000–U+001F, U+007F), nor a lone surrogate;
 * - no segment may exceed {@link maxSegmentBytes} bytes of UTF-8 (the file-name limit of
 *   every common file system, so the fs adapter can map segments to directories).
 *
 * Keys compare in Unicode code point order (the same as the byte order of their UTF-8), which is
 * the order `list` returns them in: see {@link compareKeys}.
 *
 * @example
 * ```ts
 * import { keyProblem, validateKey } from "@aquifer/blob"
 * keyProblem("photos/2026/cat.jpg") // undefined: valid
 * keyProblem("../etc/passwd")      // "a segment may not be \".\" or \"..\""
 * const checked = validateKey("a\\b") // Effect failing with InvalidKey
 * ```
 * @module
 */
import { Effect } from "effect"
import { InvalidArgument, InvalidKey } from "./errors.ts"

/** The longest key, in bytes of UTF-8 (S3's and Azure's limit). */
export const maxKeyBytes = 1024
/** The longest `/`-separated segment of a key, in bytes of UTF-8. */
export const maxSegmentBytes = 255
/** The largest user metadata, as the sum of the bytes of every name and value (S3's limit). */
export const maxMetadataBytes = 2048
/** Metadata names starting with this are reserved to adapters. */
export const reservedMetadataPrefix = "aquifer-"
/** The content type of a blob stored without one. */
export const defaultContentType = "application/octet-stream"

/** The number of bytes `text` takes in UTF-8 (lone surrogates count as U+FFFD, 3 bytes). */
export const utf8Length = (text: string): number => {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit < 0x80) bytes += 1
    else if (unit < 0x800) bytes += 2
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4
        i++
      } else bytes += 3
    } else bytes += 3
  }
  return bytes
}

// eslint-disable-next-line no-control-regex
const controlCharacter = /[\u0000-\u001f\u007f]/

const characterProblem = (text: string, what: string): string | undefined => {
  if (!text.isWellFormed()) return `${what} must be well-formed Unicode (no lone surrogates)`
  if (utf8Length(text) > maxKeyBytes) return `${what} may be at most ${maxKeyBytes} bytes of UTF-8`
  if (text.includes("\u0000")) return `${what} may not contain NUL`
  if (controlCharacter.test(text)) return `${what} may not contain control characters`
  if (text.includes("\\")) return `${what} may not contain a backslash`
  if (text.startsWith("/")) return `${what} may not start with "/"`
  return undefined
}

const segmentProblem = (segment: string, complete: boolean): string | undefined => {
  if (complete && (segment === "." || segment === "..")) return "a segment may not be \".\" or \"..\""
  if (utf8Length(segment) > maxSegmentBytes) return `a segment may be at most ${maxSegmentBytes} bytes of UTF-8`
  return undefined
}

/** Why `key` is not a valid blob key, or `undefined` when it is. */
export const keyProblem = (key: unknown): string | undefined => {
  if (typeof key !== "string") return "a key must be a string"
  if (key.length === 0) return "a key may not be empty"
  const problem = characterProblem(key, "a key")
  if (problem !== undefined) return problem
  for (const segment of key.split("/")) {
    const bad = segmentProblem(segment, true)
    if (bad !== undefined) return bad
  }
  return undefined
}

/** True when `key` is a valid blob key. */
export const isValidKey = (key: unknown): key is string => keyProblem(key) === undefined

/** Succeeds with `key` when it is valid, fails with `InvalidKey` saying why otherwise. */
export const validateKey = (key: string): Effect.Effect<string, InvalidKey> => {
  const reason = keyProblem(key)
  return reason === undefined ? Effect.succeed(key) : Effect.fail(new InvalidKey({ key: String(key), reason }))
}

/**
 * Why `prefix` cannot start any valid key (so `list` refuses it), or `undefined`. The empty
 * prefix is valid; the last segment of a prefix may be partial, so `"a/."` (matching `a/.x`) is
 * valid while `"../"` is not.
 */
export const prefixProblem = (prefix: unknown): string | undefined => {
  if (typeof prefix !== "string") return "a prefix must be a string"
  if (prefix === "") return undefined
  const problem = characterProblem(prefix, "a prefix")
  if (problem !== undefined) return problem
  const segments = prefix.split("/")
  for (let i = 0; i < segments.length; i++) {
    const bad = segmentProblem(segments[i]!, i < segments.length - 1)
    if (bad !== undefined) return bad
  }
  return undefined
}

/**
 * Compares keys in Unicode code point order, which is the byte order of their UTF-8 (and the
 * order of S3 listings). JavaScript's `<` compares UTF-16 code units instead and puts U+E000–U+FFFF
 * after the astral planes; this does not.
 */
export const compareKeys = (a: string, b: string): number => {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    let x = a.charCodeAt(i)
    let y = b.charCodeAt(i)
    if (x === y) continue
    if (x >= 0xd800) x = x >= 0xe000 ? x - 0x800 : x + 0x2000
    if (y >= 0xd800) y = y >= 0xe000 ? y - 0x800 : y + 0x2000
    return x - y
  }
  return a.length - b.length
}

const metadataName = /^[a-z0-9][a-z0-9_-]*$/
const printable = /^[\u0020-\u007e]*$/

/**
 * Why user metadata is not acceptable, or `undefined`. Names are lower-case ASCII letters,
 * digits, `-` and `_`, starting with a letter or digit, not starting with `aquifer-`; values are
 * printable ASCII without leading or trailing spaces (HTTP headers carry them, and S3 trims
 * them); names and values together take at most {@link maxMetadataBytes} bytes.
 */
export const metadataProblem = (metadata: unknown): string | undefined => {
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) return "metadata must be a record of strings"
  let bytes = 0
  for (const [name, value] of Object.entries(metadata)) {
    if (!metadataName.test(name)) return `metadata name ${JSON.stringify(name)} must be lower-case letters, digits, "-" or "_"`
    if (name.startsWith(reservedMetadataPrefix)) return `metadata names starting with "${reservedMetadataPrefix}" are reserved`
    if (typeof value !== "string" || !printable.test(value) || value.trim() !== value) {
      return `metadata value of ${JSON.stringify(name)} must be printable ASCII without leading or trailing spaces`
    }
    bytes += name.length + value.length
  }
  return bytes > maxMetadataBytes ? `metadata may take at most ${maxMetadataBytes} bytes` : undefined
}

/** Why a content type is not acceptable (empty, over 255 characters, not printable ASCII), or `undefined`. */
export const contentTypeProblem = (contentType: unknown): string | undefined =>
  typeof contentType !== "string" || contentType.length === 0 || contentType.length > 255 ||
    !printable.test(contentType) || contentType.trim() !== contentType
    ? "a content type must be 1 to 255 printable ASCII characters without leading or trailing spaces"
    : undefined

/** Checks the content type and metadata of a write; fails with `InvalidArgument`. */
export const validateAttributes = (
  options: { readonly contentType?: string | undefined; readonly metadata?: Readonly<Record<string, string>> | undefined }
): Effect.Effect<void, InvalidArgument> => {
  const contentType = options.contentType === undefined ? undefined : contentTypeProblem(options.contentType)
  if (contentType !== undefined) return Effect.fail(new InvalidArgument({ field: "contentType", message: contentType }))
  const metadata = options.metadata === undefined ? undefined : metadataProblem(options.metadata)
  if (metadata !== undefined) return Effect.fail(new InvalidArgument({ field: "metadata", message: metadata }))
  return Effect.void
}
