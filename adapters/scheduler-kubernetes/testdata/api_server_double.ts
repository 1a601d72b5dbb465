// A Kubernetes API-server test double on node:http, for tests where no cluster can run.
// It implements the REST semantics the scheduler (and the Helm CLI) use on the namespaced
// resources below: create, get, list, replace, merge patch, a simplified server-side apply
// (Helm 4's default), delete (with owner-reference garbage collection), watch (from a
// resourceVersion), 409 on name and resourceVersion conflicts, 404, label selectors, discovery.
// Every object written is validated against the Kubernetes OpenAPI schemas (kubernetes-models);
// a failure answers 422 and is kept in `invalid` so tests can require none. A tiny "kubelet"
// gives Deployments a pod and status.
import { createHash, randomUUID } from "node:crypto"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Deployment } from "kubernetes-models/apps/v1/Deployment"
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim"
import { Pod } from "kubernetes-models/v1/Pod"
import { Secret } from "kubernetes-models/v1/Secret"
import { Service } from "kubernetes-models/v1/Service"
import { parse } from "yaml"
import { decodeSecret } from "./protobuf.ts"

type Obj = Record<string, any>

interface Kind {
  readonly group: string
  readonly version: string
  readonly resource: string
  readonly kind: string
  readonly validate: (object: Obj) => void
}

const kinds: ReadonlyArray<Kind> = [
  { group: "", version: "v1", resource: "secrets", kind: "Secret", validate: (o) => new Secret(o as never).validate() },
  { group: "", version: "v1", resource: "services", kind: "Service", validate: (o) => new Service(o as never).validate() },
  { group: "", version: "v1", resource: "persistentvolumeclaims", kind: "PersistentVolumeClaim", validate: (o) => new PersistentVolumeClaim(o as never).validate() },
  { group: "", version: "v1", resource: "pods", kind: "Pod", validate: (o) => new Pod(o as never).validate() },
  { group: "apps", version: "v1", resource: "deployments", kind: "Deployment", validate: (o) => new Deployment(o as never).validate() }
]

export interface RequestRecord {
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
}

interface WatchEvent {
  readonly rv: number
  readonly kind: Kind
  readonly namespace: string
  readonly type: "ADDED" | "MODIFIED" | "DELETED"
  readonly object: Obj
}

const clone = <T>(value: T): T => structuredClone(value)

class InvalidObject extends Error {}

/** Parses a label selector (`a=b,c!=d,e,!f,g in (x,y),h notin (z)`) into a predicate. */
export const labelSelector = (text: string | null): (labels: Record<string, string> | undefined) => boolean => {
  if (text === null || text.trim() === "") return () => true
  const terms: Array<(labels: Record<string, string>) => boolean> = []
  for (const part of text.match(/[^,(]+(\([^)]*\))?/g) ?? []) {
    const term = part.trim()
    let match: RegExpExecArray | null
    if ((match = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term))) {
      const [, key, op, list] = match
      const values = list!.split(",").map((v) => v.trim())
      terms.push((labels) => (op === "in") === (labels[key!] !== undefined && values.includes(labels[key!]!)))
    } else if ((match = /^([^!=]+)(==|=|!=)(.*)$/.exec(term))) {
      const [, key, op, value] = match
      terms.push((labels) => (op === "!=") !== (labels[key!.trim()] === value!.trim()))
    } else if (term.startsWith("!")) {
      terms.push((labels) => labels[term.slice(1)] === undefined)
    } else if (term !== "") {
      terms.push((labels) => labels[term] !== undefined)
    }
  }
  return (labels) => terms.every((term) => term(labels ?? {}))
}

const mergePatch = (target: unknown, patch: unknown): unknown => {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch
  const out: Obj = target !== null && typeof target === "object" && !Array.isArray(target) ? { ...(target as Obj) } : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key]
    else out[key] = mergePatch(out[key], value)
  }
  return out
}

const status = (code: number, reason: string, message: string, details?: Obj) => ({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message,
  reason,
  code,
  ...(details ? { details } : {})
})

export class ApiServerDouble {
  readonly requests: Array<RequestRecord> = []
  readonly invalid: Array<{ kind: string; name: string; error: string }> = []
  private readonly objects = new Map<string, Obj>()
  private readonly events: Array<WatchEvent> = []
  private readonly watchers = new Set<(event: WatchEvent) => void>()
  private readonly watchResponses = new Set<ServerResponse>()
  private readonly faults: Array<{ method: string; pathIncludes: string; code: number; remaining: number }> = []
  private readonly timers = new Set<NodeJS.Timeout>()
  private revision = 1000
  private server?: Server
  url = ""
  /** Pod logs by pod name: current and previous container run. */
  private readonly logs = new Map<string, { current: string; previous: string }>()

