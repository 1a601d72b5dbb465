/**
 * The `Scheduler` port: runs named {@link Workload}s and reports on them. App instances, AI
 * engines and model deployments all go through it; the Router finds them with `endpoint` and
 * keeps its cache fresh with `watch`.
 *
 * The backend owns the state. An adapter keeps no copy of workload state in the metadata store:
 * `get`, `list`, `status` and `watch` read the backend (the process table and the scheduler's
 * data directory; the Kubernetes API), so a workload changed by another tool — `kubectl`,
 * `helm`, a crash — is reported as it really is.
 *
 * Contract of every method (each adapter passes `@aquifer/scheduler/testing`):
 *
 * | method | promises | fails with |
 * |---|---|---|
 * | `deploy(spec, secrets?)` | validates (see `validateWorkload`), then makes the backend match: created when absent, `unchanged` (no write at all) when spec and secret material equal what runs, else rolled forward with `revision + 1` and the restart count reset. A suspended workload stays suspended. | `InvalidWorkload` (nothing written), `WorkloadConflict`, `SchedulerUnavailable` |
 * | `get(name)` | spec (without secret values), status, revision, times, enforcement | `WorkloadNotFound` |
 * | `list(selector?)` | every workload carrying all the selector's label pairs, sorted by name | `SchedulerUnavailable` |
 * | `suspend(name)` | stops compute (processes, pods); keeps volumes, spec, endpoint address; idempotent | `WorkloadNotFound` |
 * | `resume(name)` | starts a suspended workload again; idempotent | `WorkloadNotFound` |
 * | `remove(name)` | stops everything and deletes everything the workload had: processes or pods, volumes, secrets, records, logs | `WorkloadNotFound` |
 * | `status(name)` | phase, readiness, reason, restart count, last exit | `WorkloadNotFound` |
 * | `logs(name, options)` | lines of the current run (or `previous`), optionally followed until the run ends | `WorkloadNotFound` |
 * | `watch(selector?)` | a stream of `added`/`modified`/`removed` events for matching workloads, from now on; never ends by itself | `SchedulerUnavailable` |
 * | `endpoint(name)` | the URL to send traffic to, and whether it is ready | `WorkloadNotFound`, `EndpointUnavailable` (suspended, or no address yet) |
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Scheduler, WorkloadSpec } from "@aquifer/scheduler"
 * const program = Effect.gen(function*() {
 *   const scheduler = yield* Scheduler
 *   yield* scheduler.deploy(WorkloadSpec.make({ name: "demo", owner: "me", kind: "app",
 *     command: "/usr/bin/python3", args: ["-m", "http.server"], port: 8000 }))
 *   return yield* scheduler.endpoint("demo")
 * })
 * ```
 * @module
 */
import { Context, type Effect, type Stream } from "effect"
import type {
  EndpointUnavailable,
  InvalidWorkload,
  SchedulerUnavailable,
  WorkloadConflict,
  WorkloadNotFound
} from "./errors.ts"
import type {
  DeployResult,
  Endpoint,
  LabelSelector,
  LogOptions,
  SecretMaterial,
  Workload,
  WorkloadEvent,
  WorkloadSpec,
  WorkloadStatus
} from "./workload.ts"

/** What a scheduler starts: processes from `command`, or containers from `image`. */
export type SchedulerRuns = "command" | "image"

export class Scheduler extends Context.Service<Scheduler, {
  /** Which part of a spec this scheduler runs; a spec without it is `InvalidWorkload`. */
  readonly runs: SchedulerRuns
  readonly deploy: (
    spec: WorkloadSpec,
    secrets?: SecretMaterial
  ) => Effect.Effect<DeployResult, InvalidWorkload | WorkloadConflict | SchedulerUnavailable>
  readonly get: (name: string) => Effect.Effect<Workload, WorkloadNotFound | SchedulerUnavailable>
  readonly list: (selector?: LabelSelector) => Effect.Effect<ReadonlyArray<Workload>, SchedulerUnavailable>
  readonly suspend: (name: string) => Effect.Effect<Workload, WorkloadNotFound | WorkloadConflict | SchedulerUnavailable>
  readonly resume: (name: string) => Effect.Effect<Workload, WorkloadNotFound | WorkloadConflict | SchedulerUnavailable>
  readonly remove: (name: string) => Effect.Effect<void, WorkloadNotFound | SchedulerUnavailable>
  readonly status: (name: string) => Effect.Effect<WorkloadStatus, WorkloadNotFound | SchedulerUnavailable>
  readonly logs: (name: string, options?: LogOptions) => Stream.Stream<string, WorkloadNotFound | SchedulerUnavailable>
  readonly watch: (selector?: LabelSelector) => Stream.Stream<WorkloadEvent, SchedulerUnavailable>
  readonly endpoint: (
    name: string
  ) => Effect.Effect<Endpoint, WorkloadNotFound | EndpointUnavailable | SchedulerUnavailable>
}>()("@aquifer/scheduler/Scheduler") {}
