// The Kubernetes scheduler's logic: each workload is a Helm release of ./chart, recorded the way
// Helm 3 records releases, applied object by object with optimistic concurrency.
import {
  type ExitInfo,
  type ResolvedSecret,
  type Workload,
  type WorkloadEvent,
  WorkloadSpec,
  type WorkloadStatus
} from "@aquifer/scheduler"
import { Schema } from "effect"
import { createHash, randomBytes } from "node:crypto"
import {
  chartName,
  coalesce,
  type KubeObject,
  type LoadedChart,
  manifestText,
  render,
  type Settings,
  specFromValues,
  type Values,
  valuesFromSpec
} from "./_chart.ts"
import { isStatus, type Kube, type Resource } from "./_kube.ts"
import { newRelease, type Release, releaseFromSecret, releaseSecret, releaseSecretName, type ReleaseStatus } from "./_release.ts"

export class NotFoundError extends Error {}
export class ConflictError extends Error {}

export interface BackendOptions extends Settings {
  readonly clusterDomain: string
  readonly historyMax: number
}

const hashAnnotation = "aquifer.dev/applied-hash"
const saltAnnotation = "aquifer.dev/salt"
const workloadLabel = "aquifer.dev/workload"
const decodeSpec = Schema.decodeUnknownSync(WorkloadSpec)

const resourceOf: Record<string, Resource> = {
  Secret: "secrets",
  Service: "services",
  PersistentVolumeClaim: "persistentvolumeclaims",
  Deployment: "deployments"
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex")

const canonical = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(canonical)
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical((value as Record<string, unknown>)[key])]))
  }
  return value
}
const sameJson = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b))

interface Described {
  readonly release: Release
  readonly values: Values
  readonly workload: Workload
}

export class KubeBackend {
  private readonly locks = new Map<string, Promise<unknown>>()
  readonly kube: Kube
  readonly chart: LoadedChart
  readonly options: BackendOptions

  constructor(kube: Kube, chart: LoadedChart, options: BackendOptions) {
    this.kube = kube
    this.chart = chart
    this.options = options
  }

  private serial<A>(name: string, task: () => Promise<A>): Promise<A> {
    const previous = this.locks.get(name) ?? Promise.resolve()
    const next = previous.then(task, task)
    const settled = next.then(() => undefined, () => undefined)
    this.locks.set(name, settled)
    void settled.then(() => {
      if (this.locks.get(name) === settled) this.locks.delete(name)
    })
    return next
  }

  // ---- release records --------------------------------------------------------------------

  private async releases(name: string): Promise<Array<Release>> {
    const { items } = await this.kube.list("secrets", `owner=helm,name=${name}`)
    return items
      .map((secret) => releaseFromSecret(secret))
      .filter((release): release is Release => release !== undefined && release.name === name)
      .sort((a, b) => a.version - b.version)
  }

  private async writeRelease(release: Release, create: boolean, createdAt: number): Promise<void> {
    const body = releaseSecret(release, createdAt)
    if (create) {
      await this.kube.create("secrets", body)
      return
    }
    for (let attempt = 0; ; attempt++) {
      const live = await this.kube.get("secrets", body.metadata.name)
      if (live === undefined) {
        await this.kube.create("secrets", body)
        return
      }
      body.metadata.labels.createdAt = live.metadata.labels?.createdAt ?? body.metadata.labels.createdAt
      body.metadata.labels.modifiedAt = String(Math.floor(Date.now() / 1000))
      body.metadata.resourceVersion = live.metadata.resourceVersion
      try {
        await this.kube.replace("secrets", body)
        return
      } catch (error) {
        if (!isStatus(error, 409) || attempt >= 4) throw error
      }
    }
  }

  private isOurs(release: Release): boolean {
    return release.chart?.metadata?.name === chartName
  }

  effectiveValues(release: Release): Values {
    return coalesce(release.chart?.values ?? this.chart.values, release.config) as Values
  }

  // ---- applying objects -------------------------------------------------------------------

  private decorate(object: KubeObject, release: string): KubeObject {
    const copy = structuredClone(object)
    const hash = sha256(JSON.stringify(canonical(object)))
    copy.metadata.annotations = {
      ...copy.metadata.annotations,
      "meta.helm.sh/release-name": release,
      "meta.helm.sh/release-namespace": this.kube.namespace,
      [hashAnnotation]: hash
    }
    return copy
  }

