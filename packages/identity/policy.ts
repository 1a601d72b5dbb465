/**
 * The one authorization policy of Aquifer: "may this caller do this action on this resource?".
 * Every domain (apps, instances, engines, models, deployments, Drive buckets, secrets, platform
 * tokens, the platform itself) asks here; owner, visibility, role, group and token-scope rules
 * live in this file and nowhere else.
 *
 * The rules, by the `rule` each action declares in {@link catalogue}:
 * - `create`: a kind-level action (no existing resource). Full users and admins; never visitors.
 * - `create-any`: a kind-level action any signed-in principal may take (visitors included).
 * - `view`: the owner, an admin, or whoever the resource is visible to: `PUBLIC` — anyone, even
 *   without signing in; `ALL_USERS` — every signed-in principal; `PRIVATE` — the principals and
 *   groups in `sharedWith`.
 * - `launch`: as `view`, and the caller is not a visitor (visitors use, they do not start).
 * - `run`: as `view` (visitors included): starting one's own instance of an app shared with
 *   one is using it; the App Store holds visitors to a lower instance limit.
 * - `contribute`: as `manage`, or a principal the resource is shared with for writing
 *   (`writableBy`, visitors included: a read-write share is something shared with them).
 * - `manage`: the owner (unless a visitor now) or an admin.
 * - `logs`: as `manage`: visitors never see logs, even of what they own.
 * - `private`: as `manage`, and visibility and shares are ignored (secrets are never shared).
 * - `owner-only`: the owner (unless a visitor now); not even an admin (using a secret in a
 *   workload would hand its value to whoever runs it).
 * - `self`: the owner whatever their role, or an admin (a user's own platform tokens).
 * - `admin`: admins only.
 *
 * Across all rules: the owner is matched by principal key (issuer + subject), never by e-mail;
 * a caller that came with a platform token is limited by its scopes (`read` allows actions whose
 * effect is `read`; `write` allows every effect; admin powers need the `admin` scope too); an
 * unknown kind or action is denied. The policy is pure: it never reads the clock or a store.
 *
 * @example
 * ```ts
 * import { Principal } from "@aquifer/core"
 * import { can } from "@aquifer/identity"
 * const alice = Principal.make({ issuer: "https://id", subject: "a", name: "Alice", groups: [], roles: ["full"] })
 * can({ principal: alice }, "launch", { kind: "app", owner: "https://id#b", visibility: "ALL_USERS" }) // true
 * ```
 * @module
 */
import { Effect, Schema } from "effect"
import { Forbidden, NotFound, type Principal, Unauthenticated } from "@aquifer/core"

/** Who may see a resource beyond its owner and admins. */
export const Visibility = Schema.Literals(["PRIVATE", "ALL_USERS", "PUBLIC"])
export type Visibility = typeof Visibility.Type

/** What a platform token allows; a session or OIDC bearer token carries no scope limit. */
export const TokenScope = Schema.Literals(["read", "write", "admin"])
export type TokenScope = typeof TokenScope.Type

/** How an action is judged; see the module documentation. */
export type Rule = "create" | "create-any" | "view" | "launch" | "run" | "manage" | "contribute" | "logs" | "private" | "owner-only" | "self" | "admin"

/** One action of a resource kind: its rule, and whether it only reads (for token scopes). */
export interface ActionSpec {
  readonly rule: Rule
  readonly effect: "read" | "write"
}

const read = <R extends Rule>(rule: R) => ({ rule, effect: "read" }) as const
const write = <R extends Rule>(rule: R) => ({ rule, effect: "write" }) as const

/**
 * Every resource kind and every action of it. A new kind or action is added here, and the
 * policy matrix test (`policy_test.ts`) fails until its expected rows are written there.
 */
