/**
 * `@aquifer/scheduler-local`: the `Scheduler` port on local child processes (the embedded
 * default). Exports `layer(options)` and `layerConfig`.
 * @module
 */
export { layer, layerConfig, type LocalSchedulerOptions } from "./local_scheduler.ts"
