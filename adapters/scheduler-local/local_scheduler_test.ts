import { Scheduler, WorkloadSpec } from "@aquifer/scheduler"
import { eventually, fixtureSpec, kitPolicy, suite, uniqueName } from "@aquifer/scheduler/testing"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Stream } from "effect"
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { layer, type LocalSchedulerOptions } from "./mod.ts"

const fixture = (file: string) => new URL(`./testdata/${file}`, import.meta.url).pathname
const homes: Array<string> = []
const newHome = () => {
  const home = mkdtempSync(join(tmpdir(), "aquifer-sched-local-"))
  homes.push(home)
  return home
}
afterAll(() => {
  for (const home of homes) rmSync(home, { recursive: true, force: true })
})

const fast = (home: string, extra: Partial<LocalSchedulerOptions> = {}): LocalSchedulerOptions => ({
  home,
  policy: kitPolicy,
  stopGraceMs: 3000,
  backoffInitialMs: 200,
  backoffMaxMs: 2000,
  onShutdown: "stop",
  ...extra
})

const node = (script: string) => ({ command: process.execPath, args: [fixture(script)], port: 8080 })
const capabilities = {
  server: () => node("server.mjs"),
  crasher: () => node("crash.mjs"),
  reachable: true,
  logs: true,
  readyTimeout: 45_000
}

suite("scheduler-local", layer(fast(newHome())), capabilities)

// A zombie has already exited and only waits for its parent (here often PID 1) to reap it.
const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z"
  } catch {
    return process.platform !== "linux"
  }
}

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer()
    server.once("error", () => resolve(false))
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)))
  })

const getJson = (url: string) =>
  Effect.promise(async () => (await (await fetch(url, { signal: AbortSignal.timeout(5000) })).json()) as { pid: number; volume: string | null })

const withScheduler = <A, E>(options: LocalSchedulerOptions, body: (scheduler: Scheduler["Service"]) => Effect.Effect<A, E>) =>
  Effect.provide(Scheduler.use(body), Layer.fresh(layer(options)))

const running = (scheduler: Scheduler["Service"], name: string) =>
  eventually(scheduler.status(name), (s) => s.phase === "running" && s.ready, `${name} running`, 45_000)

