/**
 * The Scheduler conformance kit. Every adapter's test calls it in one line:
 *
 * ```ts
 * import { kitPolicy, suite } from "@aquifer/scheduler/testing"
 * suite("scheduler-local", layer({ home, policy: kitPolicy }), { server: serverFixture, reachable: true })
 * ```
 *
 * The layer under test must refuse specs as {@link kitPolicy} says (images only from
 * `registry.aquifer.test/…`, cpu and memory limits required). `server(name)` gives the runnable
 * part of a trivial HTTP workload (a command or an image) that, once running:
 * - answers `GET /healthz` with 200, and `GET /` with JSON `{ greeting, secretEnv, secretFile, port }`
 *   (env `GREETING`, env `SECRET_TOKEN`, the file `token/value` under `AQUIFER_SECRETS_DIR`, env `PORT`);
 * - prints a line containing `listening` to stdout.
 *
 * Capabilities switch on what a backend can show from the test process: `reachable` (the
 * endpoint answers HTTP here), `logs` (the workload's own output comes back from `logs`),
 * `crasher` (a workload that exits with code 3 about a second after start).
 * @module
 */
import { assert, describe, layer, type Vitest } from "@effect/vitest"
import { Effect, Fiber, Layer, Queue, Redacted, Result, Stream } from "effect"
import type { SchedulerError } from "./errors.ts"
import { SchedulerPolicy } from "./policy.ts"
import { Scheduler } from "./scheduler.ts"
import { type Workload, type WorkloadEvent, WorkloadSpec } from "./workload.ts"

/** The policy the layer under test must be built with. */
export const kitPolicy: SchedulerPolicy = SchedulerPolicy.make({
  allowedImages: ["registry.aquifer.test/*"],
  requireLimits: true
})

/** The runnable part of a fixture workload. */
export interface Runnable {
  readonly command?: string
  readonly args?: ReadonlyArray<string>
  readonly workingDir?: string
  readonly image?: string
  readonly port: number
}

export interface Capabilities {
  /** A trivial HTTP server workload (see the module doc for what it must do). */
  readonly server: (name: string) => Runnable
  /** A workload that exits with code 3 about a second after it starts. */
  readonly crasher?: ((name: string) => Runnable) | undefined
  /** The endpoint URL answers HTTP from the test process. */
  readonly reachable?: boolean | undefined
  /** `logs` returns the workload's own output. */
  readonly logs?: boolean | undefined
  /** How long to wait for a workload to become ready (ms); default 30 s. */
  readonly readyTimeout?: number | undefined
  /** More cases, run with the same layer. */
  readonly additionalTests?: ((it: Vitest.MethodsNonLive<Scheduler>) => void) | undefined
}

let counter = 0
/** A name unique within this test run (kit cases share one backend). */
export const uniqueName = (prefix: string): string =>
  `${prefix}-${(Date.now() % 1_000_000).toString(36)}${(counter++).toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`

/** A valid spec for the fixture server, with the limits the kit policy requires. */
export const fixtureSpec = (
  capabilities: Capabilities,
  name: string,
  extra: Partial<ConstructorParameters<typeof WorkloadSpec>[0]> = {}
): WorkloadSpec =>
  WorkloadSpec.make({
    owner: "https://id.aquifer.test#kit",
    kind: "app",
    readinessPath: "/healthz",
    resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
    restartPolicy: "always",
    ...capabilities.server(name),
    ...extra,
    name
  })

