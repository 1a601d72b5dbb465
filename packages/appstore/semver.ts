/**
 * Semantic versions (semver.org 2.0.0) as app versions use them, on effect's `SemVer`: parsing
 * and precedence, so the catalog can name an app's latest version. Build metadata (`+…`) is kept
 * but ignored for precedence, as the specification says.
 *
 * @example
 * ```ts
 * import { compareSemver, isSemver } from "@aquifer/appstore"
 * isSemver("1.2.3-rc.1+build.5") // true
 * compareSemver("1.10.0", "1.9.9") // 1
 * ```
 * @module
 */
import { Result, SemVer } from "effect"

const parse = (text: string): SemVer.SemVer | undefined => {
  if (text.length > 128) return undefined
  const parsed = SemVer.parse(text)
  return Result.isSuccess(parsed) ? parsed.success : undefined
}

/** True when `text` is a semantic version. */
export const isSemver = (text: string): boolean => parse(text) !== undefined

/** Precedence of two versions: -1, 0 or 1. Text that is not semver sorts before any version. */
export const compareSemver = (a: string, b: string): number => {
  const left = parse(a)
  const right = parse(b)
  if (left === undefined || right === undefined) {
    return left === right ? (a < b ? -1 : a > b ? 1 : 0) : left === undefined ? -1 : 1
  }
  return SemVer.Order(left, right)
}
