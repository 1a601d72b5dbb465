/**
 * The embedded default `Scheduler`: workloads as child processes of this machine.
 *
 * Each run is `/bin/sh` (recording the exit status) + the spec's command, in its own process
 * group, with a free port in `PORT`, stdout and stderr appended to a per-run log file. State
 * lives in `$AQUIFER_HOME/workloads/<name>/` (`record.json`, secret material in 0600 files,
 * volume directories, run logs), so after the platform restarts every workload is found again:
 * live runs are adopted, runs that ended meanwhile are restarted per policy, and any process
 * carrying this data directory's marker that no record accounts for is stopped.
 *
 * Config keys (see `docs/configuration.md`): `AQUIFER_HOME`, `AQUIFER_SCHEDULER_ALLOWED_IMAGES`,
 * `AQUIFER_SCHEDULER_REQUIRE_LIMITS`, `AQUIFER_LOCAL_HOST`, `AQUIFER_LOCAL_STOP_GRACE`,
 * `AQUIFER_LOCAL_ON_SHUTDOWN`, `AQUIFER_LOCAL_LOG_MAX_BYTES`.
 * @module
 */
import {
  EndpointUnavailable,
  InvalidWorkload,
  matchesSelector,
  policyConfig,
  resolveSecrets,
  Scheduler,
  SchedulerPolicy,
  SchedulerUnavailable,
  validateWorkload,
  type WorkloadEvent,
  WorkloadNotFound
} from "@aquifer/scheduler"
import { Config, Duration, Effect, Layer, Queue, Stream } from "effect"
import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"
import { LocalRuntime, NotFoundError, type RuntimeOptions } from "./_runtime.ts"

export interface LocalSchedulerOptions extends Partial<Omit<RuntimeOptions, "home">> {
  /** The platform's data directory; workloads live in `<home>/workloads`. */
  readonly home: string
  readonly policy?: SchedulerPolicy | undefined
}

const defaults: Omit<RuntimeOptions, "home"> = {
  host: "127.0.0.1",
  stopGraceMs: 10_000,
  backoffInitialMs: 1_000,
  backoffMaxMs: 300_000,
  backoffResetMs: 600_000,
  logMaxBytes: 5 * 1024 * 1024,
  keepRuns: 3,
  onShutdown: "keep"
}

const unavailable = (cause: unknown) =>
  new SchedulerUnavailable({ message: `local scheduler: ${cause instanceof Error ? cause.message : String(cause)}`, cause })

const attempt = <A>(name: string, run: () => Promise<A> | A) =>
  Effect.tryPromise({
    try: async () => await run(),
    catch: (cause) => (cause instanceof NotFoundError ? new WorkloadNotFound({ name }) : unavailable(cause))
  })

const splitLines = (text: string): Array<string> => {
  const lines = text.split("\n")
  if (lines.at(-1) === "") lines.pop()
  return lines
}

