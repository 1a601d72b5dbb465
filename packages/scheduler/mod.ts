/**
 * `@aquifer/scheduler`: the `Scheduler` port. Workloads (app instances, AI engines, model
 * deployments), their validation rules, names, states and errors, an in-memory implementation
 * for tests, and (in `@aquifer/scheduler/testing`) the conformance kit every adapter passes.
 * @module
 */
export * from "./errors.ts"
export * from "./memory.ts"
export * from "./names.ts"
export * from "./policy.ts"
export * from "./scheduler.ts"
export * from "./workload.ts"