export const catalogue = {
  /** An app of the App Store (bundle + versions). */
  app: {
    import: write("create"),
    read: read("view"),
    launch: write("run"),
    update: write("manage"),
    delete: write("manage"),
    share: write("manage"),
    pin: write("admin")
  },
  /** A running app instance, reached through the router. */
  instance: {
    read: read("view"),
    use: write("view"),
    // Its owner may stop what they started, visitors included (they may start instances).
    manage: write("self"),
    delete: write("self"),
    logs: read("logs")
  },
  /** An AI engine (H2O-3, Driverless AI, any HTTP engine). */
  engine: {
    create: write("create"),
    read: read("view"),
    use: write("view"),
    manage: write("manage"),
    delete: write("manage"),
    logs: read("logs")
  },
  /** A registered model (with its versions and artifacts). */
  model: {
    create: write("create"),
    read: read("view"),
    update: write("manage"),
    delete: write("manage"),
    deploy: write("launch")
  },
  /** A model deployment: a scoring endpoint. */
  deployment: {
    read: read("view"),
    score: write("view"),
    manage: write("manage"),
    delete: write("manage"),
    logs: read("logs")
  },
  /** A Drive bucket. */
  bucket: {
    create: write("create"),
    read: read("view"),
    write: write("contribute"),
    delete: write("manage"),
    share: write("manage")
  },
  /**
   * An App Store tag. Admins make and change tags; `assign` (put it on an app or take it off,
   * besides managing the app) is open to non-visitors the tag is visible to: describe a tag
   * with admin roles as PRIVATE shared with those groups, one without as ALL_USERS.
   */
  tag: {
    create: write("admin"),
    update: write("admin"),
    delete: write("admin"),
    assign: write("launch")
  },
  /** A named secret; values are never returned by any action. */
  secret: {
    create: write("create"),
    read: read("private"),
    update: write("private"),
    delete: write("private"),
    use: write("owner-only")
  },
  /** A platform token for the CLI and SDKs. */
  token: {
    create: write("create-any"),
    read: read("self"),
    revoke: write("self")
  },
  /** The platform itself: users, settings, the audit log. */
  platform: {
    administer: write("admin"),
    audit: read("admin")
  }
} as const satisfies Record<string, Record<string, ActionSpec>>

export type ResourceKind = keyof typeof catalogue
export type Action<K extends ResourceKind = ResourceKind> = K extends ResourceKind ? keyof (typeof catalogue)[K] & string : never

/** The facts the policy needs about a resource; kind-level actions pass only `kind`. */
export interface ResourceRef<K extends ResourceKind = ResourceKind> {
  readonly kind: K
  readonly id?: string | undefined
  /** The owner's principal key (`issuer#subject`). */
  readonly owner?: string | undefined
  /** Absent: `PRIVATE`. */
  readonly visibility?: Visibility | undefined
  /** Principal keys and group names a `PRIVATE` resource is shared with. */
  readonly sharedWith?: Sharing | undefined
  /** Principal keys and group names that may also write (`contribute` actions). */
  readonly writableBy?: Sharing | undefined
}

/** A set of principals, by principal key or group name. */
export interface Sharing {
  readonly users?: ReadonlyArray<string> | undefined
  readonly groups?: ReadonlyArray<string> | undefined
}

/** Who asks: a principal, limited by the scopes of the platform token it came with, if any. */
export interface Caller {
  readonly principal: Principal
  /** Present only for platform tokens; absent means the principal's full rights. */
  readonly scopes?: ReadonlyArray<TokenScope> | undefined
}

/** The answer, with a short reason fit for an audit record (never for the client). */
export interface Decision {
  readonly allowed: boolean
  readonly reason: string
}

const allow = (reason: string): Decision => ({ allowed: true, reason })
const deny = (reason: string): Decision => ({ allowed: false, reason })

/** The spec of `kind.action`, or undefined for anything not in the catalogue. */
export const actionSpec = (kind: string, action: string): ActionSpec | undefined => {
  const actions = Object.hasOwn(catalogue, kind) ? (catalogue as Record<string, Record<string, ActionSpec>>)[kind] : undefined
  return actions !== undefined && Object.hasOwn(actions, action) ? actions[action] : undefined
}

const scopeAllows = (caller: Caller, effect: "read" | "write"): boolean =>
  caller.scopes === undefined || caller.scopes.includes("write") || (effect === "read" && caller.scopes.includes("read"))

const hasAdminPower = (caller: Caller): boolean =>
  caller.principal.isAdmin && (caller.scopes === undefined || caller.scopes.includes("admin"))

const isOwner = (caller: Caller, resource: ResourceRef): boolean =>
  resource.owner !== undefined && resource.owner === caller.principal.key

