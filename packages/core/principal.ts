/**
 * Who is asking. Every request, whatever it came through (browser session, bearer token,
 * platform token, S3 credentials), resolves to one `Principal`. The identity is the pair
 * issuer + subject: two accounts with the same e-mail and different subjects are two users.
 *
 * Roles are Aquifer's own three, mapped from the issuer's claims by the identity adapter:
 * - `admin`: manages the platform and sees everything.
 * - `full`: full access, may import apps, run engines, deploy models, keep secrets.
 * - `visitor`: may only use what is shared with them; cannot import apps, see secrets or logs.
 *
 * @example
 * ```ts
 * import { Principal } from "@aquifer/core"
 * const alice = Principal.make({ issuer: "https://id.example", subject: "a1", name: "Alice",
 *   email: "alice@example.com", groups: ["ds"], roles: ["full"] })
 * alice.key // "https://id.example#a1"
 * ```
 * @module
 */
import { Schema } from "effect"

/** Aquifer's roles, from most to least privileged. */
export const Role = Schema.Literals(["admin", "full", "visitor"])
export type Role = typeof Role.Type

export class Principal extends Schema.Class<Principal>("Principal")({
  /** The OIDC issuer that vouched for this principal (exact `iss`). */
  issuer: Schema.String,
  /** The issuer's subject (`sub`): stable, never reassigned. */
  subject: Schema.String,
  name: Schema.String,
  email: Schema.optional(Schema.String),
  groups: Schema.Array(Schema.String),
  roles: Schema.Array(Role)
}) {
  /** The identity key: issuer + subject. Use it (never `email`) to own and match resources. */
  get key(): string {
    return `${this.issuer}#${this.subject}`
  }
  get isAdmin(): boolean {
    return this.roles.includes("admin")
  }
  /** A visitor is someone holding no role above `visitor`. */
  get isVisitor(): boolean {
    return !this.roles.includes("admin") && !this.roles.includes("full")
  }
}
