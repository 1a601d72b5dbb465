import { Principal, type Role } from "@aquifer/core"

/** How the issuer's claims become Aquifer's roles and groups. */
export interface ClaimMapping {
  /** Dotted claim paths holding role names; `${client_id}` is replaced by the client id. */
  readonly rolesClaims: ReadonlyArray<string>
  /** Dotted claim path holding group names (Keycloak full paths lose their leading `/`). */
  readonly groupsClaim: string
  /** Issuer role or group names that make an Aquifer admin / full user. */
  readonly adminRoles: ReadonlyArray<string>
  readonly fullRoles: ReadonlyArray<string>
  /** The role of a principal none of the names above match. */
  readonly defaultRole: Role
}

const at = (claims: Record<string, unknown>, path: string): unknown => {
  let value: unknown = claims
  for (const part of path.split(".")) {
    if (typeof value !== "object" || value === null || Array.isArray(value) || !Object.hasOwn(value, part)) return undefined
    value = (value as Record<string, unknown>)[part]
  }
  return value
}

const strings = (value: unknown): Array<string> =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === "string" && item.length > 0 && item.length <= 256) : []

const text = (value: unknown): string | undefined => typeof value === "string" && value.length > 0 && value.length <= 512 ? value : undefined

/**
 * The principal an access token vouches for. `fallback` (the ID token's claims at sign-in)
 * fills in a name or e-mail the access token does not carry.
 */
export const principalFromClaims = (
  claims: Record<string, unknown>,
  mapping: ClaimMapping,
  clientId: string,
  fallback: Record<string, unknown> = {}
): Principal => {
  const subject = claims.sub as string
  const groups = [...new Set(strings(at(claims, mapping.groupsClaim)).map((group) => group.replace(/^\//, "")))].sort()
  const issuerRoles = new Set(mapping.rolesClaims.flatMap((path) => strings(at(claims, path.replaceAll("${client_id}", clientId)))))
  const matches = (names: ReadonlyArray<string>) => names.some((name) => issuerRoles.has(name) || groups.includes(name))
  const roles: Array<Role> = []
  if (matches(mapping.adminRoles)) roles.push("admin")
  if (matches(mapping.fullRoles)) roles.push("full")
  if (roles.length === 0) roles.push(mapping.defaultRole)
  const name = text(claims.name) ?? text(fallback.name) ?? text(claims.preferred_username) ?? text(fallback.preferred_username) ?? subject
  return Principal.make({
    issuer: claims.iss as string,
    subject,
    name,
    email: text(claims.email) ?? text(fallback.email),
    groups,
    roles
  })
}
