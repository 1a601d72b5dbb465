/**
 * `@aquifer/scheduler-kubernetes`: the `Scheduler` port on Kubernetes, each workload a
 * Helm-compatible release of `./chart`. Exports `layer(options)` and `layerConfig`.
 * @module
 */
export { type KubernetesSchedulerOptions, layer, layerConfig } from "./kubernetes_scheduler.ts"
