/**
 * Semantic versions (semver.org 2.0.0) as app versions use them: parsing and precedence, so the
 * catalog can name an app's latest version. Build metadata (`+…`) is kept but ignored for
 * precedence, as the specification says.
 *
 * @example
 * ```ts
 * import { compareSemver, isSemver } from "@aquifer/appstore"
 * isSemver("1.2.3-rc.1+build.5") // true
 * compareSemver("1.10.0", "1.9.9") // 1
 * ```
 * @module
 */

const pattern =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/

interface Parsed {
  readonly core: readonly [bigint, bigint, bigint]
  readonly pre: ReadonlyArray<string>
}

const parse = (text: string): Parsed | undefined => {
  const match = pattern.exec(text)
  if (match === null) return undefined
  return {
    core: [BigInt(match[1]!), BigInt(match[2]!), BigInt(match[3]!)],
    pre: match[4] === undefined ? [] : match[4].split(".")
  }
}

/** True when `text` is a semantic version. */
export const isSemver = (text: string): boolean => text.length <= 128 && pattern.test(text)

const comparePart = (a: string, b: string): number => {
  const numericA = /^\d+$/.test(a)
  const numericB = /^\d+$/.test(b)
  if (numericA && numericB) return BigInt(a) === BigInt(b) ? 0 : BigInt(a) < BigInt(b) ? -1 : 1
  if (numericA) return -1
  if (numericB) return 1
  return a === b ? 0 : a < b ? -1 : 1
}

/** Precedence of two versions: -1, 0 or 1. Text that is not semver sorts before any version. */
export const compareSemver = (a: string, b: string): number => {
  const left = parse(a)
  const right = parse(b)
  if (left === undefined || right === undefined) return left === right ? (a < b ? -1 : a > b ? 1 : 0) : left === undefined ? -1 : 1
  for (let i = 0; i < 3; i++) {
    if (left.core[i]! !== right.core[i]!) return left.core[i]! < right.core[i]! ? -1 : 1
  }
  if (left.pre.length === 0 || right.pre.length === 0) {
    return left.pre.length === right.pre.length ? 0 : left.pre.length === 0 ? 1 : -1
  }
  for (let i = 0; i < Math.min(left.pre.length, right.pre.length); i++) {
    const order = comparePart(left.pre[i]!, right.pre[i]!)
    if (order !== 0) return order
  }
  return left.pre.length === right.pre.length ? 0 : left.pre.length < right.pre.length ? -1 : 1
}
