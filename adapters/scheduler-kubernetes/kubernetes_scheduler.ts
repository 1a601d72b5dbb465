/**
 * The `Scheduler` port on Kubernetes, with `@kubernetes/client-node` 2.
 *
 * Each workload is a Helm release of the chart in `./chart` (a 1-pod Deployment, a ClusterIP
 * Service, a PersistentVolumeClaim per volume), recorded exactly as Helm 3 records releases
 * (`sh.helm.release.v1.<name>.v<revision>` Secrets), so `helm list`, `helm status`,
 * `helm history` and `helm uninstall` work on Aquifer's workloads, and releases of the same chart
 * installed with the Helm CLI are Aquifer workloads too. Secret material goes into an
 * Aquifer-managed Secret `<name>-secrets`, owner-referenced to the Deployment, never into the
 * release record. Objects are written only when their rendered content changed (an
 * `aquifer.dev/applied-hash` annotation), replaced with their resourceVersion and retried on 409.
 *
 * Config keys (see `docs/configuration.md`): `AQUIFER_K8S_NAMESPACE`, `AQUIFER_K8S_CLUSTER_DOMAIN`,
 * `AQUIFER_K8S_STORAGE_CLASS`, `AQUIFER_K8S_GPU_RESOURCE`, `AQUIFER_K8S_IMAGE_PULL_POLICY`,
 * `AQUIFER_SCHEDULER_ALLOWED_IMAGES`, `AQUIFER_SCHEDULER_REQUIRE_LIMITS`; the cluster itself
 * from the in-cluster service account, else `KUBECONFIG` / `~/.kube/config`.
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
  WorkloadConflict,
  type WorkloadEvent,
  WorkloadNotFound
} from "@aquifer/scheduler"
import { KubeConfig } from "@kubernetes/client-node"
import { Cause, Config, Effect, Layer, Queue, Stream } from "effect"
import { ConflictError, KubeBackend, NotFoundError } from "./_backend.ts"
import { loadChart } from "./_chart.ts"
import { isStatus, Kube, statusMessage } from "./_kube.ts"

export interface KubernetesSchedulerOptions {
  /** Where the cluster is; default: in-cluster service account, else KUBECONFIG or ~/.kube/config. */
  readonly kubeConfig?: KubeConfig | undefined
  /** The namespace workloads live in; default: the kubeconfig context's, else `default`. */
  readonly namespace?: string | undefined
  readonly policy?: SchedulerPolicy | undefined
  readonly clusterDomain?: string | undefined
  readonly storageClassName?: string | undefined
  readonly gpuResource?: string | undefined
  readonly imagePullPolicy?: string | undefined
  /** Release revisions kept per workload, as Helm's `--history-max` (default 10). */
  readonly historyMax?: number | undefined
}

const unavailable = (cause: unknown) => new SchedulerUnavailable({ message: `kubernetes: ${statusMessage(cause)}`, cause })

/** Reads: a missing workload, or an unusable backend. */
const read = <A>(name: string, run: () => Promise<A>) =>
  Effect.tryPromise({ try: run, catch: (cause) => (cause instanceof NotFoundError ? new WorkloadNotFound({ name }) : unavailable(cause)) })

/** Writes to an existing workload: also a conflict when another writer kept winning. */
const write = <A>(name: string, run: () => Promise<A>) =>
  Effect.tryPromise({
    try: run,
    catch: (cause) =>
      cause instanceof NotFoundError
        ? new WorkloadNotFound({ name })
        : cause instanceof ConflictError || isStatus(cause, 409)
        ? new WorkloadConflict({ name, message: cause instanceof Error ? cause.message : statusMessage(cause) })
        : unavailable(cause)
  })

/** A deploy: the API server may also refuse what was rendered. */
const deployAttempt = <A>(name: string, run: () => Promise<A>) =>
  Effect.tryPromise({
    try: run,
    catch: (cause) =>
      cause instanceof ConflictError || isStatus(cause, 409)
        ? new WorkloadConflict({ name, message: cause instanceof Error ? cause.message : statusMessage(cause) })
        : isStatus(cause, 422) || isStatus(cause, 400)
        ? new InvalidWorkload({ message: `the Kubernetes API refused the workload: ${statusMessage(cause)}` })
        : unavailable(cause)
  })

const defaultKubeConfig = (): KubeConfig => {
  const config = new KubeConfig()
  config.loadFromDefault()
  return config
}

