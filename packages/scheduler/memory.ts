/**
 * An in-memory `Scheduler` for unit tests of code that uses the port (App Store, Router,
 * engines). Nothing runs: a deployed workload is at once `running` and ready, its endpoint is
 * `http://<name>.memory.invalid:<port>` (never reachable), and its logs are empty. Everything
 * else — validation, idempotent deploy, revisions, labels, suspend/resume, watch — behaves as
 * the contract says, and it passes the conformance kit.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { layerMemory, Scheduler } from "@aquifer/scheduler"
 * const program = Scheduler.use((s) => s.list()).pipe(Effect.provide(layerMemory()))
 * ```
 * @module
 */
import { Effect, Layer, Queue, Stream } from "effect"
import { EndpointUnavailable, WorkloadNotFound } from "./errors.ts"
import { resolveSecrets, SchedulerPolicy, validateWorkload } from "./policy.ts"
import { Scheduler } from "./scheduler.ts"
import {
  canonicalSpec,
  type LabelSelector,
  matchesSelector,
  type Workload,
  type WorkloadEvent,
  type WorkloadSpec
} from "./workload.ts"

interface Entry {
  spec: WorkloadSpec
  fingerprint: string
  revision: number
  createdAt: string
  updatedAt: string
  suspended: boolean
}

/** The in-memory scheduler, refusing specs as `policy` says. */
export const layerMemory = (policy: SchedulerPolicy = SchedulerPolicy.permissive): Layer.Layer<Scheduler> =>
  Layer.sync(Scheduler, () => {
    const entries = new Map<string, Entry>()
    const listeners = new Set<(event: WorkloadEvent) => void>()

    const view = (entry: Entry): Workload => ({
      spec: entry.spec,
      status: entry.suspended
        ? { phase: "suspended", ready: false, restarts: 0, reason: "Suspended" }
        : { phase: "running", ready: true, restarts: 0 },
      revision: entry.revision,
      createdAt: entry.createdAt,
      updatedAt: entry.updatedAt,
      enforcement: [
        { resource: "cpu", enforced: false, how: "in-memory scheduler: nothing runs" },
        { resource: "memory", enforced: false, how: "in-memory scheduler: nothing runs" },
        { resource: "gpu", enforced: false, how: "in-memory scheduler: nothing runs" }
      ]
    })

    const emit = (type: WorkloadEvent["type"], name: string, entry: Entry) => {
      const event: WorkloadEvent = { type, name, workload: view(entry) }
      for (const listener of listeners) listener(event)
    }

    const find = (name: string) => {
      const entry = entries.get(name)
      return entry === undefined ? Effect.fail(new WorkloadNotFound({ name })) : Effect.succeed(entry)
    }

    const setSuspended = (suspended: boolean) => (name: string) =>
      Effect.flatMap(find(name), (entry) =>
        Effect.sync(() => {
          if (entry.suspended !== suspended) {
            entry.suspended = suspended
            entry.updatedAt = new Date().toISOString()
            emit("modified", name, entry)
          }
          return view(entry)
        }))

    return Scheduler.of({
      runs: "command",
      deploy: (input, secrets) =>
        Effect.gen(function*() {
          const spec = yield* validateWorkload(input, policy)
          const resolved = yield* resolveSecrets(spec, secrets)
          const fingerprint = `${canonicalSpec(spec)}\n${JSON.stringify(resolved.map((secret) => secret.value))}`
          const now = new Date().toISOString()
          const existing = entries.get(spec.name)
          if (existing === undefined) {
            const entry: Entry = { spec, fingerprint, revision: 1, createdAt: now, updatedAt: now, suspended: false }
            entries.set(spec.name, entry)
            emit("added", spec.name, entry)
            return { workload: view(entry), change: "created" as const }
          }
          if (existing.fingerprint === fingerprint) return { workload: view(existing), change: "unchanged" as const }
          Object.assign(existing, { spec, fingerprint, revision: existing.revision + 1, updatedAt: now })
          emit("modified", spec.name, existing)
          return { workload: view(existing), change: "updated" as const }
        }),
      get: (name) => Effect.map(find(name), view),
      list: (selector?: LabelSelector) =>
        Effect.sync(() =>
          [...entries.values()]
            .filter((entry) => matchesSelector(entry.spec.labels, selector))
            .sort((a, b) => a.spec.name.localeCompare(b.spec.name))
            .map(view)
        ),
      suspend: setSuspended(true),
      resume: setSuspended(false),
      remove: (name) =>
        Effect.flatMap(find(name), (entry) =>
          Effect.sync(() => {
            entries.delete(name)
            emit("removed", name, entry)
          })),
      status: (name) => Effect.map(find(name), (entry) => view(entry).status),
      logs: (name) => Stream.unwrap(Effect.as(find(name), Stream.empty)),
      watch: (selector?: LabelSelector) =>
        Stream.callback<WorkloadEvent>((queue) =>
          Effect.acquireRelease(
            Effect.sync(() => {
              for (const [name, entry] of entries) {
                if (matchesSelector(entry.spec.labels, selector)) Queue.offerUnsafe(queue, { type: "added", name, workload: view(entry) })
              }
              const listener = (event: WorkloadEvent) => {
                if (matchesSelector(event.workload?.spec.labels, selector)) Queue.offerUnsafe(queue, event)
              }
              listeners.add(listener)
              return listener
            }),
            (listener) => Effect.sync(() => listeners.delete(listener))
          )
        ),
      endpoint: (name) =>
        Effect.flatMap(find(name), (entry) =>
          entry.suspended
            ? Effect.fail(new EndpointUnavailable({ name, message: "the workload is suspended" }))
            : Effect.succeed({
              url: `http://${name}.memory.invalid:${entry.spec.port}`,
              host: `${name}.memory.invalid`,
              port: entry.spec.port,
              ready: true
            }))
    })
  })
