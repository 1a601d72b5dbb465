import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { imageAllowed, parseCpu, parseMemory, resolveSecrets, SchedulerPolicy, validateWorkload, volumeEnvName } from "./policy.ts"
import { WorkloadSpec } from "./workload.ts"

const base = { name: "demo", owner: "o", kind: "app", command: "/bin/true", port: 8080 }

describe("validateWorkload", () => {
  it.effect("accepts a plain spec and decodes it", () =>
    Effect.gen(function*() {
      const spec = yield* validateWorkload(base, SchedulerPolicy.permissive)
      assert.instanceOf(spec, WorkloadSpec)
      assert.strictEqual(spec.name, "demo")
    }))

  it.effect("refuses malformed input with a clear message instead of throwing", () =>
    Effect.gen(function*() {
      for (const input of [null, 42, { ...base, port: "80" }, { ...base, kind: "daemon" }, { ...base, env: { A: 1 } }]) {
        const error = yield* Effect.flip(validateWorkload(input, SchedulerPolicy.permissive))
        assert.strictEqual(error._tag, "InvalidWorkload")
        assert.include(error.message, "malformed")
      }
    }))

  it.effect("names the field of each rule it enforces", () =>
    Effect.gen(function*() {
      const strict = SchedulerPolicy.make({ allowedImages: ["ghcr.io/acme/*"], requireLimits: false })
      const cases: Array<[string, Record<string, unknown>]> = [
        ["image", { image: "ghcr.io/acme" }],
        ["image", { image: "ghcr.io/acmeevil/x" }],
        ["port", { port: 0 }],
        ["workingDir", { workingDir: "relative" }],
        ["readinessPath", { readinessPath: "health" }],
        ["resources.requests.cpu", { resources: { requests: { cpu: "2" }, limits: { cpu: "1" } } }],
        ["resources.requests.memory", { resources: { requests: { memory: "2Gi" }, limits: { memory: "1Gi" } } }],
        ["resources.limits.cpu", { resources: { limits: { cpu: "lots" } } }],
        ["labels.bad key", { labels: { "bad key": "x" } }],
        ["labels.team", { labels: { team: "-x" } }],
        ["labels.sub.kubernetes.io/x", { labels: { "sub.kubernetes.io/x": "y" } }],
        ["labels.owner", { labels: { owner: "helm" } }],
        ["env.AQUIFER_HOME", { env: { AQUIFER_HOME: "/" } }],
        ["env.1A", { env: { "1A": "x" } }],
        ["secrets[0]", { secrets: [{ secret: "s", key: "k" }] }],
        ["secrets[0]", { secrets: [{ secret: "s", key: "k", env: "A", file: "a" }] }],
        ["secrets[1].env", { env: { A: "1" }, secrets: [{ secret: "s", key: "k", env: "B" }, { secret: "s", key: "k", env: "A" }] }],
        ["secrets[0].file", { secrets: [{ secret: "s", key: "k", file: "/etc/passwd" }] }],
        ["volumes[1].name", { volumes: [{ name: "data", mountPath: "/d" }, { name: "data", mountPath: "/e" }] }],
        ["volumes[0].mountPath", { volumes: [{ name: "data", mountPath: "d" }] }],
        ["volumes[0].size", { volumes: [{ name: "data", mountPath: "/d", size: "big" }] }],
        ["command", { command: " " }],
        ["owner", { owner: " " }],
        ["gpus", { gpus: -1 }]
      ]
      for (const [field, patch] of cases) {
        const error = yield* Effect.flip(validateWorkload({ ...base, ...patch }, strict))
        assert.strictEqual(error.field, field, `${JSON.stringify(patch)}: ${error.message}`)
      }
      assert.strictEqual((yield* validateWorkload({ ...base, image: "ghcr.io/acme/app:1" }, strict)).image, "ghcr.io/acme/app:1")
      const noRunnable = yield* Effect.flip(validateWorkload({ ...base, command: undefined }, strict))
      assert.strictEqual(noRunnable.field, "image")
    }))

  it.effect("explains a name that would collide after normalisation", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(validateWorkload({ ...base, name: "My_App" }, SchedulerPolicy.permissive))
      assert.include(error.message, "\"my-app\"")
      assert.include(error.message, "collide")
    }))
})

describe("quantities and helpers", () => {
  it("parses cpu and memory quantities", () => {
    assert.strictEqual(parseCpu("500m"), 0.5)
    assert.strictEqual(parseCpu("2"), 2)
    assert.strictEqual(parseCpu("1.5"), 1.5)
    assert.isUndefined(parseCpu("1 core"))
    assert.strictEqual(parseMemory("512Mi"), 512 * 2 ** 20)
    assert.strictEqual(parseMemory("1G"), 1e9)
    assert.strictEqual(parseMemory("100"), 100)
    assert.isUndefined(parseMemory("1GB"))
  })

  it("matches images against glob patterns, anchored", () => {
    assert.isTrue(imageAllowed(["*"], "anything"))
    assert.isTrue(imageAllowed(["ghcr.io/acme/*"], "ghcr.io/acme/app:1"))
    assert.isFalse(imageAllowed(["ghcr.io/acme/*"], "evil.io/ghcr.io/acme/app"))
    assert.isFalse(imageAllowed(["ghcr.io/acme/app:1"], "ghcr.io/acme/app:10"))
    assert.isFalse(imageAllowed([], "x"))
  })

  it("names volume variables predictably", () => {
    assert.strictEqual(volumeEnvName("model-cache"), "AQUIFER_VOLUME_MODEL_CACHE")
  })

  it.effect("resolves secret refs from material, refusing missing ones", () =>
    Effect.gen(function*() {
      const spec = WorkloadSpec.make({ ...base, kind: "app", secrets: [{ secret: "db", key: "pw", env: "DB_PW" }] })
      const resolved = yield* resolveSecrets(spec, { db: { pw: Redacted.make("x") } })
      assert.strictEqual(resolved[0]!.value, "x")
      const error = yield* Effect.flip(resolveSecrets(spec, { db: {} }))
      assert.strictEqual(error.field, "secrets[0]")
    }))
})
