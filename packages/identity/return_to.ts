/**
 * Where a browser may be sent after signing in or out: only a path of this very origin. Anything
 * that a browser could read as another origin — `//evil.example`, `/\evil.example`,
 * `https:evil.example`, `%2F%2Fevil.example` once decoded, control characters — becomes `/`.
 *
 * @example
 * ```ts
 * import { safeReturnTo } from "@aquifer/identity"
 * safeReturnTo("/apps?tag=ml#top") // "/apps?tag=ml#top"
 * safeReturnTo("//evil.example")   // "/"
 * ```
 * @module
 */

const probeOrigin = "http://aquifer.invalid"

const hasControlOrBackslash = (text: string): boolean => {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x20 || code === 0x7f || code === 0x5c) return true
  }
  return false
}

/** A same-origin relative target (path, query, fragment), or `/` when `target` is anything else. */
export const safeReturnTo = (target: string | undefined | null): string => {
  if (typeof target !== "string" || target.length === 0 || target.length > 2048) return "/"
  // Browsers treat `\` like `/` and drop tabs and newlines, so either could turn a path into a host.
  if (!target.startsWith("/") || target.startsWith("//") || hasControlOrBackslash(target)) return "/"
  let decoded: string
  try {
    decoded = decodeURIComponent(target)
  } catch {
    return "/"
  }
  if (decoded.startsWith("//") || hasControlOrBackslash(decoded)) return "/"
  let url: URL
  try {
    url = new URL(target, probeOrigin)
  } catch {
    return "/"
  }
  if (url.origin !== probeOrigin) return "/"
  return `${url.pathname}${url.search}${url.hash}`
}
