/**
 * The `Workload`: one named unit of compute the platform runs for someone — an app instance, an
 * AI engine or a model deployment. On one machine it is a child process; on Kubernetes, a pod
 * behind a Service. The same spec describes both: `command`/`args`/`workingDir` are what a
 * process-running scheduler starts, `image` is what a container scheduler pulls; a scheduler
 * refuses a spec that lacks the part it needs (see `Scheduler.runs`).
 *
 * Conventions every adapter keeps, so a workload behaves the same wherever it runs:
 * - `PORT` (and `HOST`) in the environment say where to listen. A process scheduler picks a
 *   free port per workload; a container scheduler passes `spec.port`.
 * - A secret ref with `env` becomes that environment variable; one with `file` becomes a file
 *   at that relative path under the directory named by `AQUIFER_SECRETS_DIR` (mode 0600 where
 *   the backend has modes).
 * - A volume is a directory that survives suspend and restarts; its path is in
 *   `AQUIFER_VOLUME_<NAME>` (name upper-cased, `-` as `_`), and a container also sees it mounted
 *   at `mountPath`.
 *
 * @example
 * ```ts
 * import { WorkloadSpec } from "@aquifer/scheduler"
 * const spec = WorkloadSpec.make({
 *   name: "wave-demo-1a2b", owner: "https://id.example#alice", kind: "app",
 *   command: "/usr/bin/python3", args: ["-m", "app"], port: 8080, readinessPath: "/healthz",
 *   labels: { "aquifer.app": "demo" }
 * })
 * ```
 * @module
 */
import { type Redacted, Schema } from "effect"

/** What the workload is for; adapters label it, routers and quotas may branch on it. */
export const WorkloadKind = Schema.Literals(["app", "engine", "deployment"])
export type WorkloadKind = typeof WorkloadKind.Type

/** What happens when the workload's process exits: like Kubernetes' pod restart policy. */
export const RestartPolicy = Schema.Literals(["always", "on-failure", "never"])
export type RestartPolicy = typeof RestartPolicy.Type

/**
 * A reference to one key of a named secret, delivered either as an environment variable
 * (`env`) or as a file (`file`, relative to `AQUIFER_SECRETS_DIR`): exactly one of the two.
 * The spec carries only the reference; the value reaches the scheduler separately (see
 * {@link SecretMaterial}) and never appears in a spec, a status or a list.
 */
export const SecretRef = Schema.Struct({
  secret: Schema.String,
  key: Schema.String,
  env: Schema.optional(Schema.String),
  file: Schema.optional(Schema.String)
})
export type SecretRef = typeof SecretRef.Type

/**
 * A persistent volume: kept across restarts, suspend and resume, deleted with the workload.
 * `size` is a Kubernetes quantity (`1Gi`). `hostPath` exists only so a spec asking for the
 * host's filesystem can be refused with a clear error: no scheduler mounts host paths.
 */
export const Volume = Schema.Struct({
  name: Schema.String,
  mountPath: Schema.String,
  size: Schema.optional(Schema.String),
  hostPath: Schema.optional(Schema.String)
})
export type Volume = typeof Volume.Type

/** CPU (`"500m"`, `"2"`) and memory (`"512Mi"`, `"1G"`) as Kubernetes quantities. */
export const ResourceAmounts = Schema.Struct({
  cpu: Schema.optional(Schema.String),
  memory: Schema.optional(Schema.String)
})
export type ResourceAmounts = typeof ResourceAmounts.Type

export const Resources = Schema.Struct({
  requests: Schema.optional(ResourceAmounts),
  limits: Schema.optional(ResourceAmounts)
})
export type Resources = typeof Resources.Type

/**
 * The desired state of one workload. `deploy` is idempotent by `name`: deploying an equal spec
 * (and equal secret material) again changes nothing; a different one rolls the workload forward.
 *
 * `privileged` and `hostNetwork` exist only so they can be refused: see `validateWorkload`.
 */
export class WorkloadSpec extends Schema.Class<WorkloadSpec>("WorkloadSpec")({
  /** DNS-label safe, at most 53 characters (Helm's limit); build one with `workloadName`. */
  name: Schema.String,
  /** Who the workload belongs to: usually a `Principal.key`. Free text, kept verbatim. */
  owner: Schema.String,
  kind: WorkloadKind,
  labels: Schema.optional(Schema.Record(Schema.String, Schema.String)),
  image: Schema.optional(Schema.String),
  command: Schema.optional(Schema.String),
  args: Schema.optional(Schema.Array(Schema.String)),
  workingDir: Schema.optional(Schema.String),
  env: Schema.optional(Schema.Record(Schema.String, Schema.String)),
  secrets: Schema.optional(Schema.Array(SecretRef)),
  /** The port the workload serves HTTP on inside its container (processes get `PORT`). */
  port: Schema.Int,
  /** Polled with HTTP GET until it answers 2xx/3xx; default `/`. */
  readinessPath: Schema.optional(Schema.String),
  resources: Schema.optional(Resources),
  gpus: Schema.optional(Schema.Int),
  volumes: Schema.optional(Schema.Array(Volume)),
  restartPolicy: Schema.optional(RestartPolicy),
  privileged: Schema.optional(Schema.Boolean),
  hostNetwork: Schema.optional(Schema.Boolean)
}) {}

