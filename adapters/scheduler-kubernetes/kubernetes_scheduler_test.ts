import { Scheduler, SchedulerPolicy, type WorkloadEvent, WorkloadSpec } from "@aquifer/scheduler"
import { eventually, fixtureSpec, kitPolicy, suite, uniqueName } from "@aquifer/scheduler/testing"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { KubeConfig } from "@kubernetes/client-node"
import { Effect, Fiber, Layer, Queue, Redacted, Stream } from "effect"
import { execFile, execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { gunzipSync } from "node:zlib"
import { parseAllDocuments } from "yaml"
import { loadChart, render, valuesFromSpec } from "./_chart.ts"
import { layer } from "./mod.ts"
import { ApiServerDouble } from "./testdata/api_server_double.ts"
import { ensureHelm } from "./testdata/helm.ts"

// KUBECONFIG=… AQUIFER_K8S_TEST=1 ./aq test:k8s runs the same kit against a real cluster, in the
// namespace AQUIFER_K8S_TEST_NAMESPACE (default aquifer-test), with AQUIFER_K8S_TEST_IMAGE built
// from testdata/echo (see docs/adapters/scheduler.md).
const execFileAsync = promisify(execFile)
const realCluster = process.env.KUBECONFIG !== undefined && process.env.AQUIFER_K8S_TEST === "1"
const namespace = realCluster ? process.env.AQUIFER_K8S_TEST_NAMESPACE ?? "aquifer-test" : "aquifer"

const double = new ApiServerDouble()
if (!realCluster) await double.start()
const work = mkdtempSync(join(tmpdir(), "aquifer-k8s-"))
afterAll(async () => {
  await double.stop()
  rmSync(work, { recursive: true, force: true })
})

const kubeconfigFile = join(work, "kubeconfig")
writeFileSync(
  kubeconfigFile,
  JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "double", cluster: { server: double.url, "insecure-skip-tls-verify": true } }],
    users: [{ name: "tester", user: { token: "test" } }],
    contexts: [{ name: "double", context: { cluster: "double", user: "tester", namespace } }],
    "current-context": "double"
  })
)
const kubeConfig = new KubeConfig()
if (realCluster) kubeConfig.loadFromDefault()
else kubeConfig.loadFromFile(kubeconfigFile)

const testImage = realCluster ? process.env.AQUIFER_K8S_TEST_IMAGE ?? "registry.aquifer.test/echo:1" : "registry.aquifer.test/echo:1"
const policy = SchedulerPolicy.make({ allowedImages: [...kitPolicy.allowedImages, testImage], requireLimits: true })
const schedulerLayer = layer({ kubeConfig, namespace, policy })
const capabilities = {
  server: () => ({ image: testImage, port: 8080 }),
  crasher: realCluster ? undefined : () => ({ image: "registry.aquifer.test/crash:1", port: 8080 }),
  logs: true,
  reachable: false,
  readyTimeout: realCluster ? 180_000 : 20_000
}

if (realCluster) {
  suite("scheduler-kubernetes against the cluster of KUBECONFIG", schedulerLayer, capabilities)
} else {
  console.info("scheduler-kubernetes: testing against an API-server test double (set KUBECONFIG and AQUIFER_K8S_TEST=1 to use a real cluster)")
  suite("scheduler-kubernetes against an API-server test double", schedulerLayer, capabilities)
}

const withScheduler = <A, E>(body: (scheduler: Scheduler["Service"]) => Effect.Effect<A, E>) =>
  Effect.provide(Scheduler.use(body), Layer.fresh(schedulerLayer))

const fullSpec = (name: string) =>
  fixtureSpec(capabilities, name, {
    kind: "engine",
    labels: { team: "ds", "example.com/tier": "web" },
    env: { GREETING: "hi", A_FIRST: "1" },
    args: ["--verbose", "1"],
    secrets: [
      { secret: "api", key: "token", env: "SECRET_TOKEN" },
      { secret: "api", key: "token", file: "token/value" }
    ],
    volumes: [{ name: "data", mountPath: "/data", size: "2Gi" }, { name: "model-cache", mountPath: "/cache" }],
    gpus: 1
  })
