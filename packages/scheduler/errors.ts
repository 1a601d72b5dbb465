/**
 * The Scheduler port's closed error set. Every adapter maps its backend's failures into these;
 * the backend's own error is kept only as `cause`. Apps map each tag to one RFC 9457 problem
 * with {@link schedulerProblems}.
 * @module
 */
import type { ProblemMapping } from "@aquifer/core"
import { Schema } from "effect"

/** No workload of that name exists (or it was removed meanwhile). */
export class WorkloadNotFound extends Schema.TaggedError<WorkloadNotFound>()("WorkloadNotFound", {
  name: Schema.String
}) {
  override get message(): string {
    return `workload ${this.name} was not found`
  }
}

/**
 * The spec (or the secret material given with it) is refused: malformed, hostile (privileged,
 * host network, host paths, an image outside the allow-list), missing limits the policy
 * requires, or not runnable by this scheduler. `field` names the offending part of the spec.
 */
export class InvalidWorkload extends Schema.TaggedError<InvalidWorkload>()("InvalidWorkload", {
  message: Schema.String,
  field: Schema.optional(Schema.String)
}) {}

/** Another writer changed the workload at the same time and kept winning: re-read, retry. */
export class WorkloadConflict extends Schema.TaggedError<WorkloadConflict>()("WorkloadConflict", {
  name: Schema.String,
  message: Schema.String
}) {}

/** The workload exists but has no address to send traffic to (suspended, not placed yet). */
export class EndpointUnavailable extends Schema.TaggedError<EndpointUnavailable>()("EndpointUnavailable", {
  name: Schema.String,
  message: Schema.String
}) {}

/** The backend (API server, data directory, process table) cannot be reached or used now. */
export class SchedulerUnavailable extends Schema.TaggedError<SchedulerUnavailable>()("SchedulerUnavailable", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

export type SchedulerError =
  | WorkloadNotFound
  | InvalidWorkload
  | WorkloadConflict
  | EndpointUnavailable
  | SchedulerUnavailable

/** One problem type per tag, for an app's error table. */
export const schedulerProblems: { readonly [Tag in SchedulerError["_tag"]]: ProblemMapping } = {
  WorkloadNotFound: { slug: "workload-not-found", title: "Workload not found", status: 404 },
  InvalidWorkload: { slug: "invalid-workload", title: "Invalid workload", status: 400 },
  WorkloadConflict: { slug: "workload-conflict", title: "Workload changed concurrently", status: 409 },
  EndpointUnavailable: { slug: "endpoint-unavailable", title: "Workload not reachable", status: 503 },
  SchedulerUnavailable: { slug: "scheduler-unavailable", title: "Scheduler unavailable", status: 503 }
}
