import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Principal, type Role } from "@aquifer/core"
import { type Action, authorize, authorizeOrHide, type Caller, can, catalogue, decide, type ResourceKind, type ResourceRef, type TokenScope, type Visibility } from "./mod.ts"

const issuer = "https://id.example"
const principal = (subject: string, roles: ReadonlyArray<Role>, groups: ReadonlyArray<string> = []) =>
  Principal.make({ issuer, subject, name: subject, email: `${subject}@example.com`, groups: [...groups], roles: [...roles] })
const caller = (p: Principal, scopes?: ReadonlyArray<TokenScope>): Caller => ({ principal: p, scopes })

const owner = principal("owner", ["full"])
const ownerKey = owner.key

/**
 * The columns of the matrix. `exOwner` is the owner after an admin demoted them to visitor;
 * `ownerRO` is the owner through a read-only platform token; `adminT` is an admin through a
 * token without the `admin` scope.
 */
const columns: ReadonlyArray<readonly [string, Caller | undefined]> = [
  ["anon", undefined],
  ["visitor", caller(principal("vis", ["visitor"]))],
  ["visitorG", caller(principal("visg", ["visitor"], ["team"]))],
  ["owner", caller(owner)],
  ["exOwner", caller(principal("owner", ["visitor"]))],
  ["ownerRO", caller(owner, ["read"])],
  ["other", caller(principal("other", ["full"]))],
  ["member", caller(principal("member", ["full"], ["team"]))],
  ["admin", caller(principal("root", ["admin"]))],
  ["adminT", caller(principal("root", ["admin"]), ["read", "write"])]
]

type State = "none" | Visibility
type Row = string

//                       anon vis visG own exO ownRO oth mem adm admT
const create: Row      = ".    .   .    Y   .   .     Y   Y   Y   Y"
const viewRead = {
  PRIVATE:   /* */         ".    .   Y    Y   Y   Y     .   Y   Y   .",
  ALL_USERS: /* */         ".    Y   Y    Y   Y   Y     Y   Y   Y   Y",
  PUBLIC:    /* */         "Y    Y   Y    Y   Y   Y     Y   Y   Y   Y"
}
const viewWrite = {
  PRIVATE:   /* */         ".    .   Y    Y   Y   .     .   Y   Y   .",
  ALL_USERS: /* */         ".    Y   Y    Y   Y   .     Y   Y   Y   Y",
  PUBLIC:    /* */         "Y    Y   Y    Y   Y   .     Y   Y   Y   Y"
}
const launch = {
  PRIVATE:   /* */         ".    .   .    Y   .   .     .   Y   Y   .",
  ALL_USERS: /* */         ".    .   .    Y   .   .     Y   Y   Y   Y",
  PUBLIC:    /* */         ".    .   .    Y   .   .     Y   Y   Y   Y"
}
const run = {
  PRIVATE:   /* */         ".    .   Y    Y   Y   .     .   Y   Y   .",
  ALL_USERS: /* */         ".    Y   Y    Y   Y   .     Y   Y   Y   Y",
  PUBLIC:    /* */         ".    Y   Y    Y   Y   .     Y   Y   Y   Y"
}
const everywhere = (row: Row) => ({ PRIVATE: row, ALL_USERS: row, PUBLIC: row })
const manage = everywhere(".    .   .    Y   .   .     .   .   Y   .")
const ownerReads = everywhere(".    .   .    Y   .   Y     .   .   Y   .")
const ownerOnly = everywhere(".    .   .    Y   .   .     .   .   .   .")
const selfRead = everywhere(".    .   .    Y   Y   Y     .   .   Y   .")
const selfWrite = everywhere(".    .   .    Y   Y   .     .   .   Y   .")
const adminOnly: Row   = ".    .   .    .   .   .     .   .   Y   ."

/**
 * Every action of every resource kind, every principal, every resource state: written out,
 * not computed. Kind-level actions and the platform use the state `none` (no owner); actions on
 * an existing resource use a resource owned by `owner` and shared with the group `team`.
 */
