/**
 * The headers an instance receives and the client gets back.
 *
 * Upstream, every header a client could use to claim an identity is dropped — `X-Aquifer-*`,
 * the `X-Forwarded-*` family, `X-Auth-Request-*`, `Remote-User` and the like — as are hop-by-hop
 * headers, an `Authorization` the router itself consumed, and the platform's own cookies. Then the
 * router adds what it vouches for (see {@link identityHeaders}). Downstream, hop-by-hop headers
 * go, and so does any `Set-Cookie` of an app that would set or clear a platform cookie.
 * @module
 */
import type { Authenticated } from "@aquifer/identity"
import { Redacted } from "effect"
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http"

/** The identity headers an instance receives (values percent-encoded UTF-8 where noted). */
export const identityHeaderNames = {
  subject: "x-aquifer-user-subject",
  issuer: "x-aquifer-user-issuer",
  /** Percent-encoded UTF-8. */
  name: "x-aquifer-user-name",
  email: "x-aquifer-user-email",
  /** Comma-separated, each percent-encoded. */
  groups: "x-aquifer-user-groups",
  roles: "x-aquifer-user-roles",
  /** The issuer's access token, refreshed before it expires. */
  accessToken: "x-aquifer-access-token"
} as const

const hopByHop = new Set([
  "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers", "upgrade", "http2-settings"
])

const spoofable = (name: string): boolean =>
  name.startsWith("x-aquifer-") || name.startsWith("x-forwarded-") || name.startsWith("x-auth-request-") ||
  name === "forwarded" || name === "x-real-ip" || name === "remote-user" || name === "x-remote-user" ||
  name === "x-remote-groups" || name === "x-remote-email" || name === "x-user" || name === "x-email" ||
  name === "x-webauth-user" || name === "x-ms-client-principal" || name === "x-ms-client-principal-name"

const encode = (value: string) => encodeURIComponent(value)

/** The headers that carry the caller's identity (none for anonymous callers). */
export const identityHeaders = (auth: Authenticated | undefined): Record<string, string> => {
  if (auth === undefined) return {}
  const p = auth.caller.principal
  const out: Record<string, string> = {
    [identityHeaderNames.subject]: encode(p.subject),
    [identityHeaderNames.issuer]: encode(p.issuer),
    [identityHeaderNames.name]: encode(p.name),
    [identityHeaderNames.groups]: p.groups.map(encode).join(","),
    [identityHeaderNames.roles]: p.roles.join(",")
  }
  if (p.email !== undefined) out[identityHeaderNames.email] = encode(p.email)
  if (auth.accessToken !== undefined) out[identityHeaderNames.accessToken] = Redacted.value(auth.accessToken)
  return out
}

/** Removes the named cookies from a `Cookie` header; undefined when nothing is left. */
export const withoutCookies = (header: string, names: ReadonlySet<string>): string | undefined => {
  const kept = header.split(";").map((part) => part.trim()).filter((part) => {
    if (part === "") return false
    const eq = part.indexOf("=")
    return !names.has((eq === -1 ? part : part.slice(0, eq)).trim())
  })
  return kept.length === 0 ? undefined : kept.join("; ")
}

export interface UpstreamOptions {
  readonly auth: Authenticated | undefined
  /** The bearer credential was the router's to consume: it does not go to the app. */
  readonly dropAuthorization: boolean
  readonly platformCookies: ReadonlySet<string>
  readonly clientAddress: string | undefined
  readonly proto: "http" | "https"
  readonly prefix: string
  /** Keep `Connection: Upgrade` / `Upgrade` (WebSocket). */
  readonly upgrade: boolean
}

/** The request headers for the instance. */
export const upstreamHeaders = (headers: IncomingHttpHeaders, options: UpstreamOptions): OutgoingHttpHeaders => {
  const out: OutgoingHttpHeaders = {}
  const listed = new Set(
    String(headers.connection ?? "").toLowerCase().split(",").map((token) => token.trim()).filter((token) => token !== "" && token !== "upgrade")
  )
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined || hopByHop.has(name) || listed.has(name) || spoofable(name)) continue
    if (name === "authorization" && options.dropAuthorization) continue
    if (name === "cookie") {
      const kept = withoutCookies(Array.isArray(value) ? value.join("; ") : value, options.platformCookies)
      if (kept !== undefined) out.cookie = kept
      continue
    }
    out[name] = value
  }
  if (options.upgrade) {
    out.connection = "Upgrade"
    out.upgrade = headers.upgrade ?? "websocket"
  }
  if (options.clientAddress !== undefined) out["x-forwarded-for"] = options.clientAddress
  out["x-forwarded-proto"] = options.proto
  if (headers.host !== undefined) out["x-forwarded-host"] = headers.host
  out["x-forwarded-prefix"] = options.prefix
  Object.assign(out, identityHeaders(options.auth))
  return out
}

const setsPlatformCookie = (line: string, names: ReadonlySet<string>) => {
  const eq = line.indexOf("=")
  return names.has((eq === -1 ? line : line.slice(0, eq)).trim())
}

/** The response headers for the client. */
export const downstreamHeaders = (headers: IncomingHttpHeaders, platformCookies: ReadonlySet<string>): OutgoingHttpHeaders => {
  const out: OutgoingHttpHeaders = {}
  const listed = new Set(String(headers.connection ?? "").toLowerCase().split(",").map((token) => token.trim()))
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined || hopByHop.has(name) || listed.has(name)) continue
    if (name === "set-cookie") {
      const kept = (value as Array<string>).filter((line) => !setsPlatformCookie(line, platformCookies))
      if (kept.length > 0) out[name] = kept
      continue
    }
    out[name] = value
  }
  return out
}