  /** Creates or replaces one object; no write when its applied hash is unchanged. */
  private async apply(object: KubeObject, release: string, owner?: KubeObject): Promise<KubeObject> {
    const resource = resourceOf[object.kind]!
    const desired = this.decorate(object, release)
    if (owner !== undefined) {
      desired.metadata.ownerReferences = [{
        apiVersion: "apps/v1",
        kind: "Deployment",
        name: owner.metadata.name,
        uid: owner.metadata.uid,
        blockOwnerDeletion: false
      }]
    }
    for (let attempt = 0; ; attempt++) {
      const live = await this.kube.get(resource, desired.metadata.name)
      if (live === undefined) {
        try {
          return await this.kube.create(resource, desired)
        } catch (error) {
          if (isStatus(error, 409) && attempt < 4) continue
          throw error
        }
      }
      const sameOwner = owner === undefined || (live.metadata.ownerReferences ?? []).some((ref: { uid: string }) => ref.uid === owner.metadata.uid)
      if (live.metadata.annotations?.[hashAnnotation] === desired.metadata.annotations[hashAnnotation] && sameOwner) return live
      const body = structuredClone(desired)
      body.metadata.resourceVersion = live.metadata.resourceVersion
      if (object.kind === "Service") {
        // The cluster IP is assigned by the server and immutable.
        body.spec.clusterIP = live.spec?.clusterIP
        body.spec.clusterIPs = live.spec?.clusterIPs
      }
      if (object.kind === "PersistentVolumeClaim") {
        // A claim's spec is immutable but for growing its request.
        const storage = desired.spec.resources.requests.storage
        body.spec = { ...live.spec, resources: { ...live.spec.resources, requests: { ...live.spec.resources?.requests, storage } } }
      }
      try {
        return await this.kube.replace(resource, body)
      } catch (error) {
        if (isStatus(error, 409) && attempt < 4) continue
        throw error
      }
    }
  }

  private async applyRelease(name: string, values: Values, secrets: ReadonlyArray<ResolvedSecret> | undefined, salt: string, previous?: Release) {
    const objects = render(name, this.kube.namespace, values, this.chart)
    const deploymentObject = objects.find((o) => o.kind === "Deployment")!
    const deployment = await this.apply(deploymentObject, name)
    for (const object of objects) {
      if (object !== deploymentObject) await this.apply(object, name, deployment)
    }
    if (secrets !== undefined) {
      if (secrets.length > 0) {
        await this.apply({
          apiVersion: "v1",
          kind: "Secret",
          metadata: {
            name: `${name}-secrets`,
            namespace: this.kube.namespace,
            labels: { [workloadLabel]: name, "app.kubernetes.io/managed-by": "aquifer" },
            annotations: { [saltAnnotation]: salt }
          },
          type: "Opaque",
          data: Object.fromEntries(secrets.map((secret, index) => [`ref-${index}`, Buffer.from(secret.value).toString("base64")]))
        }, name, deployment)
      } else {
        await this.kube.delete("secrets", `${name}-secrets`)
      }
    }
    if (previous !== undefined) {
      const keep = new Set(objects.map((o) => `${o.kind}/${o.metadata.name}`))
      for (const old of render(name, this.kube.namespace, this.effectiveValues(previous), this.chart)) {
        if (!keep.has(`${old.kind}/${old.metadata.name}`)) await this.kube.delete(resourceOf[old.kind]!, old.metadata.name)
      }
    }
  }

  private async secretSalt(name: string): Promise<string> {
    const live = await this.kube.get("secrets", `${name}-secrets`)
    return live?.metadata.annotations?.[saltAnnotation] ?? randomBytes(16).toString("hex")
  }

  /** Records a new revision with these values and makes the cluster match it. */
  private async upgrade(
    name: string,
    history: Array<Release>,
    values: Values,
    labels: Record<string, string>,
    description: string,
    secrets: ReadonlyArray<ResolvedSecret> | undefined,
    salt: string
  ): Promise<void> {
    const latest = history.at(-1)
    const version = (latest?.version ?? 0) + 1
    const createdAt = Date.now()
    const objects = render(name, this.kube.namespace, values, this.chart)
    const release = newRelease({
      name,
      namespace: this.kube.namespace,
      version,
      chart: this.chart,
      config: values,
      manifest: manifestText(objects),
      status: latest === undefined ? "pending-install" : "pending-upgrade",
      description: latest === undefined ? "Initial install underway" : "Preparing upgrade",
      firstDeployed: history[0]?.info.first_deployed ?? new Date(createdAt).toISOString(),
      labels
    })
    try {
      await this.writeRelease(release, true, createdAt)
    } catch (error) {
      if (isStatus(error, 409)) throw new ConflictError(`revision ${version} of ${name} was written by someone else meanwhile`)
      throw error
    }
    try {
      await this.applyRelease(name, values, secrets, salt, latest)
    } catch (error) {
      release.info.status = "failed"
      release.info.description = `Aquifer could not apply the release: ${error instanceof Error ? error.message : String(error)}`
      await this.writeRelease(release, false, createdAt).catch(() => undefined)
      throw error
    }
    release.info.status = "deployed"
    release.info.description = description
    await this.writeRelease(release, false, createdAt)
    for (const old of history) {
      if (old.info.status === "deployed" || old.info.status.startsWith("pending")) {
        old.info.status = "superseded"
        await this.writeRelease(old, false, Date.parse(old.info.last_deployed) || createdAt)
      }
    }
    const excess = history.length + 1 - this.options.historyMax
    for (const old of history.slice(0, Math.max(0, excess))) await this.kube.delete("secrets", releaseSecretName(name, old.version))
  }

