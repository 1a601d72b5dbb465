/**
 * Which requests the router takes, read from the raw request target only (never from `Host`):
 *
 * - `/instances/<id>` and `/instances/<id>/…` — an instance, path routing (`<id>` is exactly
 *   `ins_` + 32 hex digits; `/instances/<id>x` is not that instance);
 * - `/a/<alias>` and `/a/<alias>/…` — an alias, redirected to its instance.
 *
 * Anything that could make two components disagree on the target is refused (400) before any
 * lookup: absolute-form targets (`GET http://other/…`), dot segments raw or percent-encoded
 * (`..`, `%2e%2e`, `%252e`), encoded slashes and backslashes, NUL and control characters.
 * @module
 */

export type RouteTarget =
  | { readonly kind: "instance"; readonly id: string; readonly rest: string; readonly bare: boolean }
  | { readonly kind: "alias"; readonly name: string; readonly rest: string }
  | { readonly kind: "bad"; readonly reason: string }
  | { readonly kind: "other" }

const instanceId = /^ins_[0-9a-f]{32}$/
const aliasName = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/

/** True when the raw path (query excluded) hides a dot segment or separator behind encodings. */
export const pathProblem = (path: string): string | undefined => {
  // oxlint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f\\]/.test(path)) return "control characters and backslashes are not allowed in paths"
  let decoded = path
  for (let round = 0; round < 3; round++) {
    if (/%(2f|5c|00)/i.test(decoded)) return "encoded slashes, backslashes and NUL are not allowed in paths"
    const segments = decoded.split("/")
    if (segments.some((segment) => segment === "." || segment === "..")) return "dot segments are not allowed in paths"
    if (!decoded.includes("%")) return undefined
    try {
      const next = decodeURIComponent(decoded.replace(/%(?![0-9a-f]{2})/gi, "%25"))
      if (next === decoded) return undefined
      decoded = next
    } catch {
      return "the path is not valid percent-encoded UTF-8"
    }
  }
  return "the path is encoded too many times"
}

/** Classifies a raw request target (`req.url`). */
export const routeTarget = (url: string | undefined): RouteTarget => {
  if (url === undefined || url === "") return { kind: "bad", reason: "no request target" }
  const onInstances = url.startsWith("/instances")
  const onAlias = url.startsWith("/a/") || url === "/a"
  if (!onInstances && !onAlias) {
    return url.startsWith("/") || url === "*" ? { kind: "other" } : { kind: "bad", reason: "absolute-form request targets are not accepted" }
  }
  const query = url.indexOf("?")
  const path = query === -1 ? url : url.slice(0, query)
  const search = query === -1 ? "" : url.slice(query)
  if (onInstances) {
    if (path === "/instances" || path === "/instances/") return { kind: "other" }
    if (!path.startsWith("/instances/")) return { kind: "other" }
    const problem = pathProblem(path)
    if (problem !== undefined) return { kind: "bad", reason: problem }
    const after = path.slice("/instances/".length)
    const slash = after.indexOf("/")
    const id = slash === -1 ? after : after.slice(0, slash)
    if (!instanceId.test(id)) return { kind: "bad", reason: "not an instance id" }
    return { kind: "instance", id, rest: (slash === -1 ? "" : after.slice(slash)) + search, bare: slash === -1 }
  }
  const problem = pathProblem(path)
  if (problem !== undefined) return { kind: "bad", reason: problem }
  const after = path.slice(3)
  const slash = after.indexOf("/")
  const name = slash === -1 ? after : after.slice(0, slash)
  if (!aliasName.test(name)) return { kind: "bad", reason: "not an alias name" }
  return { kind: "alias", name, rest: (slash === -1 ? "/" : after.slice(slash)) + search }
}