const material = { api: { token: Redacted.make("s3cr3t") } }

// The double runs in this process: Helm must run asynchronously so the double can answer it.
const helm = (...args: Array<string>) =>
  Effect.tryPromise({
    try: async () => {
      const { stdout } = await execFileAsync(ensureHelm(), [...args, "--kubeconfig", kubeconfigFile, "--namespace", namespace], {
        encoding: "utf8",
        env: { ...process.env, HELM_CACHE_HOME: join(work, "helm-cache"), HELM_CONFIG_HOME: join(work, "helm-config"), HELM_DATA_HOME: join(work, "helm-data") },
        timeout: 60_000
      })
      return stdout
    },
    catch: (error) => new Error(`helm ${args.join(" ")} failed: ${(error as { stderr?: string }).stderr ?? String(error)}`)
  }).pipe(Effect.orDie)

describe.skipIf(realCluster)("scheduler-kubernetes against an API-server test double", () => {
  it.live("every object it sends validates against the Kubernetes OpenAPI schemas; removal leaves nothing behind", () =>
    withScheduler((scheduler) =>
      Effect.gen(function*() {
        const name = uniqueName("k8s-full")
        yield* scheduler.deploy(fullSpec(name), material)
        yield* eventually(scheduler.status(name), (s) => s.ready, "ready", 20_000)
        assert.deepStrictEqual(double.invalid, [])
        const deployment = double.get("deployments", namespace, name)!
        const owned = (resource: string, object: string) =>
          double.get(resource, namespace, object)?.metadata.ownerReferences?.[0]?.uid === deployment.metadata.uid
        assert.isTrue(owned("services", name))
        assert.isTrue(owned("secrets", `${name}-secrets`))
        assert.isTrue(owned("persistentvolumeclaims", `${name}-data`))
        assert.strictEqual(deployment.metadata.annotations["meta.helm.sh/release-name"], name)
        assert.strictEqual(deployment.metadata.labels["app.kubernetes.io/managed-by"], "Helm")
        const container = deployment.spec.template.spec.containers[0]
        assert.strictEqual(container.resources.limits["nvidia.com/gpu"], 1)
        assert.notInclude(JSON.stringify(deployment), "s3cr3t")
        const secret = double.get("secrets", namespace, `${name}-secrets`)!
        assert.strictEqual(Buffer.from(secret.data["ref-0"], "base64").toString(), "s3cr3t")

        yield* scheduler.remove(name)
        for (const resource of ["deployments", "services", "persistentvolumeclaims", "pods", "secrets"]) {
          const left = double.list(resource, namespace).filter((o) =>
            o.metadata.name === name || o.metadata.name.startsWith(`${name}-`) || o.metadata.labels?.name === name ||
            o.metadata.labels?.["aquifer.dev/workload"] === name
          )
          assert.deepStrictEqual(left.map((o) => `${resource}/${o.metadata.name}`), [])
        }
      })), 60_000)

  it.live("the release is a Helm 3 storage Secret: base64(gzip(JSON)) inside the Secret's own base64", () =>
    withScheduler((scheduler) =>
      Effect.gen(function*() {
        const name = uniqueName("k8s-helm")
        yield* scheduler.deploy(fullSpec(name), material)
        yield* scheduler.deploy(fixtureSpec(capabilities, name, { env: { GREETING: "v2" } }))
        const secret = double.get("secrets", namespace, `sh.helm.release.v1.${name}.v2`)!
        assert.strictEqual(secret.type, "helm.sh/release.v1")
        assert.deepInclude(secret.metadata.labels, { owner: "helm", name, status: "deployed", version: "2" })
        // What the API carries is base64; inside is Helm's own base64 of a gzip of JSON.
        const helmText = Buffer.from(secret.data.release, "base64").toString("utf8")
        assert.match(helmText, /^[A-Za-z0-9+/]+=*$/)
        const gz = Buffer.from(helmText, "base64")
        assert.deepStrictEqual([gz[0], gz[1]], [0x1f, 0x8b])
        const release = JSON.parse(gunzipSync(gz).toString("utf8"))
        assert.strictEqual(release.name, name)
        assert.strictEqual(release.version, 2)
        assert.strictEqual(release.namespace, namespace)
        assert.strictEqual(release.info.status, "deployed")
        assert.strictEqual(release.info.description, "Upgrade complete")
        assert.strictEqual(release.chart.metadata.name, "aquifer-workload")
        assert.strictEqual(release.chart.metadata.apiVersion, "v2")
        assert.deepStrictEqual(release.config.env, { GREETING: "v2" })
        assert.strictEqual(release.config.image, testImage)
        assert.include(release.manifest, "kind: Deployment")
        assert.isTrue(release.chart.templates.some((t: { name: string }) => t.name === "templates/deployment.yaml"))
        assert.notInclude(JSON.stringify(release), "s3cr3t")
        const first = double.get("secrets", namespace, `sh.helm.release.v1.${name}.v1`)!
        assert.strictEqual(first.metadata.labels.status, "superseded")
        yield* scheduler.remove(name)
      })), 60_000)

  it.live("a deploy that changes nothing makes no write; 409 conflicts are retried", () =>
    withScheduler((scheduler) =>
      Effect.gen(function*() {
        const name = uniqueName("k8s-idem")
        yield* scheduler.deploy(fullSpec(name), material)
        yield* eventually(scheduler.status(name), (s) => s.ready, "ready", 20_000)
        const mark = double.requests.length
        const again = yield* scheduler.deploy(fullSpec(name), material)
        assert.strictEqual(again.change, "unchanged")
        assert.deepStrictEqual(double.writesSince(mark).map((r) => `${r.method} ${r.path}`), [])
        double.failNext("PUT", `/deployments/${name}`, 409, 2)
        const changed = yield* scheduler.deploy(fixtureSpec(capabilities, name, { env: { GREETING: "after-conflict" } }))
        assert.strictEqual(changed.change, "updated")
        const env = double.get("deployments", namespace, name)!.spec.template.spec.containers[0].env
        assert.deepInclude(env, { name: "GREETING", value: "after-conflict" })
        yield* scheduler.remove(name)
      })), 60_000)

  it.live("status reports the container's restarts and last exit; watch starts from a resourceVersion", () =>
    withScheduler((scheduler) =>
      Effect.gen(function*() {
        const name = uniqueName("k8s-crash")
        yield* scheduler.deploy(fixtureSpec(capabilities, name))
        yield* eventually(scheduler.status(name), (s) => s.ready, "ready", 20_000)
        const events = yield* Stream.runCollect(scheduler.watch().pipe(Stream.filter((e) => e.name === name), Stream.take(1)))
        assert.strictEqual(events[0]!.type, "added")
        assert.isTrue(double.requests.some((r) => r.query.get("watch") === "true" && /^\d+$/.test(r.query.get("resourceVersion") ?? "")))
        double.crash(namespace, name, 137)
        const status = yield* scheduler.status(name)
        assert.strictEqual(status.phase, "failed")
        assert.strictEqual(status.reason, "CrashLoopBackOff")
        assert.strictEqual(status.restarts, 1)
        assert.strictEqual(status.lastExit?.code, 137)
        yield* scheduler.remove(name)
      })), 60_000)

  it.live("watch resumes after the API server ends the watch connection", () =>
    withScheduler((scheduler) =>
      Effect.gen(function*() {
        const name = uniqueName("k8s-rewatch")
        const run = uniqueName("rewatch")
        yield* scheduler.deploy(fixtureSpec(capabilities, name, { labels: { run } }))
        const events = yield* Queue.unbounded<WorkloadEvent>()
        const fiber = yield* scheduler.watch({ run }).pipe(Stream.runForEach((e) => Queue.offer(events, e)), Effect.forkChild)
        const next = (ok: (e: WorkloadEvent) => boolean) =>
          Effect.gen(function*() {
            while (true) {
              const event = yield* Queue.take(events).pipe(Effect.timeoutOrElse({ duration: 15_000, orElse: () => Effect.die(new Error("no event")) }))
              if (ok(event)) return event
            }
          })
        yield* next((e) => e.type === "added" && e.name === name)
        yield* eventually(Effect.sync(() => double.openWatches), (open) => open >= 2, "the watches to open", 15_000)
        const watchesBefore = double.requests.filter((r) => r.query.get("watch") === "true").length
        assert.isAtLeast(double.dropWatches(), 2)
        yield* eventually(
          Effect.sync(() => double.requests.filter((r) => r.query.get("watch") === "true").length),
          (count) => count >= watchesBefore + 2,
          "the watches to be re-established",
          15_000
        )
        yield* scheduler.deploy(fixtureSpec(capabilities, name, { labels: { run }, env: { GREETING: "after-drop" } }))
        const modified = yield* next((e) => e.type === "modified" && e.workload?.spec.env?.GREETING === "after-drop")
        assert.strictEqual(modified.name, name)
        yield* Fiber.interrupt(fiber)
        yield* scheduler.remove(name)
      })), 60_000)

  it.live("logs follow the pod's log stream until the server ends it", () =>
    withScheduler((scheduler) =>
      Effect.gen(function*() {
        const name = uniqueName("k8s-follow")
        yield* scheduler.deploy(fixtureSpec(capabilities, name))
        yield* eventually(scheduler.status(name), (s) => s.ready, "ready", 20_000)
        const lines = yield* Stream.runCollect(scheduler.logs(name, { follow: true }))
        assert.deepStrictEqual(lines, ["listening on 8080"])
        assert.isTrue(double.requests.some((r) => r.path.endsWith("/log") && r.query.get("follow") === "true"))
        yield* scheduler.remove(name)
      })), 30_000)

  it.live("refuses what a Deployment cannot do, and specs without an image", () =>
    withScheduler((scheduler) =>
      Effect.gen(function*() {
        const never = yield* Effect.flip(scheduler.deploy(fixtureSpec(capabilities, uniqueName("k8s-bad"), { restartPolicy: "never" })))
        assert.strictEqual((never as { field?: string }).field, "restartPolicy")
        const noImage = yield* Effect.flip(scheduler.deploy(WorkloadSpec.make({
          ...fixtureSpec(capabilities, uniqueName("k8s-bad")),
          image: undefined,
          command: "/bin/server"
        })))
        assert.strictEqual((noImage as { field?: string }).field, "image")
        assert.strictEqual(scheduler.runs, "image")
      })), 30_000)

  it.live("the Helm CLI lists, shows and uninstalls Aquifer's workloads", () =>
    withScheduler((scheduler) =>
      Effect.gen(function*() {
        const name = uniqueName("k8s-cli")
        yield* scheduler.deploy(fullSpec(name), material)
        yield* scheduler.deploy(fixtureSpec(capabilities, name, { env: { GREETING: "v2" } }))
        const listed = JSON.parse(yield* helm("list", "--output", "json")) as Array<Record<string, string>>
        const entry = listed.find((release) => release.name === name)
        assert.isDefined(entry, JSON.stringify(listed))
        assert.strictEqual(entry!.status, "deployed")
        assert.strictEqual(String(entry!.revision), "2")
        assert.strictEqual(entry!.chart, "aquifer-workload-0.1.0")
        const status = JSON.parse(yield* helm("status", name, "--output", "json"))
        assert.strictEqual(status.info.status, "deployed")
        assert.strictEqual(status.version, 2)
        const history = JSON.parse(yield* helm("history", name, "--output", "json")) as Array<{ revision: number; status: string }>
        assert.deepStrictEqual(history.map((h) => [h.revision, h.status]), [[1, "superseded"], [2, "deployed"]])
        yield* helm("uninstall", name)
        assert.strictEqual(yield* Effect.map(Effect.flip(scheduler.get(name)), (e) => e._tag), "WorkloadNotFound")
        assert.isUndefined(double.get("deployments", namespace, name))
        assert.isUndefined(double.get("services", namespace, name))
        assert.isUndefined(double.get("secrets", namespace, `${name}-secrets`), "the owner-referenced Secret outlived the Deployment")
        assert.isUndefined(double.get("persistentvolumeclaims", namespace, `${name}-data`))
      })), 120_000)

  it.live("a release installed with the Helm CLI from the chart is an Aquifer workload", () =>
    withScheduler((scheduler) =>
      Effect.gen(function*() {
        const name = uniqueName("k8s-byhelm")
        yield* helm("install", name, join(import.meta.dirname, "chart"), "--set", `image=${testImage}`, "--set", "owner=bob", "--set", "labels.team=cli", "--set", "port=9000", "--disable-openapi-validation")
        const workload = yield* eventually(scheduler.get(name), (w) => w.status.ready, "the Helm-installed release to run", 20_000)
        assert.strictEqual(workload.spec.image, testImage)
        assert.strictEqual(workload.spec.owner, "bob")
        assert.strictEqual(workload.spec.port, 9000)
        assert.strictEqual(workload.revision, 1)
        assert.include((yield* scheduler.list({ team: "cli" })).map((w) => w.spec.name), name)
        const endpoint = yield* scheduler.endpoint(name)
        assert.strictEqual(endpoint.url, `http://${name}.${namespace}.svc.cluster.local:9000`)
        const updated = yield* scheduler.deploy(fixtureSpec(capabilities, name, { owner: "bob" }))
        assert.strictEqual(updated.change, "updated")
        assert.strictEqual(updated.workload.revision, 2)
        const history = JSON.parse(yield* helm("history", name, "--output", "json")) as Array<{ revision: number; status: string }>
        assert.deepStrictEqual(history.map((h) => [h.revision, h.status]), [[1, "superseded"], [2, "deployed"]])
        yield* scheduler.remove(name)
        assert.notInclude(yield* helm("list", "--short"), name)
        assert.deepStrictEqual(double.list("secrets", namespace).filter((secret) => secret.metadata.labels?.name === name), [])
      })), 120_000)

  it("the chart renders, with the real Helm CLI, exactly the objects the adapter applies", () => {
    const chart = loadChart()
    const settings = { gpuResource: "nvidia.com/gpu", storageClassName: "fast", imagePullPolicy: "IfNotPresent" }
    const specs = [
      fullSpec("render-full"),
      fixtureSpec(capabilities, "render-min", { resources: undefined, readinessPath: undefined }),
      WorkloadSpec.make({ ...fixtureSpec(capabilities, "render-cmd"), command: "/bin/serve", args: ["-p", "8080"], workingDir: "/srv", labels: { empty: "" } })
    ]
    for (const [index, spec] of specs.entries()) {
      const values = valuesFromSpec(spec, settings, index === 0 ? "abc123" : "", index === 2)
      const file = join(work, `values-${index}.json`)
      writeFileSync(file, JSON.stringify(values))
      const rendered = execFileSync(ensureHelm(), ["template", spec.name, join(import.meta.dirname, "chart"), "--namespace", namespace, "-f", file], { encoding: "utf8" })
      const fromHelm = parseAllDocuments(rendered).map((doc) => doc.toJS()).filter((doc) => doc !== null)
      assert.deepStrictEqual(render(spec.name, namespace, values, chart), fromHelm, spec.name)
    }
  }, 120_000)
})