const matrix: { readonly [K in ResourceKind]: { readonly [A in Action<K>]: Partial<Record<State, Row>> } } = {
  app: {
    import: { none: create },
    read: viewRead,
    launch: run,
    update: manage,
    delete: manage,
    share: manage,
    pin: everywhere(adminOnly)
  },
  instance: { read: viewRead, use: viewWrite, manage: selfWrite, delete: selfWrite, logs: ownerReads },
  engine: { create: { none: create }, read: viewRead, use: viewWrite, manage, delete: manage, logs: ownerReads },
  model: { create: { none: create }, read: viewRead, update: manage, delete: manage, deploy: launch },
  deployment: { read: viewRead, score: viewWrite, manage, delete: manage, logs: ownerReads },
  bucket: { create: { none: create }, read: viewRead, write: manage, delete: manage, share: manage },
  secret: { create: { none: create }, read: ownerReads, update: manage, delete: manage, use: ownerOnly },
  tag: { create: { none: adminOnly }, update: everywhere(adminOnly), delete: everywhere(adminOnly), assign: launch },
  token: {
    create: { none: ".    Y   Y    Y   Y   .     Y   Y   Y   Y" },
    read: selfRead,
    revoke: selfWrite
  },
  platform: { administer: { none: adminOnly }, audit: { none: adminOnly } }
}

const resourceIn = (kind: ResourceKind, state: State): ResourceRef =>
  state === "none" ? { kind } : { kind, id: "r1", owner: ownerKey, visibility: state, sharedWith: { groups: ["team"] } }

