import { assert, describe, it } from "@effect/vitest"
import { compareSemver, isSemver } from "./semver.ts"

describe("semver", () => {
  it("accepts semantic versions and refuses look-alikes", () => {
    for (const good of ["0.0.1", "1.2.3", "10.20.30", "1.0.0-alpha", "1.0.0-rc.1+build.5", "1.0.0+20130313144700"]) assert.isTrue(isSemver(good), good)
    for (const bad of ["1.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0-01", "1.0.0+", " 1.0.0", "1.0.0.0"]) assert.isFalse(isSemver(bad), bad)
  })

  it("orders by precedence, pre-releases before releases, numerically", () => {
    const sorted = ["1.0.0", "1.0.0-rc.1", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.11", "1.0.0-beta.2", "1.0.0-beta", "1.0.0-alpha.beta", "1.10.0", "1.9.0", "2.0.0"]
      .sort(compareSemver)
    assert.deepStrictEqual(sorted, ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.9.0", "1.10.0", "2.0.0"])
    assert.strictEqual(compareSemver("1.0.0+a", "1.0.0+b"), 0)
  })
})