/** The local scheduler over `options.home`. */
export const layer = (options: LocalSchedulerOptions): Layer.Layer<Scheduler, SchedulerUnavailable> =>
  Layer.effect(
    Scheduler,
    Effect.gen(function*() {
      const policy = options.policy ?? SchedulerPolicy.permissive
      const runtime = yield* Effect.acquireRelease(
        Effect.tryPromise({
          try: async () => {
            const runtime = new LocalRuntime({ ...defaults, ...options, home: options.home })
            await runtime.open()
            return runtime
          },
          catch: unavailable
        }),
        (runtime) => Effect.promise(() => runtime.close())
      )

      const followFile = (name: string, runId: number, file: string, offset: number) =>
        Stream.callback<string, SchedulerUnavailable>((queue) =>
          Effect.gen(function*() {
            let position = offset
            let rest = ""
            while (true) {
              const live = runtime.runLive(name, runId)
              const chunk = yield* Effect.try({
                try: () => {
                  let size = 0
                  try {
                    size = statSync(file).size
                  } catch {
                    return ""
                  }
                  if (size < position) position = 0
                  if (size === position) return ""
                  const fd = openSync(file, "r")
                  try {
                    const buffer = Buffer.alloc(Math.min(size - position, 1 << 20))
                    const read = readSync(fd, buffer, 0, buffer.length, position)
                    position += read
                    return buffer.subarray(0, read).toString("utf8")
                  } finally {
                    closeSync(fd)
                  }
                },
                catch: unavailable
              })
              const lines = (rest + chunk).split("\n")
              rest = lines.pop() ?? ""
              for (const line of lines) Queue.offerUnsafe(queue, line)
              if (chunk === "" && !live) {
                if (rest !== "") Queue.offerUnsafe(queue, rest)
                return yield* Queue.end(queue)
              }
              if (chunk === "") yield* Effect.sleep(Duration.millis(200))
            }
          })
        )

      return Scheduler.of({
        runs: "command",
        deploy: (input, secrets) =>
          Effect.gen(function*() {
            const spec = yield* validateWorkload(input, policy)
            if (spec.command === undefined) {
              return yield* new InvalidWorkload({ message: "the local scheduler runs commands; this spec has only an image", field: "command" })
            }
            const resolved = yield* resolveSecrets(spec, secrets)
            return yield* attempt(spec.name, () => runtime.deploy(spec, resolved)).pipe(
              Effect.catchTag("WorkloadNotFound", () => Effect.die("deploy never reports a missing workload"))
            )
          }),
        get: (name) => attempt(name, () => runtime.get(name)),
        list: (selector) =>
          attempt("", () => runtime.list().filter((w) => matchesSelector(w.spec.labels, selector))).pipe(
            Effect.catchTag("WorkloadNotFound", () => Effect.succeed([]))
          ),
        suspend: (name) => attempt(name, () => runtime.suspend(name)),
        resume: (name) => attempt(name, () => runtime.resume(name)),
        remove: (name) => attempt(name, () => runtime.remove(name)),
        status: (name) => Effect.map(attempt(name, () => runtime.get(name)), (workload) => workload.status),
        endpoint: (name) =>
          Effect.flatMap(attempt(name, () => runtime.endpoint(name)), (endpoint) =>
            endpoint.suspended
              ? Effect.fail(new EndpointUnavailable({ name, message: "the workload is suspended" }))
              : Effect.succeed({ url: endpoint.url, host: endpoint.host, port: endpoint.port, ready: endpoint.ready })),
        logs: (name, logOptions = {}) =>
          Stream.unwrap(
            Effect.gen(function*() {
              const { files, runId } = yield* attempt(name, () => runtime.logFiles(name, logOptions.previous === true))
              const current = files.at(-1)
              const text = yield* attempt(name, () => files.map((file) => readFileSync(file, "utf8")).join(""))
              const lines = splitLines(text)
              const tail = logOptions.tailLines === undefined ? lines : lines.slice(Math.max(0, lines.length - logOptions.tailLines))
              const initial = Stream.fromIterable(tail)
              if (logOptions.follow !== true || runId === undefined || current === undefined || logOptions.previous === true) return initial
              return Stream.concat(initial, followFile(name, runId, current, Buffer.byteLength(readFileSync(current))))
            })
          ),
        watch: (selector) =>
          Stream.callback<WorkloadEvent>((queue) =>
            Effect.acquireRelease(
              Effect.sync(() => {
                const offer = (event: WorkloadEvent) => {
                  if (matchesSelector(event.workload?.spec.labels, selector)) Queue.offerUnsafe(queue, event)
                }
                return runtime.subscribe(offer, offer)
              }),
              (unsubscribe) => Effect.sync(unsubscribe)
            )
          )
      })
    })
  )

/** The local scheduler configured from the environment (see the module doc). */
export const layerConfig: Layer.Layer<Scheduler, SchedulerUnavailable | Config.ConfigError> = Layer.unwrap(
  Effect.gen(function*() {
    const home = yield* Config.String("AQUIFER_HOME").pipe(Config.withDefault(join(homedir(), ".aquifer")))
    const policy = yield* policyConfig
    const host = yield* Config.String("AQUIFER_LOCAL_HOST").pipe(Config.withDefault(defaults.host))
    const grace = yield* Config.Duration("AQUIFER_LOCAL_STOP_GRACE").pipe(Config.withDefault(Duration.millis(defaults.stopGraceMs)))
    const onShutdown = yield* Config.Literals(["keep", "stop"], "AQUIFER_LOCAL_ON_SHUTDOWN").pipe(Config.withDefault("keep" as const))
    const logMaxBytes = yield* Config.Int("AQUIFER_LOCAL_LOG_MAX_BYTES").pipe(Config.withDefault(defaults.logMaxBytes))
    return layer({ home, policy, host, stopGraceMs: Duration.toMillis(grace), onShutdown, logMaxBytes })
  })
)