  // ---- operations -------------------------------------------------------------------------

  deploy(spec: WorkloadSpec, secrets: ReadonlyArray<ResolvedSecret>): Promise<{ workload: Workload; change: "created" | "updated" | "unchanged" }> {
    return this.serial(spec.name, async () => {
      const history = await this.releases(spec.name)
      const latest = history.at(-1)
      if (latest !== undefined && !this.isOurs(latest)) {
        throw new ConflictError(`a Helm release named ${spec.name} of another chart exists in namespace ${this.kube.namespace}`)
      }
      const suspended = latest === undefined ? false : this.effectiveValues(latest).suspended === true
      const salt = await this.secretSalt(spec.name)
      const secretVersion = secrets.length === 0 ? "" : sha256(`${salt}\0${JSON.stringify(secrets.map((s) => s.value))}`)
      const values = valuesFromSpec(spec, this.options, secretVersion, suspended)
      const labels = { ...spec.labels }
      if (latest !== undefined && latest.info.status === "deployed" && sameJson(this.effectiveValues(latest), coalesce(this.chart.values, values))) {
        await this.applyRelease(spec.name, values, secrets, salt)
        return { workload: (await this.describe(spec.name)).workload, change: "unchanged" as const }
      }
      await this.upgrade(spec.name, history, values, labels, latest === undefined ? "Install complete" : "Upgrade complete", secrets, salt)
      return { workload: (await this.describe(spec.name)).workload, change: latest === undefined ? "created" as const : "updated" as const }
    })
  }

  setSuspended(name: string, suspended: boolean): Promise<Workload> {
    return this.serial(name, async () => {
      const history = await this.releases(name)
      const latest = history.at(-1)
      if (latest === undefined || !this.isOurs(latest)) throw new NotFoundError(name)
      const values = this.effectiveValues(latest)
      if ((values.suspended === true) !== suspended) {
        const salt = await this.secretSalt(name)
        await this.upgrade(name, history, { ...values, suspended }, latest.labels, suspended ? "Suspended by Aquifer" : "Resumed by Aquifer", undefined, salt)
      }
      return (await this.describe(name)).workload
    })
  }

  remove(name: string): Promise<void> {
    return this.serial(name, async () => {
      const history = await this.releases(name)
      const latest = history.at(-1)
      if (latest === undefined || !this.isOurs(latest)) throw new NotFoundError(name)
      latest.info.status = "uninstalling"
      latest.info.description = "Deletion in progress (by Aquifer)"
      await this.writeRelease(latest, false, Date.now())
      const selector = `${workloadLabel}=${name}`
      await this.kube.delete("deployments", name)
      await this.kube.delete("services", name)
      await this.kube.delete("secrets", `${name}-secrets`)
      for (const claim of (await this.kube.list("persistentvolumeclaims", selector)).items) {
        await this.kube.delete("persistentvolumeclaims", claim.metadata.name)
      }
      for (const release of history) await this.kube.delete("secrets", releaseSecretName(name, release.version))
    })
  }

  async describe(name: string): Promise<Described> {
    const history = await this.releases(name)
    const release = history.at(-1)
    if (release === undefined || !this.isOurs(release) || release.info.status === "uninstalling" || release.info.status === "uninstalled") {
      throw new NotFoundError(name)
    }
    const [deployment, pods] = await Promise.all([
      this.kube.get("deployments", name),
      this.kube.list("pods", `${workloadLabel}=${name}`)
    ])
    return this.describeFrom(release, deployment, pods.items)
  }

