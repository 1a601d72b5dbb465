// `./aq bench scheduler`: the local scheduler's deploy → ready time for a trivial HTTP workload,
// beside the direct path (spawning the same server and polling it), and the cost of `list`
// with 1,000 workloads.
import { Scheduler, WorkloadSpec } from "@aquifer/scheduler"
import { Effect, Layer, ManagedRuntime } from "effect"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { setTimeout as sleep } from "node:timers/promises"
import { layer } from "./mod.ts"

const server = join(import.meta.dirname, "testdata", "server.mjs")
const home = mkdtempSync(join(tmpdir(), "aquifer-sched-bench-"))
const runtime = ManagedRuntime.make(Layer.fresh(layer({ home, onShutdown: "stop", stopGraceMs: 3000 })))
const run = <A, E>(f: (scheduler: Scheduler["Service"]) => Effect.Effect<A, E>) => runtime.runPromise(Scheduler.use(f))
const log = (text: string) => process.stderr.write(`${text}\n`)

const median = (values: Array<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}
const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer()
    probe.listen(0, "127.0.0.1", () => {
      const port = (probe.address() as { port: number }).port
      probe.close(() => resolve(port))
    })
  })

const answers = async (url: string) => {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok
  } catch {
    return false
  }
}

const direct = async (): Promise<number> => {
  const port = await freePort()
  const started = performance.now()
  const child = spawn(process.execPath, [server], { env: { ...process.env, PORT: String(port) }, stdio: "ignore" })
  while (!(await answers(`http://127.0.0.1:${port}/healthz`))) await sleep(10)
  const elapsed = performance.now() - started
  child.kill("SIGKILL")
  await new Promise((resolve) => child.once("exit", resolve))
  return elapsed
}

const viaScheduler = async (index: number): Promise<number> => {
  const name = `bench-ready-${index}`
  const started = performance.now()
  await run((s) => s.deploy(WorkloadSpec.make({ name, owner: "bench", kind: "app", command: process.execPath, args: [server], port: 8080, readinessPath: "/healthz" })))
  while (!(await run((s) => s.status(name))).ready) await sleep(10)
  const elapsed = performance.now() - started
  await run((s) => s.remove(name))
  return elapsed
}

const rounds = 10
const directTimes: Array<number> = []
const schedulerTimes: Array<number> = []
for (let i = 0; i < rounds; i++) {
  directTimes.push(await direct())
  schedulerTimes.push(await viaScheduler(i))
  log(`round ${i + 1}/${rounds}: direct ${ms(directTimes.at(-1)!)}, scheduler ${ms(schedulerTimes.at(-1)!)}`)
}

const count = 1000
log(`deploying ${count} short-lived workloads (/bin/true, restartPolicy never)`)
const seedStarted = performance.now()
for (let i = 0; i < count; i++) {
  await run((s) =>
    s.deploy(WorkloadSpec.make({
      name: `bench-list-${i}`,
      owner: "bench",
      kind: "app",
      command: "/bin/true",
      port: 8080,
      restartPolicy: "never",
      labels: { group: `g${i % 100}` }
    }))
  )
}
const seedTime = performance.now() - seedStarted
const listTimes: Array<number> = []
const selectTimes: Array<number> = []
for (let i = 0; i < 20; i++) {
  let started = performance.now()
  const all = await run((s) => s.list())
  listTimes.push(performance.now() - started)
  if (all.length !== count) throw new Error(`list returned ${all.length}`)
  started = performance.now()
  const some = await run((s) => s.list({ group: "g7" }))
  selectTimes.push(performance.now() - started)
  if (some.length !== 10) throw new Error(`selector returned ${some.length}`)
}
log("removing")
for (let i = 0; i < count; i++) await run((s) => s.remove(`bench-list-${i}`))
await runtime.dispose()
rmSync(home, { recursive: true, force: true })

const directMedian = median(directTimes)
const schedulerMedian = median(schedulerTimes)
console.log(`## Scheduler: local processes

Deploy → ready for a trivial Node HTTP server (\`testdata/server.mjs\`), median of ${rounds} rounds run
alternately with the direct path (spawn the same server, poll \`/healthz\` every 10 ms). The
scheduler's path adds validation, a record on disk, the \`/bin/sh\` wrapper and its own readiness
probe (first probe after 50 ms, then backing off from 100 ms). Then \`list\` over ${count} workloads
(short-lived \`/bin/true\` runs; \`list\` reads the scheduler's in-memory view of its records), median of 20.

| measurement | median | ratio |
|---|---|---|
| direct: spawn + poll until ready | ${ms(directMedian)} | 1.00 |
| scheduler: deploy → status ready | ${ms(schedulerMedian)} | ${(schedulerMedian / directMedian).toFixed(2)} |
| list, ${count} workloads | ${ms(median(listTimes))} | ${(median(listTimes) / count * 1000).toFixed(1)} µs per workload |
| list with a label selector (10 of ${count} match) | ${ms(median(selectTimes))} | |
| deploy of ${count} short-lived workloads, one after another | ${(seedTime / 1000).toFixed(1)} s | ${ms(seedTime / count)} per deploy |

Other engineers' work shares the 2 cores, so absolute figures are noisy; the ratio of the first
two rows was measured side by side.`)
