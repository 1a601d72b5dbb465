import { assert, describe, it } from "@effect/vitest"
import { someCause } from "./mod.ts"

describe("someCause", () => {
  const refused = (shape: { readonly code?: unknown }) => shape.code === "ECONNREFUSED"

  it("finds a code however an SDK wrapped it: causes and aggregates", () => {
    const inner = Object.assign(new Error("connect"), { code: "ECONNREFUSED" })
    assert.isTrue(someCause(inner, refused))
    assert.isTrue(someCause(new Error("request failed", { cause: new Error("socket", { cause: inner }) }), refused))
    assert.isTrue(someCause(new Error("send", { cause: new AggregateError([new Error("v6"), inner]) }), refused))
  })

  it("stops at the depth limit, on cycles and on non-objects", () => {
    let deep: unknown = Object.assign(new Error("root"), { code: "ECONNREFUSED" })
    for (let i = 0; i < 6; i++) deep = new Error(`wrap ${i}`, { cause: deep })
    assert.isFalse(someCause(deep, refused))
    const cyclic: { cause?: unknown } = {}
    cyclic.cause = cyclic
    assert.isFalse(someCause(cyclic, refused))
    assert.isFalse(someCause("ECONNREFUSED", refused))
    assert.isFalse(someCause(undefined, refused))
  })
})
