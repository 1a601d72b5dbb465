/**
 * The `AppLauncher` port: turns an app version into the runnable part of a Scheduler workload —
 * a command for a process scheduler, an image for a container scheduler — and refuses modes its
 * scheduler cannot run (`LaunchRefused` with a message saying why and what to do).
 *
 * What runs is a *launcher* in the spirit of H2O AI Cloud's: it fetches the bundle, unpacks it
 * (with the checks `BundleReader` applies), prepares the Python environment from
 * `requirements.txt` (cached by `AppVersion.requirementsHash`), writes the literal `[[File]]`s,
 * then starts the app per `AppMode` — `wave`: `waved` plus the app, `python`: the module on
 * `PORT`. The launch returns as soon as the workload exists; installation happens inside it, so
 * its progress and failures show in the instance's status and logs.
 *
 * Settings every launcher honours, given in the plan: the instance's base URL path (traffic
 * arrives under it), the app's literal files, the port.
 * @module
 */
import type { InstanceId, Unavailable } from "@aquifer/core"
import type { Volume } from "@aquifer/scheduler"
import { Context, type Effect } from "effect"
import type { App, AppVersion } from "./catalog.ts"
import type { LaunchRefused } from "./errors.ts"

/** What the launcher is asked to run. */
export interface LaunchPlan {
  readonly app: App
  readonly version: AppVersion
  readonly instanceId: InstanceId
  /** The path prefix traffic arrives under, with a trailing slash: `/instances/<id>/`. */
  readonly basePath: string
  /** Literal `[[File]]` values (secret files come through the Scheduler's secret refs). */
  readonly files: ReadonlyArray<{ readonly path: string; readonly value: string }>
}

/** The runnable part of the workload spec. */
export interface Runnable {
  readonly command?: string | undefined
  readonly args?: ReadonlyArray<string> | undefined
  readonly workingDir?: string | undefined
  readonly image?: string | undefined
  readonly port: number
  readonly readinessPath: string
  /** Extra environment the launcher itself needs. */
  readonly env?: Readonly<Record<string, string>> | undefined
  /** Volumes the launcher needs (e.g. a folder to unpack into). */
  readonly volumes?: ReadonlyArray<Volume> | undefined
}

export class AppLauncher extends Context.Service<AppLauncher, {
  /** The runnable part for `plan`; `LaunchRefused` when this platform cannot run the app's mode. */
  readonly runnable: (plan: LaunchPlan) => Effect.Effect<Runnable, LaunchRefused | Unavailable>
}>()("@aquifer/appstore/AppLauncher") {}
