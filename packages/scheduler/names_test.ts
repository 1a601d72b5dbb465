import { assert, describe, it } from "@effect/vitest"
import { isWorkloadName, maxNameLength, normaliseName, workloadName } from "./names.ts"

describe("workload names", () => {
  it("builds valid names from any parts", () => {
    for (const parts of [["app", "Wave Demo", "ins_0123"], ["", ""], ["123"], ["ünïcödé", "日本"], ["x".repeat(500)]]) {
      const name = workloadName(...parts)
      assert.isTrue(isWorkloadName(name), `${JSON.stringify(parts)} -> ${name}`)
      assert.isAtMost(name.length, maxNameLength)
    }
  })

  it("never gives two part lists the same name", () => {
    assert.notStrictEqual(workloadName("foo", "bar"), workloadName("foobar", ""))
    assert.notStrictEqual(workloadName("foo", "bar"), workloadName("foo-bar"))
    assert.notStrictEqual(workloadName("Foo"), workloadName("foo"))
    assert.notStrictEqual(workloadName("a".repeat(100) + "1"), workloadName("a".repeat(100) + "2"))
    const names = new Set<string>()
    for (let i = 0; i < 20_000; i++) names.add(workloadName("user", String(i)))
    assert.strictEqual(names.size, 20_000)
  })

  it("is stable: the same parts always give the same name", () => {
    assert.strictEqual(workloadName("app", "demo"), workloadName("app", "demo"))
  })

  it("tells normal names from names that would need normalising", () => {
    assert.isTrue(isWorkloadName("demo-1"))
    for (const bad of ["Demo", "demo_1", "-demo", "demo-", "1demo", "", "a".repeat(54)]) assert.isFalse(isWorkloadName(bad), bad)
    assert.strictEqual(normaliseName("Foo_Bar"), "foo-bar")
    assert.strictEqual(normaliseName("9lives"), "w-9lives")
  })
})