/** Repeats `self` until `ok` holds (errors count as "not yet"), failing after `timeoutMs`. */
export const eventually = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  ok: (value: A) => boolean,
  what: string,
  timeoutMs = 30_000
): Effect.Effect<A, never, R> =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    let last: unknown
    while (Date.now() < deadline) {
      const result = yield* Effect.result(self)
      if (Result.isSuccess(result) && ok(result.success)) return result.success
      last = Result.isSuccess(result) ? result.success : result.failure
      yield* Effect.sleep("150 millis")
    }
    return yield* Effect.die(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${JSON.stringify(last)}`))
  })

const fetchJson = (url: string) =>
  Effect.tryPromise(async () => {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) })
    if (!response.ok) throw new Error(`${url} answered ${response.status}`)
    return (await response.json()) as { greeting: string | null; secretEnv: string | null; secretFile: string | null; port: string }
  })

const flipTag = <A, R>(self: Effect.Effect<A, SchedulerError, R>) =>
  Effect.map(Effect.flip(self), (error) => error._tag)

/** Runs the conformance suite against `layer_`, which must provide a `Scheduler`. */
export const suite = <E>(name: string, layer_: Layer.Layer<Scheduler, E>, capabilities: Capabilities): void => {
  const readyTimeout = capabilities.readyTimeout ?? 30_000
  const testTimeout = readyTimeout * 3 + 30_000

  const deployed = (spec: WorkloadSpec, secrets?: Parameters<Scheduler["Service"]["deploy"]>[1]) =>
    Effect.acquireRelease(
      Scheduler.use((scheduler) => scheduler.deploy(spec, secrets)),
      () => Scheduler.use((scheduler) => Effect.ignore(scheduler.remove(spec.name)))
    )

  const untilRunning = (workload: string) =>
    Scheduler.use((scheduler) =>
      eventually(scheduler.status(workload), (status) => status.phase === "running" && status.ready, `${workload} to be running`, readyTimeout))

  describe(`Scheduler conformance: ${name}`, () => {
    layer(layer_, { excludeTestServices: true, timeout: 60_000 })((it) => {
      it.effect("deploy creates a workload that get returns as it was given", () =>
        Effect.gen(function*() {
          const scheduler = yield* Scheduler
          const spec = fixtureSpec(capabilities, uniqueName("kit-create"), { labels: { team: "kit" }, env: { GREETING: "hello" } })
          const result = yield* deployed(spec)
          assert.strictEqual(result.change, "created")
          assert.strictEqual(result.workload.revision, 1)
          const got = yield* scheduler.get(spec.name)
          assert.strictEqual(got.spec.name, spec.name)
          assert.strictEqual(got.spec.owner, spec.owner)
          assert.strictEqual(got.spec.kind, "app")
          assert.deepStrictEqual(got.spec.env, { GREETING: "hello" })
          assert.deepStrictEqual(got.spec.labels, { team: "kit" })
          assert.deepStrictEqual(got.spec.resources, spec.resources)
          assert.strictEqual(got.revision, 1)
          assert.isTrue(Date.parse(got.createdAt) > 0)
          assert.includeMembers(got.enforcement.map((e) => e.resource), ["cpu", "memory"])
        }), testTimeout)

      it.effect("deploy is idempotent by name, and a changed spec rolls forward", () =>
        Effect.gen(function*() {
          const scheduler = yield* Scheduler
          const name = uniqueName("kit-idem")
          const spec = fixtureSpec(capabilities, name, { env: { GREETING: "one" } })
          yield* deployed(spec)
          yield* untilRunning(name)
          const again = yield* scheduler.deploy(fixtureSpec(capabilities, name, { env: { GREETING: "one" } }))
          assert.strictEqual(again.change, "unchanged")
          assert.strictEqual(again.workload.revision, 1)
          if (capabilities.reachable) {
            const endpoint = yield* scheduler.endpoint(name)
            assert.strictEqual((yield* fetchJson(endpoint.url)).greeting, "one")
          }
          const changed = yield* scheduler.deploy(fixtureSpec(capabilities, name, { env: { GREETING: "two" } }))
          assert.strictEqual(changed.change, "updated")
          assert.strictEqual(changed.workload.revision, 2)
          assert.deepStrictEqual((yield* scheduler.get(name)).spec.env, { GREETING: "two" })
          yield* untilRunning(name)
          if (capabilities.reachable) {
            yield* eventually(
              Effect.flatMap(scheduler.endpoint(name), (endpoint) => fetchJson(endpoint.url)),
              (body) => body.greeting === "two",
              "the new revision to serve",
              readyTimeout
            )
          }
        }), testTimeout)

      it.effect("a deployed workload becomes running and ready, with an endpoint", () =>
        Effect.gen(function*() {
          const scheduler = yield* Scheduler
          const name = uniqueName("kit-ready")
          yield* deployed(fixtureSpec(capabilities, name))
          const status = yield* untilRunning(name)
          assert.strictEqual(status.restarts, 0)
          const endpoint = yield* scheduler.endpoint(name)
          assert.isTrue(endpoint.ready)
          assert.match(endpoint.url, /^https?:\/\/[^/]+:\d+$/)
          assert.strictEqual(new URL(endpoint.url).port, String(endpoint.port))
          if (capabilities.reachable) {
            const body = yield* fetchJson(endpoint.url)
            assert.strictEqual(body.port, String(endpoint.port))
          }
        }), testTimeout)

      it.effect("list filters by every label of the selector", () =>
        Effect.gen(function*() {
          const scheduler = yield* Scheduler
          const run = uniqueName("sel")
          const a = fixtureSpec(capabilities, uniqueName("kit-list-a"), { labels: { run, tier: "web" } })
          const b = fixtureSpec(capabilities, uniqueName("kit-list-b"), { labels: { run, tier: "batch" } })
          yield* deployed(a)
          yield* deployed(b)
          const both = yield* scheduler.list({ run })
          assert.deepStrictEqual(both.map((w) => w.spec.name), [a.name, b.name].sort())
          const web = yield* scheduler.list({ run, tier: "web" })
          assert.deepStrictEqual(web.map((w) => w.spec.name), [a.name])
          assert.deepStrictEqual(yield* scheduler.list({ run, tier: "none" }), [])
          const all = yield* scheduler.list()
          assert.includeMembers(all.map((w) => w.spec.name), [a.name, b.name])
        }), testTimeout)

      it.effect("suspend releases compute and resume brings it back", () =>
        Effect.gen(function*() {
          const scheduler = yield* Scheduler
          const name = uniqueName("kit-susp")
          yield* deployed(fixtureSpec(capabilities, name))
          yield* untilRunning(name)
          const suspended = yield* scheduler.suspend(name)
          assert.strictEqual(suspended.spec.name, name)
          yield* eventually(scheduler.status(name), (s) => s.phase === "suspended" && !s.ready, "suspended", readyTimeout)
          assert.strictEqual(yield* flipTag(scheduler.endpoint(name)), "EndpointUnavailable")
          yield* scheduler.suspend(name)
          const redeployed = yield* scheduler.deploy(fixtureSpec(capabilities, name))
          assert.strictEqual(redeployed.change, "unchanged")
          assert.strictEqual((yield* scheduler.status(name)).phase, "suspended")
          yield* scheduler.resume(name)
          yield* untilRunning(name)
          assert.isTrue((yield* scheduler.endpoint(name)).ready)
        }), testTimeout)

      it.effect("remove deletes the workload; unknown names are WorkloadNotFound everywhere", () =>
        Effect.gen(function*() {
          const scheduler = yield* Scheduler
          const name = uniqueName("kit-rm")
          yield* scheduler.deploy(fixtureSpec(capabilities, name))
          yield* scheduler.remove(name)
          assert.strictEqual(yield* flipTag(scheduler.get(name)), "WorkloadNotFound")
          assert.notInclude((yield* scheduler.list()).map((w) => w.spec.name), name)
          for (const call of [
            scheduler.get(name),
            scheduler.status(name),
            scheduler.remove(name),
            scheduler.suspend(name),
            scheduler.resume(name),
            scheduler.endpoint(name),
            Stream.runCollect(scheduler.logs(name))
          ]) {
            assert.strictEqual(yield* flipTag(call as Effect.Effect<unknown, SchedulerError>), "WorkloadNotFound")
          }
        }), testTimeout)

      it.effect("watch replays matching workloads, then reports changes and removal", () =>
        Effect.gen(function*() {
          const scheduler = yield* Scheduler
          const run = uniqueName("watch")
          const name = uniqueName("kit-watch")
          yield* scheduler.deploy(fixtureSpec(capabilities, name, { labels: { run } }))
          const events = yield* Queue.unbounded<WorkloadEvent>()
          const fiber = yield* scheduler.watch({ run }).pipe(
            Stream.runForEach((event) => Queue.offer(events, event)),
            Effect.forkChild
          )
          const seen: Array<WorkloadEvent> = []
          const waitFor = (what: string, ok: (event: WorkloadEvent) => boolean) =>
            Effect.gen(function*() {
              while (true) {
                const event = yield* Queue.take(events).pipe(
                  Effect.timeoutOrElse({ duration: readyTimeout, orElse: () => Effect.die(new Error(`no ${what} event; saw ${JSON.stringify(seen.map((e) => [e.type, e.name]))}`)) })
                )
                seen.push(event)
                if (ok(event)) return event
              }
            })
          const first = yield* waitFor("replay", (e) => e.name === name)
          assert.strictEqual(first.type, "added")
          yield* scheduler.deploy(fixtureSpec(capabilities, name, { labels: { run }, env: { GREETING: "changed" } }))
          const modified = yield* waitFor("modified", (e) => e.name === name && e.type === "modified" && e.workload?.revision === 2)
          assert.deepStrictEqual(modified.workload?.spec.env, { GREETING: "changed" })
          yield* scheduler.remove(name)
          yield* waitFor("removed", (e) => e.name === name && e.type === "removed")
          assert.isTrue(seen.every((e) => e.name === name), "events of other workloads leaked through the selector")
          yield* Fiber.interrupt(fiber)
        }), testTimeout)

      it.effect("hostile or malformed specs are refused with InvalidWorkload naming the field", () =>
        Effect.gen(function*() {
          const scheduler = yield* Scheduler
          const base = (name: string) => fixtureSpec(capabilities, name)
          const cases: Array<[string, WorkloadSpec]> = [
            ["privileged", WorkloadSpec.make({ ...base(uniqueName("kit-bad")), privileged: true })],
            ["hostNetwork", WorkloadSpec.make({ ...base(uniqueName("kit-bad")), hostNetwork: true })],
            ["volumes[0].hostPath", WorkloadSpec.make({ ...base(uniqueName("kit-bad")), volumes: [{ name: "etc", mountPath: "/data", hostPath: "/etc" }] })],
            ["image", WorkloadSpec.make({ ...base(uniqueName("kit-bad")), image: "docker.io/evil/miner:latest" })],
            ["resources.limits.memory", WorkloadSpec.make({ ...base(uniqueName("kit-bad")), resources: { limits: { cpu: "1" } } })],
            ["resources.limits.cpu", WorkloadSpec.make({ ...base(uniqueName("kit-bad")), resources: {} })],
            ["name", WorkloadSpec.make({ ...base("x"), name: "Kit_Collide" })],
            ["name", WorkloadSpec.make({ ...base("x"), name: `kit-${"a".repeat(60)}` })],
            ["name", WorkloadSpec.make({ ...base("x"), name: "-kit" })],
            ["env.PORT", WorkloadSpec.make({ ...base(uniqueName("kit-bad")), env: { PORT: "1" } })],
            ["labels.aquifer.dev/owner", WorkloadSpec.make({ ...base(uniqueName("kit-bad")), labels: { "aquifer.dev/owner": "x" } })],
            ["secrets[0].file", WorkloadSpec.make({ ...base(uniqueName("kit-bad")), secrets: [{ secret: "s", key: "k", file: "../escape" }] })]
          ]
          for (const [field, spec] of cases) {
            const error = yield* Effect.flip(scheduler.deploy(spec, { s: { k: Redacted.make("v") } }))
            assert.strictEqual(error._tag, "InvalidWorkload", field)
            assert.strictEqual((error as { field?: string }).field, field, `${field}: ${error.message}`)
            assert.isAbove(error.message.length, 10)
            assert.strictEqual(yield* flipTag(scheduler.get(spec.name)), "WorkloadNotFound", `${field} left something behind`)
          }
          const missing = yield* Effect.flip(scheduler.deploy(WorkloadSpec.make({
            ...base(uniqueName("kit-bad")),
            secrets: [{ secret: "db", key: "password", env: "DB_PASSWORD" }]
          })))
          assert.strictEqual(missing._tag, "InvalidWorkload")
          assert.include(missing.message, "password")
        }), testTimeout)

      it.effect("secret refs reach the workload as env and files; values never show in get", () =>
        Effect.gen(function*() {
          const scheduler = yield* Scheduler
          const name = uniqueName("kit-secret")
          const spec = fixtureSpec(capabilities, name, {
            secrets: [
              { secret: "api", key: "token", env: "SECRET_TOKEN" },
              { secret: "api", key: "token", file: "token/value" }
            ]
          })
          yield* deployed(spec, { api: { token: Redacted.make("s3cr3t-value") } })
          yield* untilRunning(name)
          const got = yield* scheduler.get(name)
          assert.notInclude(JSON.stringify(got), "s3cr3t-value")
          if (capabilities.reachable) {
            const body = yield* fetchJson((yield* scheduler.endpoint(name)).url)
            assert.strictEqual(body.secretEnv, "s3cr3t-value")
            assert.strictEqual(body.secretFile, "s3cr3t-value")
          }
          const same = yield* scheduler.deploy(spec, { api: { token: Redacted.make("s3cr3t-value") } })
          assert.strictEqual(same.change, "unchanged")
          const rotated = yield* scheduler.deploy(spec, { api: { token: Redacted.make("rotated-value") } })
          assert.strictEqual(rotated.change, "updated")
          if (capabilities.reachable) {
            yield* eventually(
              Effect.flatMap(scheduler.endpoint(name), (endpoint) => fetchJson(endpoint.url)),
              (body) => body.secretEnv === "rotated-value" && body.secretFile === "rotated-value",
              "the rotated secret to be served",
              readyTimeout
            )
          }
        }), testTimeout)

      if (capabilities.logs) {
        it.effect("logs return the workload's output", () =>
          Effect.gen(function*() {
            const scheduler = yield* Scheduler
            const name = uniqueName("kit-logs")
            yield* deployed(fixtureSpec(capabilities, name))
            yield* untilRunning(name)
            const lines = yield* eventually(
              Stream.runCollect(scheduler.logs(name)),
              (lines) => lines.some((line) => line.includes("listening")),
              "a 'listening' log line",
              readyTimeout
            )
            assert.isTrue(lines.every((line) => !line.includes("\n")))
            const tail = yield* Stream.runCollect(scheduler.logs(name, { tailLines: 1 }))
            assert.strictEqual(tail.length, 1)
          }), testTimeout)
      }

      if (capabilities.crasher !== undefined) {
        const crasher = capabilities.crasher
        it.effect("a crashing workload is restarted with back-off; status shows restarts and the last exit", () =>
          Effect.gen(function*() {
            const scheduler = yield* Scheduler
            const name = uniqueName("kit-crash")
            yield* deployed(WorkloadSpec.make({ ...fixtureSpec(capabilities, name), ...crasher(name), name }))
            const status = yield* eventually(
              scheduler.status(name),
              (s) => s.restarts >= 2 && s.lastExit?.code === 3,
              "two restarts after exit code 3",
              readyTimeout * 2
            )
            assert.notStrictEqual(status.phase, "suspended")
            assert.isFalse(status.phase === "running" && status.ready && status.restarts === 0)
            if (capabilities.logs) {
              const previous = yield* Stream.runCollect(scheduler.logs(name, { previous: true }))
              assert.isTrue(previous.some((line) => line.includes("crashing")), JSON.stringify(previous))
            }
          }), testTimeout * 2)
      }

      capabilities.additionalTests?.(it)
    })
  })
}

/** Every workload, for assertions in adapter tests. */
export const listNames = (workloads: ReadonlyArray<Workload>): Array<string> => workloads.map((w) => w.spec.name)