/** The Kubernetes scheduler. */
export const layer = (options: KubernetesSchedulerOptions = {}): Layer.Layer<Scheduler, SchedulerUnavailable> =>
  Layer.effect(
    Scheduler,
    Effect.gen(function*() {
      const policy = options.policy ?? SchedulerPolicy.permissive
      const { backend } = yield* Effect.try({
        try: () => {
          const kubeConfig = options.kubeConfig ?? defaultKubeConfig()
          const namespace = options.namespace ?? kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? "default"
          const backend = new KubeBackend(new Kube(kubeConfig, namespace), loadChart(), {
            clusterDomain: options.clusterDomain ?? "cluster.local",
            storageClassName: options.storageClassName ?? "",
            gpuResource: options.gpuResource ?? "nvidia.com/gpu",
            imagePullPolicy: options.imagePullPolicy ?? "IfNotPresent",
            historyMax: options.historyMax ?? 10
          })
          return { backend }
        },
        catch: (cause) => new SchedulerUnavailable({ message: `kubernetes: cannot load the cluster configuration: ${String(cause)}`, cause })
      })

      const splitLines = (text: string) => {
        const lines = text.split("\n")
        if (lines.at(-1) === "") lines.pop()
        return lines
      }

      return Scheduler.of({
        runs: "image",
        deploy: (input, secrets) =>
          Effect.gen(function*() {
            const spec = yield* validateWorkload(input, policy)
            if (spec.image === undefined) {
              return yield* new InvalidWorkload({ message: "the kubernetes scheduler runs images; this spec has no image", field: "image" })
            }
            if ((spec.restartPolicy ?? "always") !== "always") {
              return yield* new InvalidWorkload({ message: "workloads run as Deployments, which always restart their pod: restartPolicy must be always", field: "restartPolicy" })
            }
            const resolved = yield* resolveSecrets(spec, secrets)
            return yield* deployAttempt(spec.name, () => backend.deploy(spec, resolved))
          }),
        get: (name) => read(name, async () => (await backend.describe(name)).workload),
        list: (selector) =>
          Effect.tryPromise({
            try: async () => (await backend.snapshot()).workloads.filter((w) => matchesSelector(w.spec.labels, selector)),
            catch: unavailable
          }),
        suspend: (name) => write(name, () => backend.setSuspended(name, true)),
        resume: (name) => write(name, () => backend.setSuspended(name, false)),
        remove: (name) => read(name, () => backend.remove(name)),
        status: (name) => read(name, async () => (await backend.describe(name)).workload.status),
        endpoint: (name) =>
          read(name, () => backend.describe(name)).pipe(
            Effect.flatMap((described) =>
              described.values.suspended
                ? Effect.fail(new EndpointUnavailable({ name, message: "the workload is suspended" }))
                : Effect.succeed({ ...backend.endpoint(described), ready: described.workload.status.phase === "running" && described.workload.status.ready })
            )
          ),
        logs: (name, logOptions = {}) =>
          Stream.unwrap(
            Effect.gen(function*() {
              const pod = yield* read(name, () => backend.currentPod(name))
              if (pod === undefined) return Stream.empty
              if (logOptions.follow !== true || logOptions.previous === true) {
                const text = yield* read(name, () => backend.kube.podLog(pod, logOptions))
                return Stream.fromIterable(splitLines(text))
              }
              return Stream.callback<string, SchedulerUnavailable>((queue) =>
                Effect.acquireRelease(
                  Effect.tryPromise({
                    try: () => {
                      let rest = ""
                      return backend.kube.followLog(pod, logOptions.tailLines, (text) => {
                        const lines = (rest + text).split("\n")
                        rest = lines.pop() ?? ""
                        for (const line of lines) Queue.offerUnsafe(queue, line)
                      }, (error) => {
                        if (rest !== "") Queue.offerUnsafe(queue, rest)
                        if (error === undefined) Queue.endUnsafe(queue)
                        else Queue.failCauseUnsafe(queue, Cause.fail(unavailable(error)))
                      })
                    },
                    catch: unavailable
                  }),
                  (stop) => Effect.sync(stop)
                )
              )
            })
          ),
        watch: (selector) =>
          Stream.callback<WorkloadEvent, SchedulerUnavailable>((queue) =>
            Effect.acquireRelease(
              Effect.tryPromise({
                try: () =>
                  backend.watch(
                    (event) => {
                      if (matchesSelector(event.workload?.spec.labels, selector)) Queue.offerUnsafe(queue, event)
                    },
                    () => {
                      // Transient watch failures are retried by the backend; nothing to surface.
                    }
                  ),
                catch: unavailable
              }),
              (stop) => Effect.sync(stop)
            )
          )
      })
    })
  )

/** The Kubernetes scheduler configured from the environment (see the module doc). */
export const layerConfig: Layer.Layer<Scheduler, SchedulerUnavailable | Config.ConfigError> = Layer.unwrap(
  Effect.gen(function*() {
    const optional = (name: string) => Config.option(Config.String(name)).pipe(Config.map((o) => (o._tag === "Some" ? o.value : undefined)))
    return layer({
      policy: yield* policyConfig,
      namespace: yield* optional("AQUIFER_K8S_NAMESPACE"),
      clusterDomain: yield* optional("AQUIFER_K8S_CLUSTER_DOMAIN"),
      storageClassName: yield* optional("AQUIFER_K8S_STORAGE_CLASS"),
      gpuResource: yield* optional("AQUIFER_K8S_GPU_RESOURCE"),
      imagePullPolicy: yield* optional("AQUIFER_K8S_IMAGE_PULL_POLICY")
    })
  })
)