const isIn = (caller: Caller, sharing: Sharing | undefined): boolean =>
  sharing !== undefined && (
    sharing.users?.includes(caller.principal.key) === true ||
    sharing.groups?.some((group) => caller.principal.groups.includes(group)) === true
  )

const isVisibleTo = (caller: Caller, resource: ResourceRef): boolean => {
  const visibility = resource.visibility ?? "PRIVATE"
  return visibility === "PUBLIC" || visibility === "ALL_USERS" || isIn(caller, resource.sharedWith)
}

/** Decides whether `caller` (undefined: not signed in) may do `action` on `resource`. */
export const decide = <K extends ResourceKind>(
  caller: Caller | undefined,
  action: Action<K>,
  resource: ResourceRef<K>
): Decision => {
  const spec = actionSpec(resource.kind, action)
  if (spec === undefined) return deny(`unknown action ${String(resource.kind)}.${action}`)
  if (caller === undefined) {
    return (spec.rule === "view" && resource.visibility === "PUBLIC")
      ? allow("public resource")
      : deny("not signed in")
  }
  if (!scopeAllows(caller, spec.effect)) return deny(`token scopes do not allow ${spec.effect}`)
  const admin = hasAdminPower(caller)
  const owner = isOwner(caller, resource)
  const visitor = caller.principal.isVisitor
  switch (spec.rule) {
    case "create":
      return visitor ? deny("visitors cannot create") : allow("full access")
    case "create-any":
      return allow("signed in")
    case "admin":
      return admin ? allow("admin") : deny("admins only")
    case "self":
      return owner ? allow("owner") : admin ? allow("admin") : deny("not the owner")
    case "owner-only":
      return owner && !visitor ? allow("owner") : deny("owner only")
    case "manage":
    case "contribute":
    case "logs":
    case "private":
      if (owner && !visitor) return allow("owner")
      if (admin) return allow("admin")
      if (spec.rule === "contribute" && isIn(caller, resource.writableBy)) return allow("shared for writing")
      return deny(visitor ? "visitors cannot do this" : "not the owner")
    case "view":
    case "run":
    case "launch": {
      if (spec.rule === "launch" && visitor) return deny("visitors cannot start anything")
      if (owner) return allow("owner")
      if (admin) return allow("admin")
      return isVisibleTo(caller, resource) ? allow(`visible (${resource.visibility ?? "PRIVATE"})`) : deny("not shared")
    }
  }
}

/** True when {@link decide} allows. */
export const can = <K extends ResourceKind>(caller: Caller | undefined, action: Action<K>, resource: ResourceRef<K>): boolean =>
  decide(caller, action, resource).allowed

/**
 * Succeeds when allowed; otherwise fails with `Unauthenticated` (no caller: signing in may help)
 * or `Forbidden` (signed in, not allowed).
 */
export const authorize = <K extends ResourceKind>(
  caller: Caller | undefined,
  action: Action<K>,
  resource: ResourceRef<K>
): Effect.Effect<void, Forbidden | Unauthenticated> => {
  const decision = decide(caller, action, resource)
  if (decision.allowed) return Effect.void
  return caller === undefined
    ? Effect.fail(new Unauthenticated({ message: "sign in to continue" }))
    : Effect.fail(new Forbidden({ message: `you may not ${action} this ${resource.kind}` }))
}

/**
 * As {@link authorize}, but a caller who may not even `read` the resource learns nothing of its
 * existence: `NotFound` instead of `Forbidden`. Use it on routes that take a resource id.
 */
export const authorizeOrHide = <K extends ResourceKind>(
  caller: Caller | undefined,
  action: Action<K>,
  resource: ResourceRef<K> & { readonly id: string }
): Effect.Effect<void, Forbidden | Unauthenticated | NotFound> => {
  if (can(caller, action, resource)) return Effect.void
  const readAction = (actionSpec(resource.kind, "read") === undefined ? action : "read") as Action<K>
  if (caller !== undefined && !can(caller, readAction, resource)) {
    return Effect.fail(new NotFound({ resource: resource.kind, id: resource.id }))
  }
  return authorize(caller, action, resource)
}