describe("the authorization policy", () => {
  it("has a matrix row set for exactly the kinds and actions of the catalogue (a new kind must add its rows)", () => {
    assert.deepStrictEqual(Object.keys(matrix).sort(), Object.keys(catalogue).sort())
    for (const kind of Object.keys(catalogue) as Array<ResourceKind>) {
      assert.deepStrictEqual(Object.keys(matrix[kind]).sort(), Object.keys(catalogue[kind]).sort(), kind)
      for (const [action, rows] of Object.entries(matrix[kind]) as Array<[string, Partial<Record<State, Row>>]>) {
        const states = Object.keys(rows).sort()
        assert.isTrue(
          states.join() === "none" || states.join() === "ALL_USERS,PRIVATE,PUBLIC",
          `${kind}.${action}: either the state none or all three visibilities`
        )
      }
    }
  })

  it("decides every cell of principals × resource kinds × actions × resource states as written", () => {
    let cells = 0
    const wrong: Array<string> = []
    for (const kind of Object.keys(matrix) as Array<ResourceKind>) {
      for (const [action, rows] of Object.entries(matrix[kind]) as Array<[string, Partial<Record<State, Row>>]>) {
        for (const [state, row] of Object.entries(rows) as Array<[State, Row]>) {
          const expected = row.split(/\s+/)
          assert.strictEqual(expected.length, columns.length, `${kind}.${action} ${state}: one cell per column`)
          columns.forEach(([name, who], i) => {
            cells++
            const allowed = can(who, action as never, resourceIn(kind, state))
            if (allowed !== (expected[i] === "Y")) wrong.push(`${kind}.${action} ${state} ${name}: expected ${expected[i]}`)
          })
        }
      }
    }
    assert.deepStrictEqual(wrong, [])
    assert.isAtLeast(cells, 1000)
  })

  it("matches owners by issuer + subject: same subject at another issuer, or same e-mail, is not the owner", () => {
    const impostor = Principal.make({ issuer: "https://other.example", subject: "owner", name: "owner", email: owner.email, groups: [], roles: ["full"] })
    const sameMail = principal("someone-else", ["full"])
    const secret: ResourceRef<"secret"> = { kind: "secret", id: "s", owner: ownerKey }
    assert.isFalse(can(caller(impostor), "read", secret))
    assert.isFalse(can(caller(Principal.make({ ...sameMail, email: owner.email! })), "read", secret))
    assert.isTrue(can(caller(owner), "read", secret))
  })

  it("shares with a principal key, not with a name or e-mail", () => {
    const bob = principal("bob", ["visitor"])
    const app = (users: Array<string>): ResourceRef<"app"> => ({ kind: "app", id: "a", owner: ownerKey, sharedWith: { users } })
    assert.isTrue(can(caller(bob), "read", app([bob.key])))
    assert.isFalse(can(caller(bob), "read", app(["bob", "bob@example.com"])))
    assert.isTrue(can(caller(bob), "launch", app([bob.key])), "a visitor may start their own instance of a shared app")
    assert.isFalse(can(caller(bob), "launch", app(["bob"])))
    assert.isFalse(can(caller(bob), "deploy", { kind: "model", id: "m", owner: ownerKey, sharedWith: { users: [bob.key] } }), "but not deploy a shared model")
  })

  it("lets principals a bucket is shared with for writing write to it, and nobody else more than read", () => {
    const writer = principal("writer", ["full"])
    const teamVisitor = principal("tv", ["visitor"], ["writers"])
    const reader = principal("reader", ["full"])
    const bucket: ResourceRef<"bucket"> = {
      kind: "bucket",
      id: "b",
      owner: ownerKey,
      sharedWith: { users: [writer.key, reader.key], groups: ["writers"] },
      writableBy: { users: [writer.key], groups: ["writers"] }
    }
    assert.isTrue(can(caller(writer), "write", bucket))
    assert.isTrue(can(caller(teamVisitor), "write", bucket))
    assert.isFalse(can(caller(writer, ["read"]), "write", bucket), "a read-only token stays read-only")
    assert.isTrue(can(caller(reader), "read", bucket))
    assert.isFalse(can(caller(reader), "write", bucket))
    for (const action of ["delete", "share"] as const) assert.isFalse(can(caller(writer), action, bucket), action)
  })

  it("denies unknown kinds and actions, even to admins (fail closed)", () => {
    const root = caller(principal("root", ["admin"]))
    assert.isFalse(can(root, "read" as never, { kind: "spaceship" as ResourceKind }))
    assert.isFalse(can(root, "fly" as never, { kind: "app" }))
    assert.isFalse(can(root, "toString" as never, { kind: "app" }))
    assert.isFalse(can(root, "read" as never, { kind: "__proto__" as ResourceKind }))
    assert.match(decide(root, "fly" as never, { kind: "app" }).reason, /unknown action/)
  })

  it("defaults a resource without visibility to PRIVATE", () => {
    assert.isFalse(can(caller(principal("other", ["full"])), "read", { kind: "engine", id: "e", owner: ownerKey }))
  })

  it.effect("authorize: Unauthenticated without a caller, Forbidden with one", () =>
    Effect.gen(function*() {
      const engine: ResourceRef<"engine"> = { kind: "engine", id: "e", owner: ownerKey, visibility: "ALL_USERS" }
      assert.strictEqual((yield* Effect.flip(authorize(undefined, "read", engine)))._tag, "Unauthenticated")
      assert.strictEqual((yield* Effect.flip(authorize(caller(principal("v", ["visitor"])), "manage", engine)))._tag, "Forbidden")
      yield* authorize(caller(owner), "manage", engine)
    }))

  it.effect("authorizeOrHide: NotFound when the caller may not even read the resource", () =>
    Effect.gen(function*() {
      const other = caller(principal("other", ["full"]))
      const hidden: ResourceRef<"engine"> & { id: string } = { kind: "engine", id: "e", owner: ownerKey }
      const seen: ResourceRef<"engine"> & { id: string } = { ...hidden, visibility: "ALL_USERS" }
      assert.strictEqual((yield* Effect.flip(authorizeOrHide(other, "delete", hidden)))._tag, "NotFound")
      assert.strictEqual((yield* Effect.flip(authorizeOrHide(other, "delete", seen)))._tag, "Forbidden")
      assert.strictEqual((yield* Effect.flip(authorizeOrHide(undefined, "delete", hidden)))._tag, "Unauthenticated")
      yield* authorizeOrHide(caller(owner), "delete", hidden)
    }))
})