/**
 * Resolved secret values, keyed by secret name then key, handed to `deploy` beside the spec.
 * Values stay `Redacted` so they never reach a log line by accident.
 */
export interface SecretMaterial {
  readonly [secret: string]: { readonly [key: string]: Redacted.Redacted<string> }
}

/** Lifecycle phase, as a router or a UI shows it. */
export const WorkloadPhase = Schema.Literals(["pending", "starting", "running", "suspended", "failed"])
export type WorkloadPhase = typeof WorkloadPhase.Type

/** How the last run ended: an exit code, or the signal that ended it. */
export const ExitInfo = Schema.Struct({
  code: Schema.optional(Schema.Int),
  signal: Schema.optional(Schema.String),
  /** ISO 8601 time of the exit, when known. */
  at: Schema.optional(Schema.String),
  reason: Schema.optional(Schema.String),
  message: Schema.optional(Schema.String)
})
export type ExitInfo = typeof ExitInfo.Type

/**
 * The observed state. `reason` is a short machine-friendly word (`CrashLoopBackOff`,
 * `OOMKilled`, `ImagePullBackOff`, `Suspended`…), `message` a sentence for people.
 * `restarts` counts restarts of the workload since its spec last changed.
 */
export const WorkloadStatus = Schema.Struct({
  phase: WorkloadPhase,
  ready: Schema.Boolean,
  restarts: Schema.Int,
  reason: Schema.optional(Schema.String),
  message: Schema.optional(Schema.String),
  lastExit: Schema.optional(ExitInfo)
})
export type WorkloadStatus = typeof WorkloadStatus.Type

/** Where the router sends traffic; `ready` false means "exists but not serving yet". */
export const Endpoint = Schema.Struct({
  url: Schema.String,
  host: Schema.String,
  port: Schema.Int,
  ready: Schema.Boolean
})
export type Endpoint = typeof Endpoint.Type

/**
 * Whether a resource request of the spec is enforced by this backend, and how. A backend that
 * cannot enforce a limit says so here instead of pretending.
 */
export const Enforcement = Schema.Struct({
  resource: Schema.Literals(["cpu", "memory", "gpu"]),
  enforced: Schema.Boolean,
  how: Schema.String
})
export type Enforcement = typeof Enforcement.Type

/** A workload as the backend reports it now: its spec, state and bookkeeping. */
export const Workload = Schema.Struct({
  spec: WorkloadSpec,
  status: WorkloadStatus,
  /**
   * Increases by one with every change the backend records: a new spec or new secret material;
   * on Kubernetes also suspend and resume, which are Helm revisions there.
   */
  revision: Schema.Int,
  createdAt: Schema.String,
  updatedAt: Schema.String,
  enforcement: Schema.Array(Enforcement)
})
export type Workload = typeof Workload.Type

/** What `deploy` did. */
export const DeployChange = Schema.Literals(["created", "updated", "unchanged"])
export type DeployChange = typeof DeployChange.Type

export interface DeployResult {
  readonly workload: Workload
  readonly change: DeployChange
}

/** One change seen by `watch`. `removed` carries the last state known, when there was one. */
export interface WorkloadEvent {
  readonly type: "added" | "modified" | "removed"
  readonly name: string
  readonly workload?: Workload | undefined
}

/** Options of `logs`: which run, whether to keep streaming, how many trailing lines. */
export interface LogOptions {
  /** The run before the current one (after a crash or a rollout). */
  readonly previous?: boolean | undefined
  /** Keep the stream open and emit lines as they are written, until the run ends. */
  readonly follow?: boolean | undefined
  /** Only the last N lines (before following). */
  readonly tailLines?: number | undefined
}

/** Equality selector on labels: a workload matches when it has every pair. */
export type LabelSelector = { readonly [key: string]: string }

/** True when `labels` carries every pair of `selector`. */
export const matchesSelector = (labels: LabelSelector | undefined, selector: LabelSelector | undefined): boolean => {
  if (selector === undefined) return true
  for (const [key, value] of Object.entries(selector)) {
    if (labels === undefined || labels[key] !== value) return false
  }
  return true
}

const canonical = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(canonical)
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      const inner = (value as Record<string, unknown>)[key]
      if (inner !== undefined) out[key] = canonical(inner)
    }
    return out
  }
  return value
}

/**
 * A stable text form of a spec (sorted keys, no undefined fields): two specs are the same
 * desired state exactly when their canonical forms are equal. Adapters hash it to decide
 * whether a `deploy` changes anything.
 */
export const canonicalSpec = (spec: WorkloadSpec): string => JSON.stringify(canonical({ ...spec }))
