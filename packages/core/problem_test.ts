import { assert, describe, it } from "@effect/vitest"
import { Forbidden, InvalidInput, NotFound, Principal, problemFromError } from "./mod.ts"

describe("problems", () => {
  it("maps each shared error to a stable type and status", () => {
    assert.deepStrictEqual(problemFromError(new NotFound({ resource: "app", id: "x" })), {
      type: "urn:aquifer:problem:not-found",
      title: "Not found",
      status: 404,
      detail: "app x was not found"
    })
    const invalid = problemFromError(new InvalidInput({ message: "bad name", field: "name" }))
    assert.strictEqual(invalid.status, 400)
    assert.strictEqual(invalid.field, "name")
    assert.strictEqual(problemFromError(new Forbidden({ message: "no" })).status, 403)
  })

  it("turns an unknown error into a bare internal problem, leaking nothing", () => {
    const problem = problemFromError({ _tag: "SqlError", message: "password=hunter2 at db:5432" })
    assert.deepStrictEqual(problem, { type: "urn:aquifer:problem:internal", title: "Internal error", status: 500 })
    assert.strictEqual(problemFromError({ _tag: "toString" }).status, 500)
  })
})

describe("Principal", () => {
  it("is identified by issuer + subject, not e-mail", () => {
    const a = Principal.make({ issuer: "https://id", subject: "1", name: "A", email: "same@x", groups: [], roles: ["full"] })
    const b = Principal.make({ issuer: "https://id", subject: "2", name: "B", email: "same@x", groups: [], roles: ["visitor"] })
    assert.notStrictEqual(a.key, b.key)
    assert.isFalse(a.isVisitor)
    assert.isTrue(b.isVisitor)
  })
})
