// `./aq bench scheduler`: the Kubernetes scheduler's `list` and `get` with 1,000 workloads,
// against the API-server test double (in this process, over loopback HTTP).
import { Scheduler, WorkloadSpec } from "@aquifer/scheduler"
import { KubeConfig } from "@kubernetes/client-node"
import { Effect, Layer, ManagedRuntime } from "effect"
import { layer } from "./mod.ts"
import { ApiServerDouble } from "./testdata/api_server_double.ts"

const log = (text: string) => process.stderr.write(`${text}\n`)
const median = (values: Array<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`

const double = new ApiServerDouble()
await double.start()
const kubeConfig = new KubeConfig()
kubeConfig.loadFromOptions({
  clusters: [{ name: "double", server: double.url, skipTLSVerify: true }],
  users: [{ name: "bench", token: "bench" }],
  contexts: [{ name: "double", cluster: "double", user: "bench", namespace: "bench" }],
  currentContext: "double"
})
const runtime = ManagedRuntime.make(Layer.fresh(layer({ kubeConfig, namespace: "bench" })))
const run = <A, E>(f: (scheduler: Scheduler["Service"]) => Effect.Effect<A, E>) => runtime.runPromise(Scheduler.use(f))

const count = 1000
const spec = (i: number) =>
  WorkloadSpec.make({
    name: `bench-${i}`,
    owner: "bench",
    kind: "app",
    image: "registry.aquifer.test/echo:1",
    port: 8080,
    readinessPath: "/healthz",
    labels: { group: `g${i % 100}` },
    resources: { limits: { cpu: "500m", memory: "256Mi" } }
  })

log(`deploying ${count} workloads through the adapter`)
const seedStarted = performance.now()
for (let i = 0; i < count; i += 4) {
  await Promise.all([0, 1, 2, 3].filter((j) => i + j < count).map((j) => run((s) => s.deploy(spec(i + j)))))
  if ((i + 4) % 200 === 0) log(`  ${i + 4}`)
}
const seedTime = performance.now() - seedStarted
const requestsBefore = double.requests.length
const listTimes: Array<number> = []
for (let i = 0; i < 10; i++) {
  const started = performance.now()
  const all = await run((s) => s.list())
  listTimes.push(performance.now() - started)
  if (all.length !== count) throw new Error(`list returned ${all.length}`)
}
const requestsPerList = (double.requests.length - requestsBefore) / 10
const selectTimes: Array<number> = []
for (let i = 0; i < 10; i++) {
  const started = performance.now()
  const some = await run((s) => s.list({ group: "g7" }))
  selectTimes.push(performance.now() - started)
  if (some.length !== 10) throw new Error(`selector returned ${some.length}`)
}
const getTimes: Array<number> = []
for (let i = 0; i < 50; i++) {
  const started = performance.now()
  await run((s) => s.get(`bench-${(i * 37) % count}`))
  getTimes.push(performance.now() - started)
}
const unchangedTimes: Array<number> = []
for (let i = 0; i < 20; i++) {
  const started = performance.now()
  await run((s) => s.deploy(spec(i)))
  unchangedTimes.push(performance.now() - started)
}
await runtime.dispose()
await double.stop()

const list = median(listTimes)
console.log(`## Scheduler: Kubernetes, against an API-server test double

\`list\`, \`get\` and an unchanged \`deploy\` with ${count} workloads, each a Helm release (one storage
Secret, Deployment, Service, pod). The API server is the test double of
\`testdata/api_server_double.ts\`, in the same process, over loopback HTTP: figures show the
adapter's own cost (three list calls, decoding ${count} gzip+base64 release records), not a real
API server's. Medians of 10 (\`list\`), 50 (\`get\`), 20 (\`deploy\`).

| measurement | median | ratio |
|---|---|---|
| list, ${count} workloads (${requestsPerList} API calls) | ${ms(list)} | ${(list / count * 1000).toFixed(0)} µs per workload |
| list with a label selector (10 of ${count} match) | ${ms(median(selectTimes))} | ${(median(selectTimes) / list).toFixed(2)} of a full list |
| get one workload | ${ms(median(getTimes))} | ${(median(getTimes) / list * 100).toFixed(1)} % of a full list |
| deploy, nothing changed (no write) | ${ms(median(unchangedTimes))} | |
| deploy of ${count} workloads, 4 at a time | ${(seedTime / 1000).toFixed(1)} s | ${ms(seedTime / count * 4)} per deploy |

\`get\` and \`deploy\` list the release Secrets of one name by label; the double filters every
Secret for each such call, as an API server without an index would. Other engineers' work
shares the 2 cores, so absolute figures are noisy.`)