describe("scheduler-local with real processes", () => {
  it.live("after the platform is killed, a new platform adopts the running workload; remove leaves no process and frees the port", () =>
    Effect.gen(function*() {
      const home = newHome()
      const name = uniqueName("restart")
      const platform = spawn(process.execPath, [fixture("platform.ts"), home, name], { stdio: ["ignore", "pipe", "inherit"] })
      yield* Effect.promise(() =>
        new Promise<void>((resolve, reject) => {
          let out = ""
          platform.stdout.on("data", (chunk: Buffer) => {
            out += chunk.toString()
            if (out.includes("READY")) resolve()
          })
          platform.once("exit", (code) => reject(new Error(`platform exited early with ${code}`)))
        })
      )
      platform.kill("SIGKILL")
      yield* Effect.promise(() => new Promise((resolve) => platform.once("exit", resolve)))

      yield* withScheduler(fast(home), (scheduler) =>
        Effect.gen(function*() {
          const status = yield* running(scheduler, name)
          assert.strictEqual(status.restarts, 0, "the live run was adopted, not restarted")
          const endpoint = yield* scheduler.endpoint(name)
          const { pid } = yield* getJson(endpoint.url)
          assert.isTrue(alive(pid))
          yield* scheduler.remove(name)
          assert.isFalse(alive(pid), "the workload process survived remove")
          assert.isTrue(yield* Effect.promise(() => portFree(endpoint.port)), "the port is still taken")
          assert.isFalse(existsSync(join(home, "workloads", name)))
        }))
    }), 120_000)

  it.live("a run that died while the platform was down is restarted on start, its exit recorded", () =>
    Effect.gen(function*() {
      const home = newHome()
      const name = uniqueName("lost")
      const options = fast(home, { onShutdown: "keep" })
      const firstPid = yield* withScheduler(options, (scheduler) =>
        Effect.gen(function*() {
          yield* scheduler.deploy(fixtureSpec(capabilities, name))
          yield* running(scheduler, name)
          return (yield* getJson((yield* scheduler.endpoint(name)).url)).pid
        }))
      assert.isTrue(alive(firstPid), "onShutdown=keep must leave the workload running")
      process.kill(firstPid, "SIGKILL")
      yield* eventually(Effect.sync(() => alive(firstPid)), (a) => !a, "the killed process to go", 10_000)
      yield* withScheduler(fast(home), (scheduler) =>
        Effect.gen(function*() {
          const status = yield* eventually(scheduler.status(name), (s) => s.ready && s.restarts === 1, "restart", 45_000)
          assert.strictEqual(status.lastExit?.signal, "SIGKILL")
          const { pid } = yield* getJson((yield* scheduler.endpoint(name)).url)
          assert.notStrictEqual(pid, firstPid)
          yield* scheduler.remove(name)
          assert.isFalse(alive(pid))
        }))
    }), 120_000)

  it.live("on start, a process marked with this data directory but unknown to any record is stopped", () =>
    Effect.gen(function*() {
      const home = newHome()
      const ghost = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
        detached: true,
        stdio: "ignore",
        env: { ...process.env, AQUIFER_SCHEDULER_HOME: home, AQUIFER_WORKLOAD_RUN: "ghost/7" }
      })
      ghost.unref()
      yield* eventually(Effect.sync(() => alive(ghost.pid!)), (a) => a, "ghost start", 5000)
      yield* withScheduler(fast(home), (scheduler) => scheduler.list())
      yield* eventually(Effect.sync(() => alive(ghost.pid!)), (a) => !a, "the orphan to be stopped", 15_000)
    }), 60_000)

  it.live("remove stops a process group that ignores SIGTERM: SIGKILL after the grace period, grandchildren too", () =>
    withScheduler(fast(newHome(), { stopGraceMs: 1000 }), (scheduler) =>
      Effect.gen(function*() {
        const name = uniqueName("stubborn")
        yield* scheduler.deploy(WorkloadSpec.make({ ...fixtureSpec(capabilities, name), ...node("stubborn.mjs"), readinessPath: "/" }))
        yield* running(scheduler, name)
        const endpoint = yield* scheduler.endpoint(name)
        const grandchild = Number(yield* Effect.promise(async () => (await fetch(endpoint.url)).text()))
        assert.isTrue(alive(grandchild))
        const started = Date.now()
        yield* scheduler.remove(name)
        assert.isAtLeast(Date.now() - started, 900, "SIGKILL came before the grace period")
        assert.isFalse(alive(grandchild), "a grandchild in the group survived")
        assert.isTrue(yield* Effect.promise(() => portFree(endpoint.port)))
      })), 60_000)

  it.live.skipIf(process.platform !== "linux")("remove also stops processes of the run that left its process group", () =>
    withScheduler(fast(newHome()), (scheduler) =>
      Effect.gen(function*() {
        const name = uniqueName("escaper")
        yield* scheduler.deploy(WorkloadSpec.make({ ...fixtureSpec(capabilities, name), ...node("escaper.mjs"), readinessPath: "/" }))
        yield* running(scheduler, name)
        const endpoint = yield* scheduler.endpoint(name)
        const daemon = Number(yield* Effect.promise(async () => (await fetch(endpoint.url)).text()))
        assert.isTrue(alive(daemon))
        yield* scheduler.remove(name)
        assert.isFalse(alive(daemon), "a daemon of the run outlived remove")
      })), 60_000)

  it.live("a workload over its memory limit is killed and reported as OOMKilled", () =>
    withScheduler(fast(newHome()), (scheduler) =>
      Effect.gen(function*() {
        const name = uniqueName("hog")
        yield* scheduler.deploy(WorkloadSpec.make({
          ...fixtureSpec(capabilities, name),
          ...node("hog.mjs"),
          readinessPath: "/",
          resources: { limits: { cpu: "1", memory: "160Mi" } }
        }))
        const status = yield* eventually(scheduler.status(name), (s) => s.lastExit?.reason === "OOMKilled", "an OOMKilled exit", 45_000)
        assert.strictEqual(status.lastExit?.signal, "SIGKILL")
        const workload = yield* scheduler.get(name)
        assert.isTrue(workload.enforcement.find((e) => e.resource === "memory")?.enforced)
        assert.isFalse(workload.enforcement.find((e) => e.resource === "cpu")?.enforced)
        yield* scheduler.remove(name)
      })), 90_000)

  it.live("run logs stay bounded on disk, and only the last runs are kept", () =>
    withScheduler(fast(newHome(), { logMaxBytes: 64 * 1024 }), (scheduler) =>
      Effect.gen(function*() {
        const name = uniqueName("chatty")
        yield* scheduler.deploy(WorkloadSpec.make({ ...fixtureSpec(capabilities, name), ...node("chatty.mjs"), readinessPath: "/" }))
        yield* running(scheduler, name)
        yield* Effect.sleep("3 seconds")
        const runs = join(homes.at(-1)!, "workloads", name, "runs")
        const total = readdirSync(runs).filter((f) => f.includes(".log")).reduce((sum, f) => sum + statSync(join(runs, f)).size, 0)
        // two files of at most 64 KiB, plus what one second of writing adds between checks
        assert.isBelow(total, 2 * 64 * 1024 + 1024 * 1024)
        const lines = yield* Stream.runCollect(scheduler.logs(name, { tailLines: 5 }))
        assert.strictEqual(lines.length, 5)
        yield* scheduler.remove(name)
      })), 60_000)

  it.live("volumes survive suspend and resume and are deleted with the workload; follow ends with the run", () =>
    withScheduler(fast(newHome()), (scheduler) =>
      Effect.gen(function*() {
        const name = uniqueName("vol")
        yield* scheduler.deploy(fixtureSpec(capabilities, name, { volumes: [{ name: "data", mountPath: "/data", size: "1Gi" }] }))
        yield* running(scheduler, name)
        const volume = (yield* getJson((yield* scheduler.endpoint(name)).url)).volume!
        writeFileSync(join(volume, "kept.txt"), "kept")
        const followed = yield* Stream.runCollect(scheduler.logs(name, { follow: true })).pipe(Effect.forkChild)
        yield* scheduler.suspend(name)
        const lines = yield* Fiber.join(followed)
        assert.isTrue(lines.some((line) => line.includes("listening")))
        assert.isTrue(existsSync(join(volume, "kept.txt")))
        yield* scheduler.resume(name)
        yield* running(scheduler, name)
        assert.strictEqual((yield* getJson((yield* scheduler.endpoint(name)).url)).volume, volume)
        const previous = yield* Stream.runCollect(scheduler.logs(name, { previous: true }))
        assert.isTrue(previous.some((line) => line.includes("listening")))
        yield* scheduler.remove(name)
        assert.isFalse(existsSync(volume))
      })), 90_000)

  it.live("restart back-off doubles between crashes, and the status says why it waits", () =>
    withScheduler(fast(newHome(), { backoffInitialMs: 150, backoffMaxMs: 5000 }), (scheduler) =>
      Effect.gen(function*() {
        const name = uniqueName("backoff")
        yield* scheduler.deploy(WorkloadSpec.make({ ...fixtureSpec(capabilities, name), command: "/bin/sh", args: ["-c", "exit 3"] }))
        const restartedAt: Array<number> = []
        let sawBackOff = false
        while (restartedAt.length < 4) {
          const status = yield* scheduler.status(name)
          if (status.reason === "CrashLoopBackOff") {
            sawBackOff = true
            assert.include(status.message, "exited with code 3")
            assert.strictEqual(status.phase, "failed")
          }
          if (status.restarts > restartedAt.length) restartedAt.push(Date.now())
          yield* Effect.sleep("10 millis")
        }
        assert.isTrue(sawBackOff)
        const gaps = restartedAt.slice(1).map((at, i) => at - restartedAt[i]!)
        // 300, 600, 1200 ms of back-off (after the first 150), plus the time each run takes
        assert.isAbove(gaps[2]! - gaps[0]!, 600, JSON.stringify(gaps))
        assert.isAbove(gaps[2]!, 1150, JSON.stringify(gaps))
        yield* scheduler.remove(name)
      })), 60_000)

  it.live("a missing working directory fails the run with a clear reason instead of running elsewhere", () =>
    withScheduler(fast(newHome()), (scheduler) =>
      Effect.gen(function*() {
        const name = uniqueName("nocwd")
        yield* scheduler.deploy(WorkloadSpec.make({ ...fixtureSpec(capabilities, name), workingDir: "/nonexistent/aquifer", restartPolicy: "never" }))
        const status = yield* eventually(scheduler.status(name), (s) => s.phase === "failed", "the failed run", 10_000)
        assert.strictEqual(status.reason, "StartError")
        assert.include(status.message, "/nonexistent/aquifer")
        const lines = yield* Stream.runCollect(scheduler.logs(name))
        assert.isTrue(lines.some((line) => line.includes("does not exist")), JSON.stringify(lines))
        yield* scheduler.remove(name)
      })), 30_000)

  it.live("refuses an image-only spec: this scheduler runs commands", () =>
    withScheduler(fast(newHome()), (scheduler) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(scheduler.deploy(WorkloadSpec.make({
          ...fixtureSpec(capabilities, uniqueName("img")),
          command: undefined,
          args: undefined,
          image: "registry.aquifer.test/app:1"
        })))
        assert.strictEqual(error._tag, "InvalidWorkload")
        assert.strictEqual((error as { field?: string }).field, "command")
        assert.strictEqual(scheduler.runs, "command")
      })), 30_000)
})