  async start(): Promise<void> {
    this.server = createServer((request, response) => void this.handle(request, response))
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer)
    this.server?.closeAllConnections()
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve())
  }

  /** The next `times` requests with this method whose path contains `pathIncludes` fail with `code`. */
  failNext(method: string, pathIncludes: string, code: number, times = 1): void {
    this.faults.push({ method, pathIncludes, code, remaining: times })
  }

  /** How many watch connections are open now. */
  get openWatches(): number {
    return this.watchResponses.size
  }

  /** Ends every open watch, as an API server does when its watch timeout expires. */
  dropWatches(): number {
    const count = this.watchResponses.size
    for (const response of this.watchResponses) response.end()
    return count
  }

  /** Writes since `mark` (`requests.length` taken earlier). */
  writesSince(mark: number): Array<RequestRecord> {
    return this.requests.slice(mark).filter((r) => r.method !== "GET")
  }

  list(resource: string, namespace: string): Array<Obj> {
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(`${this.kindOf(resource).group}/${resource}/${namespace}/`))
      .map(([, object]) => clone(object))
  }

  get(resource: string, namespace: string, name: string): Obj | undefined {
    const object = this.objects.get(this.key(this.kindOf(resource), namespace, name))
    return object === undefined ? undefined : clone(object)
  }

  /** Writes an object as another tool would (kubectl, helm): validated, versioned, watched. */
  put(resource: string, namespace: string, object: Obj): Obj {
    const kind = this.kindOf(resource)
    const existing = this.objects.get(this.key(kind, namespace, object.metadata.name))
    return this.store(kind, namespace, object, existing)
  }

  /** Simulates the container of a workload's pod crashing `times` times with `exitCode`. */
  crash(namespace: string, workload: string, exitCode: number): void {
    for (const pod of this.list("pods", namespace).filter((p) => p.metadata.labels?.["aquifer.dev/workload"] === workload)) {
      this.crashPod(namespace, pod, exitCode)
    }
  }

  private crashPod(namespace: string, pod: Obj, exitCode: number) {
    const previous = pod.status.containerStatuses?.[0] ?? {}
    const log = this.logs.get(pod.metadata.name)
    if (log !== undefined) this.logs.set(pod.metadata.name, { previous: `${log.current}crashing now\n`, current: "starting, crashing soon\n" })
    pod.status = {
      ...pod.status,
      phase: "Running",
      conditions: [{ type: "Ready", status: "False" }],
      containerStatuses: [{
        name: "workload",
        image: previous.image ?? "",
        imageID: "",
        ready: false,
        started: false,
        restartCount: (previous.restartCount ?? 0) + 1,
        state: { waiting: { reason: "CrashLoopBackOff", message: "back-off restarting failed container" } },
        lastState: { terminated: { exitCode, reason: "Error", finishedAt: new Date().toISOString(), startedAt: new Date().toISOString() } }
      }]
    }
    this.put("pods", namespace, pod)
    this.refreshDeploymentStatus(namespace, pod.metadata.labels["aquifer.dev/workload"])
  }

  private kindOf(resource: string): Kind {
    const kind = kinds.find((k) => k.resource === resource)
    if (kind === undefined) throw new Error(`unknown resource ${resource}`)
    return kind
  }

  private key(kind: Kind, namespace: string, name: string) {
    return `${kind.group}/${kind.resource}/${namespace}/${name}`
  }

  private emit(kind: Kind, namespace: string, type: WatchEvent["type"], object: Obj) {
    const event: WatchEvent = { rv: Number(object.metadata.resourceVersion), kind, namespace, type, object: clone(object) }
    this.events.push(event)
    for (const watcher of this.watchers) watcher(event)
  }

  private store(kind: Kind, namespace: string, input: Obj, existing: Obj | undefined): Obj {
    const object = clone(input)
    object.apiVersion = kind.group === "" ? kind.version : `${kind.group}/${kind.version}`
    object.kind = kind.kind
    object.metadata = { ...object.metadata, namespace }
    if (kind.kind === "Secret" && object.stringData !== undefined) {
      object.data = { ...object.data }
      for (const [k, v] of Object.entries(object.stringData as Record<string, string>)) object.data[k] = Buffer.from(v).toString("base64")
      delete object.stringData
    }
    try {
      kind.validate(object)
    } catch (error) {
      throw new InvalidObject(error instanceof Error ? error.message : String(error))
    }
    object.metadata.uid = existing?.metadata.uid ?? randomUUID()
    object.metadata.creationTimestamp = existing?.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, "Z")
    object.metadata.resourceVersion = String(++this.revision)
    if (kind.kind === "Deployment") {
      const changed = existing === undefined || JSON.stringify(existing.spec) !== JSON.stringify(object.spec)
      object.metadata.generation = (existing?.metadata.generation ?? 0) + (changed ? 1 : 0)
      object.status = existing?.status ?? {}
    } else if (existing !== undefined && kind.kind !== "Pod" && existing.status !== undefined) {
      object.status = existing.status
    }
    this.objects.set(this.key(kind, namespace, object.metadata.name), object)
    this.emit(kind, namespace, existing === undefined ? "ADDED" : "MODIFIED", object)
    if (kind.kind === "Deployment") this.schedule(() => this.reconcileDeployment(namespace, object.metadata.name))
    return object
  }

  private remove(kind: Kind, namespace: string, name: string): Obj | undefined {
    const key = this.key(kind, namespace, name)
    const object = this.objects.get(key)
    if (object === undefined) return undefined
    this.objects.delete(key)
    const deleted = { ...object, metadata: { ...object.metadata, resourceVersion: String(++this.revision) } }
    this.emit(kind, namespace, "DELETED", deleted)
    // Garbage collection: dependents owned by the deleted object go too.
    for (const [otherKey, other] of this.objects.entries()) {
      if ((other.metadata.ownerReferences ?? []).some((ref: Obj) => ref.uid === object.metadata.uid)) {
        const otherKind = kinds.find((k) => otherKey.startsWith(`${k.group}/${k.resource}/`))!
        this.remove(otherKind, other.metadata.namespace, other.metadata.name)
      }
    }
    if (kind.kind === "Deployment") {
      for (const pod of this.list("pods", namespace).filter((p) => p.metadata.labels?.["aquifer.dev/workload"] === name)) {
        this.remove(this.kindOf("pods"), namespace, pod.metadata.name)
      }
    }
    return deleted
  }

  private schedule(task: () => void, ms = 20) {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      task()
    }, ms)
    this.timers.add(timer)
  }

  // The "kubelet": one pod per Deployment template revision, Running and Ready shortly after.
  private reconcileDeployment(namespace: string, name: string) {
    const deployment = this.objects.get(this.key(this.kindOf("deployments"), namespace, name))
    if (deployment === undefined) return
    const template = deployment.spec.template
    const hash = createHash("sha256").update(JSON.stringify(template)).digest("hex").slice(0, 10)
    const pods = this.list("pods", namespace).filter((p) => p.metadata.labels?.["aquifer.dev/workload"] === name)
    const want = deployment.spec.replicas ?? 1
    for (const pod of pods) {
      if (want === 0 || pod.metadata.labels["pod-template-hash"] !== hash) this.remove(this.kindOf("pods"), namespace, pod.metadata.name)
    }
    if (want > 0 && !pods.some((p) => p.metadata.labels["pod-template-hash"] === hash)) {
      const container = template.spec.containers[0]
      const podName = `${name}-${hash}-${randomUUID().slice(0, 5)}`
      const pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: podName, labels: { ...template.metadata.labels, "pod-template-hash": hash }, annotations: template.metadata.annotations },
        spec: template.spec,
        status: {
          phase: "Pending",
          conditions: [{ type: "Ready", status: "False" }],
          containerStatuses: [{ name: "workload", image: container.image, imageID: "", ready: false, restartCount: 0, state: { waiting: { reason: "ContainerCreating" } } }]
        }
      }
      this.put("pods", namespace, pod)
      const port = container.ports?.[0]?.containerPort ?? 8080
      this.logs.set(podName, { current: `listening on ${port}\n`, previous: "" })
      this.schedule(() => {
        const current = this.get("pods", namespace, podName)
        if (current === undefined) return
        if (String(container.image).includes("crash")) {
          const loop = () => {
            const live = this.get("pods", namespace, podName)
            if (live === undefined) return
            this.crashPod(namespace, live, 3)
            this.schedule(loop, 400)
          }
          loop()
          return
        }
        current.status = {
          phase: "Running",
          podIP: "10.0.0.7",
          conditions: [{ type: "Ready", status: "True" }],
          containerStatuses: [{ name: "workload", image: container.image, imageID: "", ready: true, started: true, restartCount: 0, state: { running: { startedAt: new Date().toISOString() } } }]
        }
        this.put("pods", namespace, current)
        this.refreshDeploymentStatus(namespace, name)
      }, 50)
    }
    this.refreshDeploymentStatus(namespace, name)
  }

  private refreshDeploymentStatus(namespace: string, name: string) {
    const key = this.key(this.kindOf("deployments"), namespace, name)
    const deployment = this.objects.get(key)
    if (deployment === undefined) return
    const pods = this.list("pods", namespace).filter((p) => p.metadata.labels?.["aquifer.dev/workload"] === name)
    const ready = pods.filter((p) => p.status?.conditions?.some((c: Obj) => c.type === "Ready" && c.status === "True")).length
    const next = { observedGeneration: deployment.metadata.generation, replicas: pods.length, updatedReplicas: pods.length, readyReplicas: ready, availableReplicas: ready }
    if (JSON.stringify(deployment.status) === JSON.stringify(next)) return
    const updated = { ...clone(deployment), status: next, metadata: { ...deployment.metadata, resourceVersion: String(++this.revision) } }
    this.objects.set(key, updated)
    this.emit(this.kindOf("deployments"), namespace, "MODIFIED", updated)
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  private async handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? "/", "http://double")
    this.requests.push({ method: request.method ?? "GET", path: url.pathname, query: url.searchParams })
    const send = (code: number, body: unknown) => {
      response.writeHead(code, { "content-type": "application/json" })
      response.end(JSON.stringify(body))
    }
    const fault = this.faults.find((f) => f.remaining > 0 && f.method === request.method && url.pathname.includes(f.pathIncludes))
    if (fault !== undefined) {
      fault.remaining--
      return send(fault.code, status(fault.code, fault.code === 409 ? "Conflict" : "InternalError", "injected fault"))
    }
    const chunks: Array<Buffer> = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    let text = body.toString("utf8")
    const contentType = request.headers["content-type"] ?? ""
    if (body.length > 0 && contentType.includes("protobuf")) {
      // client-go sends core objects as protobuf; the double reads Secrets and ignores delete options.
      if (request.method === "DELETE") text = ""
      else if (url.pathname.includes("/secrets")) text = JSON.stringify(decodeSecret(body))
      else return send(415, status(415, "UnsupportedMediaType", `the double reads protobuf Secrets only, not ${url.pathname}`))
    }
    const discovery = this.discovery(url.pathname)
    if (discovery !== undefined) return send(200, discovery)

    const match = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?(?:\/(log|status))?$/.exec(url.pathname)
    if (match === null) return send(404, status(404, "NotFound", `the server could not find the requested resource ${url.pathname}`))
    const [, coreVersion, group, groupVersion, namespace, resource, name, sub] = match
    const kind = kinds.find((k) => k.resource === resource && k.group === (group ?? "") && k.version === (coreVersion ?? groupVersion))
    if (kind === undefined || namespace === undefined) return send(404, status(404, "NotFound", `no resource ${resource}`))
    const key = name === undefined ? undefined : this.key(kind, namespace, name)
    const existing = key === undefined ? undefined : this.objects.get(key)
    const notFound = () => send(404, status(404, "NotFound", `${kind.resource} "${name}" not found`, { name, kind: kind.resource }))
    const selects = labelSelector(url.searchParams.get("labelSelector"))
    try {
      switch (request.method) {
        case "GET": {
          if (sub === "log") {
            if (existing === undefined) return notFound()
            const log = this.logs.get(name!) ?? { current: "", previous: "" }
            let body = url.searchParams.get("previous") === "true" ? log.previous : log.current
            const tail = url.searchParams.get("tailLines")
            if (tail !== null) body = body.split("\n").filter((l) => l !== "").slice(-Number(tail)).map((l) => `${l}\n`).join("")
            response.writeHead(200, { "content-type": "text/plain" })
            return response.end(body)
          }
          if (name !== undefined) return existing === undefined ? notFound() : send(200, existing)
          if (url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1") {
            return this.watch(kind, namespace, Number(url.searchParams.get("resourceVersion") ?? this.revision), selects, url.searchParams.get("allowWatchBookmarks") === "true", response)
          }
          const items = this.list(kind.resource, namespace).filter((o) => selects(o.metadata.labels))
          return send(200, {
            kind: `${kind.kind}List`,
            apiVersion: kind.group === "" ? kind.version : `${kind.group}/${kind.version}`,
            metadata: { resourceVersion: String(this.revision) },
            items
          })
        }
        case "POST": {
          const body = JSON.parse(text) as Obj
          const objectKey = this.key(kind, namespace, body.metadata?.name)
          if (this.objects.has(objectKey)) {
            return send(409, status(409, "AlreadyExists", `${kind.resource} "${body.metadata.name}" already exists`, { name: body.metadata.name, kind: kind.resource }))
          }
          if (body.metadata?.resourceVersion) return send(400, status(400, "BadRequest", "resourceVersion should not be set on objects to be created"))
          return send(201, this.store(kind, namespace, body, undefined))
        }
        case "PUT": {
          if (existing === undefined) return notFound()
          const body = JSON.parse(text) as Obj
          if (body.metadata?.resourceVersion !== undefined && body.metadata.resourceVersion !== existing.metadata.resourceVersion) {
            return send(409, status(409, "Conflict", `Operation cannot be fulfilled on ${kind.resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`))
          }
          if (sub === "status") return send(200, this.store(kind, namespace, { ...existing, status: body.status }, existing))
          return send(200, this.store(kind, namespace, body, existing))
        }
        case "PATCH": {
          const contentType = request.headers["content-type"] ?? ""
          if (contentType.includes("apply-patch")) {
            // Server-side apply, simplified: the applied configuration is merged over what exists.
            const applied = parse(text) as Obj
            return send(existing === undefined ? 201 : 200, this.store(kind, namespace, existing === undefined ? { ...applied, metadata: { ...applied.metadata, name } } : mergePatch(existing, applied) as Obj, existing))
          }
          if (existing === undefined) return notFound()
          if (!/merge-patch|strategic-merge-patch/.test(contentType)) {
            return send(415, status(415, "UnsupportedMediaType", `the double supports merge patches, not ${contentType}`))
          }
          const patch = JSON.parse(text) as Obj
          if (patch.metadata?.resourceVersion !== undefined && patch.metadata.resourceVersion !== existing.metadata.resourceVersion) {
            return send(409, status(409, "Conflict", `Operation cannot be fulfilled on ${kind.resource} "${name}": the object has been modified`))
          }
          return send(200, this.store(kind, namespace, mergePatch(existing, patch) as Obj, existing))
        }
        case "DELETE": {
          if (existing === undefined) return notFound()
          return send(200, this.remove(kind, namespace, name!))
        }
        default:
          return send(405, status(405, "MethodNotAllowed", `${request.method} is not supported`))
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      if (error instanceof InvalidObject) {
        this.invalid.push({ kind: kind.kind, name: name ?? "", error: message })
        return send(422, status(422, "Invalid", `${kind.kind} is invalid: ${message}`))
      }
      return send(400, status(400, "BadRequest", message))
    }
  }

  private watch(kind: Kind, namespace: string, since: number, selects: (labels: Record<string, string> | undefined) => boolean, bookmarks: boolean, response: ServerResponse) {
    response.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" })
    const write = (event: WatchEvent) => {
      if (event.kind !== kind || event.namespace !== namespace || event.rv <= since || !selects(event.object.metadata.labels)) return
      response.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`)
    }
    for (const event of this.events) write(event)
    if (bookmarks) {
      response.write(`${JSON.stringify({ type: "BOOKMARK", object: { kind: kind.kind, apiVersion: kind.group === "" ? kind.version : `${kind.group}/${kind.version}`, metadata: { resourceVersion: String(this.revision) } } })}\n`)
    }
    this.watchers.add(write)
    this.watchResponses.add(response)
    response.on("close", () => {
      this.watchers.delete(write)
      this.watchResponses.delete(response)
    })
  }

  private discovery(path: string): Obj | undefined {
    const resources = (group: string, version: string) => ({
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: group === "" ? version : `${group}/${version}`,
      resources: kinds.filter((k) => k.group === group && k.version === version).map((k) => ({
        name: k.resource,
        singularName: k.kind.toLowerCase(),
        namespaced: true,
        kind: k.kind,
        verbs: ["create", "delete", "get", "list", "patch", "update", "watch"]
      }))
    })
    switch (path) {
      case "/version":
        return { major: "1", minor: "33", gitVersion: "v1.33.0-double", platform: "linux/amd64" }
      case "/api":
        return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }] }
      case "/apis":
        return {
          kind: "APIGroupList",
          apiVersion: "v1",
          groups: [{ name: "apps", versions: [{ groupVersion: "apps/v1", version: "v1" }], preferredVersion: { groupVersion: "apps/v1", version: "v1" } }]
        }
      case "/api/v1":
        return resources("", "v1")
      case "/apis/apps/v1":
        return resources("apps", "v1")
      default:
        return undefined
    }
  }
}