  private describeFrom(release: Release, deployment: KubeObject | undefined, pods: Array<KubeObject>): Described {
    const values = this.effectiveValues(release)
    const spec = decodeSpec(specFromValues(release.name, values))
    const workload: Workload = {
      spec: release.labels && Object.keys(release.labels).length > 0 ? WorkloadSpec.make({ ...spec, labels: { ...spec.labels, ...release.labels } }) : spec,
      status: statusOf(values, release.info.status, deployment, pods),
      revision: release.version,
      createdAt: release.info.first_deployed,
      updatedAt: release.info.last_deployed,
      enforcement: [
        { resource: "cpu", enforced: spec.resources?.limits?.cpu !== undefined, how: "container cpu limit (CFS quota), set by the kubelet" },
        { resource: "memory", enforced: spec.resources?.limits?.memory !== undefined, how: "container memory limit (cgroup), OOMKilled above it" },
        { resource: "gpu", enforced: (spec.gpus ?? 0) > 0, how: `extended resource ${values.gpuResource}, allocated by the device plugin` }
      ]
    }
    return { release, values, workload }
  }

  /** Every Aquifer workload in the namespace, from three list calls. */
  async snapshot(): Promise<{ workloads: Array<Workload>; resourceVersion: string }> {
    const [secrets, deployments, pods] = await Promise.all([
      this.kube.list("secrets", "owner=helm"),
      this.kube.list("deployments", `app.kubernetes.io/name=${chartName}`),
      this.kube.list("pods", workloadLabel)
    ])
    const latest = new Map<string, KubeObject>()
    for (const secret of secrets.items) {
      const name = secret.metadata.labels?.name as string | undefined
      const version = Number(secret.metadata.labels?.version)
      if (name === undefined || !Number.isInteger(version)) continue
      const current = latest.get(name)
      if (current === undefined || Number(current.metadata.labels.version) < version) latest.set(name, secret)
    }
    const deploymentsByName = new Map(deployments.items.map((d) => [d.metadata.name as string, d]))
    const podsByName = new Map<string, Array<KubeObject>>()
    for (const pod of pods.items) {
      const name = pod.metadata.labels?.[workloadLabel] as string
      podsByName.set(name, [...(podsByName.get(name) ?? []), pod])
    }
    const workloads: Array<Workload> = []
    for (const [name, secret] of [...latest.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const release = releaseFromSecret(secret)
      if (release === undefined || !this.isOurs(release) || release.info.status === "uninstalling" || release.info.status === "uninstalled") continue
      try {
        workloads.push(this.describeFrom(release, deploymentsByName.get(name), podsByName.get(name) ?? []).workload)
      } catch {
        // A release whose values do not make a valid spec is not shown as a workload.
      }
    }
    return { workloads, resourceVersion: deployments.resourceVersion }
  }

  endpoint(described: Described): { url: string; host: string; port: number } {
    const host = `${described.release.name}.${this.kube.namespace}.svc.${this.options.clusterDomain}`
    const port = Number(described.values.port)
    return { url: `http://${host}:${port}`, host, port }
  }

  /** The pod to read logs from: the newest one not being deleted. */
  async currentPod(name: string): Promise<string | undefined> {
    await this.describe(name)
    const { items } = await this.kube.list("pods", `${workloadLabel}=${name}`)
    return items
      .filter((pod) => pod.metadata.deletionTimestamp === undefined)
      .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)))
      .at(-1)?.metadata.name
  }

  /** Watches deployments and pods, calling `emit` for each change of a workload. */
  async watch(emit: (event: WorkloadEvent) => void, onError: (error: unknown) => void): Promise<() => void> {
    let stopped = false
    const stops: Array<() => void> = []
    const known = new Map<string, string>()
    const last = new Map<string, Workload>()
    let queue: Promise<void> = Promise.resolve()
    const push = (type: WorkloadEvent["type"], workload: Workload) => {
      const text = JSON.stringify(workload)
      if (type === "modified" && known.get(workload.spec.name) === text) return
      known.set(workload.spec.name, text)
      last.set(workload.spec.name, workload)
      emit({ type, name: workload.spec.name, workload })
    }
    const refresh = (name: string, deleted: boolean) => {
      queue = queue.then(async () => {
        if (stopped) return
        try {
          const { workload } = await this.describe(name)
          push(known.has(name) ? "modified" : "added", workload)
        } catch (error) {
          if (!(error instanceof NotFoundError)) return onError(error)
          if (known.has(name) && deleted) {
            known.delete(name)
            emit({ type: "removed", name, workload: last.get(name) })
            last.delete(name)
          }
        }
      })
    }
    let generation = 0
    const start = async (): Promise<void> => {
      const current = generation
      const { workloads, resourceVersion } = await this.snapshot()
      const seen = new Set<string>()
      for (const workload of workloads) {
        seen.add(workload.spec.name)
        push(known.has(workload.spec.name) ? "modified" : "added", workload)
      }
      for (const name of known.keys()) {
        if (!seen.has(name)) {
          known.delete(name)
          emit({ type: "removed", name, workload: last.get(name) })
        }
      }
      const restart = (error: unknown) => {
        // Both watches end together; only the first ending restarts them.
        if (stopped || current !== generation) return
        generation++
        for (const stop of stops.splice(0)) stop()
        const again = () =>
          void start().catch((cause: unknown) => {
            onError(cause)
            if (!stopped) setTimeout(again, 2000).unref()
          })
        setTimeout(again, error === null || error === undefined ? 0 : 1000).unref()
      }
      const onEvent = (deleted: (type: string) => boolean) => (type: string, object: KubeObject) => {
        if (type === "BOOKMARK") return
        const name = (object.metadata?.labels?.[workloadLabel] ?? object.metadata?.name) as string | undefined
        if (name !== undefined) refresh(name, deleted(type))
      }
      stops.push(await this.kube.watch("deployments", `app.kubernetes.io/name=${chartName}`, resourceVersion, onEvent((t) => t === "DELETED"), restart))
      stops.push(await this.kube.watch("pods", workloadLabel, resourceVersion, onEvent(() => false), restart))
    }
    await start()
    return () => {
      stopped = true
      for (const stop of stops.splice(0)) stop()
    }
  }
}

const containerStatusOf = (pod: KubeObject | undefined) => pod?.status?.containerStatuses?.find((c: { name: string }) => c.name === "workload")

const failingReasons = new Set(["CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError", "RunContainerError"])

const statusOf = (values: Values, releaseStatus: ReleaseStatus, deployment: KubeObject | undefined, pods: Array<KubeObject>): WorkloadStatus => {
  const live = pods
    .filter((pod) => pod.metadata.deletionTimestamp === undefined)
    .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)))
  const pod = live.at(-1)
  const container = containerStatusOf(pod)
  const terminated = container?.lastState?.terminated
  const lastExit: ExitInfo | undefined = terminated === undefined
    ? undefined
    : {
      code: terminated.exitCode,
      ...(terminated.signal ? { signal: String(terminated.signal) } : {}),
      ...(terminated.finishedAt ? { at: new Date(terminated.finishedAt).toISOString() } : {}),
      ...(terminated.reason ? { reason: terminated.reason } : {})
    }
  const base = { restarts: container?.restartCount ?? 0, ...(lastExit ? { lastExit } : {}) }
  if (values.suspended) return { ...base, phase: "suspended", ready: false, reason: "Suspended", message: "scaled to 0 replicas; volumes and Service kept" }
  if (releaseStatus === "failed") return { ...base, phase: "failed", ready: false, reason: "ReleaseFailed", message: "the last revision could not be applied" }
  if (deployment === undefined) return { ...base, phase: "pending", ready: false, reason: "NoDeployment", message: "the Deployment does not exist (yet)" }
  if (pod === undefined) {
    const failure = (deployment.status?.conditions ?? []).find((c: { type: string; status: string }) => c.type === "ReplicaFailure" && c.status === "True")
    return failure
      ? { ...base, phase: "failed", ready: false, reason: failure.reason ?? "ReplicaFailure", message: failure.message ?? "" }
      : { ...base, phase: "pending", ready: false, reason: "NoPod", message: "waiting for a pod to be created" }
  }
  const waiting = container?.state?.waiting
  if (waiting?.reason !== undefined && failingReasons.has(waiting.reason)) {
    return { ...base, phase: "failed", ready: false, reason: waiting.reason, message: waiting.message ?? "" }
  }
  const ready = (pod.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === "Ready" && c.status === "True")
  if (pod.status?.phase === "Running") {
    return ready ? { ...base, phase: "running", ready: true } : { ...base, phase: "starting", ready: false, reason: "NotReady", message: "readiness probe not passing yet" }
  }
  if (pod.status?.phase === "Failed") return { ...base, phase: "failed", ready: false, reason: pod.status.reason ?? "PodFailed", message: pod.status.message ?? "" }
  const unschedulable = (pod.status?.conditions ?? []).find((c: { type: string; status: string }) => c.type === "PodScheduled" && c.status === "False")
  if (unschedulable) return { ...base, phase: "pending", ready: false, reason: unschedulable.reason ?? "Unschedulable", message: unschedulable.message ?? "" }
  return { ...base, phase: "starting", ready: false, reason: waiting?.reason ?? "ContainerCreating", message: waiting?.message ?? "" }
}
