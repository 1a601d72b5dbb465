/**
 * App instances: Scheduler workloads labelled as App Store instances. Their state is read from
 * the Scheduler every time (never copied into the metadata store), so an instance changed by
 * another tool, or one that crashed, is reported as it really is. The only instance facts the
 * catalog keeps are what a user may change on a live instance (its visibility) and aliases.
 *
 * Lifecycles: `ON_DEMAND` — every user launches their own; `MANAGED` — only the app's owner or
 * an admin launches (others visit the shared instance); `LINK` — no instance at all.
 *
 * Every instance gets, so existing Wave apps run unchanged: `H2O_CLOUD_ENVIRONMENT`,
 * `H2O_CLOUD_INSTANCE_ID`, `H2O_CLOUD_APP_NAME`, `H2O_CLOUD_APP_VERSION`, `H2O_CLOUD_APP_ID`,
 * `H2O_WAVE_BASE_URL` (path routing), and with `EnableOIDC` the `H2O_WAVE_OIDC_*` settings.
 * @module
 */
import { AuditLog } from "@aquifer/audit"
import {
  type AppId,
  InstanceId,
  InvalidInput,
  LimitExceeded,
  newInstanceId,
  NotFound,
  Unavailable
} from "@aquifer/core"
import { authorize, authorizeOrHide, can, type Caller, type ResourceRef, Visibility } from "@aquifer/identity"
import { type LogOptions, Scheduler, type Workload, WorkloadSpec } from "@aquifer/scheduler"
import { resolveSecrets, type SecretRequest } from "@aquifer/secrets"
import { Effect, Redacted, Schema, Stream } from "effect"
import { type App, AppCatalog, type AppVersion, type VersionId } from "./catalog.ts"
import { LaunchRefused } from "./errors.ts"
import { AppLauncher } from "./launcher.ts"
import { AppStoreSettings } from "./settings.ts"
import { appRef } from "./store.ts"

/** Labels every instance workload carries. */
export const labels = {
  kind: "aquifer.kind",
  instance: "aquifer.instance",
  app: "aquifer.app",
  version: "aquifer.version",
  visibility: "aquifer.visibility",
  lifecycle: "aquifer.lifecycle",
  timeout: "aquifer.timeout-seconds"
} as const

/** Selects every App Store instance on a Scheduler. */
export const instanceSelector = { [labels.kind]: "app-instance" } as const

/** The workload name of an instance: `ins-` + its 32 hex digits (a valid DNS label). */
export const workloadNameOf = (id: InstanceId): string => `ins-${id.slice(4)}`

/** The path prefix an instance is reached under (path routing). */
export const instancePath = (id: InstanceId | string): string => `/instances/${id}/`

const isInstanceId = Schema.is(InstanceId)

/** An instance as users see it: identity, ownership, and the Scheduler's view of its state. */
export class Instance extends Schema.Class<Instance>("Instance")({
  id: InstanceId,
  appId: Schema.String,
  appName: Schema.String,
  versionId: Schema.String,
  version: Schema.String,
  owner: Schema.String,
  visibility: Visibility,
  lifecycle: Schema.String,
  /** Seconds of no traffic before the instance is suspended; -1: never. */
  timeoutSeconds: Schema.Int,
  phase: Schema.String,
  ready: Schema.Boolean,
  reason: Schema.optional(Schema.String),
  message: Schema.optional(Schema.String),
  restarts: Schema.Int,
  path: Schema.String,
  createdAt: Schema.String,
  updatedAt: Schema.String
}) {}

/** The instance a workload is, or undefined when it is not an App Store instance. */
export const instanceOf = (workload: Workload, visibility?: Visibility): Instance | undefined => {
  const l = workload.spec.labels ?? {}
  const id = l[labels.instance]
  if (l[labels.kind] !== "app-instance" || id === undefined || !isInstanceId(id)) return undefined
  const env = workload.spec.env ?? {}
  const labelled = l[labels.visibility]
  return new Instance({
    id,
    appId: l[labels.app] ?? "",
    appName: env.H2O_CLOUD_APP_NAME ?? "",
    versionId: l[labels.version] ?? "",
    version: env.H2O_CLOUD_APP_VERSION ?? "",
    owner: workload.spec.owner,
    visibility: visibility ?? (labelled === "ALL_USERS" || labelled === "PUBLIC" ? labelled : "PRIVATE"),
    lifecycle: l[labels.lifecycle] ?? "ON_DEMAND",
    timeoutSeconds: /^\d+$/.test(l[labels.timeout] ?? "") ? Number(l[labels.timeout]) : -1,
    phase: workload.status.phase,
    ready: workload.status.ready,
    reason: workload.status.reason,
    message: (workload.status.lastExit === undefined ? undefined : exitMessage(workload.status.lastExit.code)) ?? workload.status.message,
    restarts: workload.status.restarts,
    path: instancePath(id),
    createdAt: workload.createdAt,
    updatedAt: workload.updatedAt
  })
}

/** Exit codes of the launchers, and what they mean for people. */
export const launcherExitCodes = { dependencies: 78, unsupported: 79, startFailed: 80 } as const

const exitMessage = (code: number | undefined): string | undefined =>
  code === launcherExitCodes.dependencies
    ? "the app's dependencies could not be installed (see the instance logs)"
    : code === launcherExitCodes.unsupported
    ? "the app cannot run on this platform (see the instance logs)"
    : code === launcherExitCodes.startFailed
    ? "the app could not be started (see the instance logs)"
    : undefined

/** The facts the policy needs about an instance. */
export const instanceRef = (instance: Instance): ResourceRef<"instance"> & { readonly id: string } => ({
  kind: "instance",
  id: instance.id,
  owner: instance.owner,
  visibility: instance.visibility
})

const schedulerError = (error: { readonly _tag: string; readonly message: string }) =>
  error._tag === "WorkloadNotFound" ? error : new Unavailable({ message: error.message })

/** Reads an instance from the Scheduler (with its user-set visibility); `NotFound` when absent. */
export const findInstance = Effect.fnUntraced(function*(id: string) {
  if (!isInstanceId(id)) return yield* new NotFound({ resource: "instance", id })
  const scheduler = yield* Scheduler
  const catalog = yield* AppCatalog
  const workload = yield* scheduler.get(workloadNameOf(id)).pipe(
    Effect.catchTag("WorkloadNotFound", () => Effect.fail(new NotFound({ resource: "instance", id }))),
    Effect.mapError((e) => (e._tag === "NotFound" ? e : new Unavailable({ message: e.message })))
  )
  const settings = yield* catalog.getInstanceSettings(id)
  const instance = instanceOf(workload, settings?.visibility)
  if (instance === undefined) return yield* new NotFound({ resource: "instance", id })
  return instance
})

/** Every instance (optionally of one app), from the Scheduler. */
export const allInstances = Effect.fnUntraced(function*(filter: { readonly appId?: string | undefined } = {}) {
  const scheduler = yield* Scheduler
  const catalog = yield* AppCatalog
  const workloads = yield* scheduler.list(filter.appId === undefined ? instanceSelector : { ...instanceSelector, [labels.app]: filter.appId }).pipe(
    Effect.mapError((e) => new Unavailable({ message: e.message }))
  )
  const out: Array<Instance> = []
  for (const workload of workloads) {
    const base = instanceOf(workload)
    if (base === undefined) continue
    const settings = yield* catalog.getInstanceSettings(base.id)
    out.push(settings === undefined ? base : new Instance({ ...base, visibility: settings.visibility }))
  }
  return out
})

/** Instances the caller may see: their own, shared with them, and (admins) all. */
export const listInstances = Effect.fnUntraced(function*(caller: Caller, filter: { readonly appId?: string | undefined; readonly mine?: boolean | undefined } = {}) {
  const all = yield* allInstances(filter)
  return all.filter((i) => (filter.mine === true ? i.owner === caller.principal.key : can(caller, "read", instanceRef(i))))
})

/** One instance the caller may see; `NotFound` for any other. */
export const getInstance = Effect.fnUntraced(function*(caller: Caller | undefined, id: string) {
  const instance = yield* findInstance(id)
  if (!can(caller, "read", instanceRef(instance))) return yield* new NotFound({ resource: "instance", id })
  return instance
})

/** The ids of the instances of a version, for "in use" checks. */
export const instancesOfVersion = (version: AppVersion) =>
  Effect.map(allInstances({ appId: version.appId }), (all) => all.filter((i) => i.versionId === version.id).map((i) => `instance ${i.id}`))

/** The instances referring to a secret (by id), for "in use" checks. */
export const instancesUsingSecret = (secretId: string) =>
  Effect.gen(function*() {
    const scheduler = yield* Scheduler
    const workloads = yield* scheduler.list(instanceSelector).pipe(Effect.mapError((e) => new Unavailable({ message: e.message })))
    return workloads
      .filter((w) => (w.spec.secrets ?? []).some((ref) => ref.secret === secretId))
      .map((w) => `instance ${w.spec.labels?.[labels.instance] ?? w.spec.name}`)
  })

const audit = (caller: Caller, action: string, id: string, details: Record<string, string | number | boolean> = {}) =>
  AuditLog.use((log) => log.record({ actor: caller.principal.key, action, resource: { kind: "instance", id }, details })).pipe(Effect.ignore)

export interface LaunchInput {
  readonly versionId: VersionId
  readonly visibility?: Visibility | undefined
}

const secretFileTarget = (path: string) => path.replace(/^\/+/, "")

/**
 * Launches a version as a new instance owned by the caller. Refused (nothing deployed) when the
 * caller may not launch the app, the lifecycle forbids it, the caller's instance limit is
 * reached, a required secret is missing, or the platform cannot run the app's mode.
 */
export const launch = Effect.fnUntraced(function*(caller: Caller, input: LaunchInput) {
  const catalog = yield* AppCatalog
  const scheduler = yield* Scheduler
  const launcher = yield* AppLauncher
  const settings = yield* AppStoreSettings
  const version = yield* catalog.getVersion(input.versionId)
  const app: App = yield* catalog.getApp(version.appId)
  const ref = { ...(yield* appRef(app)), id: app.id }
  const manifest = version.manifest
  if (manifest.instanceLifecycle === "MANAGED") {
    yield* authorizeOrHide(caller, "read", ref)
    yield* authorize(caller, "update", ref).pipe(
      Effect.catchTag("Forbidden", () => Effect.fail(new LaunchRefused({ message: `${app.name} is a MANAGED app: only its owner or an admin starts it; open one of its running instances instead` })))
    )
  } else {
    yield* authorizeOrHide(caller, "launch", ref)
  }
  if (manifest.instanceLifecycle === "LINK" || manifest.runtime === undefined) {
    return yield* new LaunchRefused({ message: `${app.name} is a LINK app: it has no instances; open ${manifest.linkAddress ?? "its address"} instead` })
  }
  const runtime = manifest.runtime
  const mine = (yield* allInstances()).filter((i) => i.owner === caller.principal.key)
  const limit = caller.principal.isVisitor ? settings.maxInstancesPerVisitor : settings.maxInstancesPerUser
  if (mine.length >= limit) {
    return yield* new LimitExceeded({ message: `you have ${mine.length} instances, the most allowed; terminate one first` })
  }
  const id = newInstanceId()
  const basePath = instancePath(id)
  const env: Record<string, string> = {
    H2O_CLOUD_ENVIRONMENT: settings.publicUrl,
    H2O_CLOUD_INSTANCE_ID: id,
    H2O_CLOUD_APP_NAME: app.name,
    H2O_CLOUD_APP_VERSION: version.version,
    H2O_CLOUD_APP_ID: app.id
  }
  if (runtime.routingMode === "BASE_URL") env.H2O_WAVE_BASE_URL = basePath
  if (runtime.enableOIDC) {
    const oidc = settings.oidc
    if (oidc === undefined) {
      return yield* new LaunchRefused({ message: `${app.name} sets EnableOIDC, but no OIDC client for apps is configured (AQUIFER_APPS_OIDC_CLIENT_ID)`, field: "Runtime.EnableOIDC" })
    }
    env.H2O_WAVE_OIDC_PROVIDER_URL = oidc.providerUrl
    env.H2O_WAVE_OIDC_CLIENT_ID = oidc.clientId
    env.H2O_WAVE_OIDC_REDIRECT_URL = `${settings.publicUrl}${basePath}_auth/callback`
    if (oidc.endSessionUrl !== undefined) env.H2O_WAVE_OIDC_END_SESSION_URL = oidc.endSessionUrl
  }
  const requests: Array<SecretRequest> = []
  for (const entry of manifest.env) {
    if (entry.value !== undefined) env[entry.name] = entry.value
    else requests.push({ secret: entry.secret!, key: entry.secretKey!, optional: entry.optional, env: entry.name, origin: `Env ${entry.name}` })
  }
  const files: Array<{ path: string; value: string }> = []
  for (const entry of manifest.files) {
    if (entry.value !== undefined) files.push({ path: entry.path, value: entry.value })
    else requests.push({ secret: entry.secret!, key: entry.secretKey!, optional: entry.optional, file: secretFileTarget(entry.path), origin: `File ${entry.path}` })
  }
  const runnable = yield* launcher.runnable({ app, version, instanceId: id, basePath, files })
  const resolved = yield* resolveSecrets({ appName: app.name, owner: caller.principal.key, requests }).pipe(
    Effect.catchTag("MissingSecret", (error) => Effect.fail(new LaunchRefused({ message: error.message, field: "secrets" }))),
    Effect.catchTag("SecretCipherError", (error) => Effect.fail(new Unavailable({ message: error.message })))
  )
  const material = { ...resolved.material } as Record<string, Record<string, Redacted.Redacted<string>>>
  if (runtime.enableOIDC && settings.oidc !== undefined) {
    material["aquifer-apps-oidc"] = { clientSecret: settings.oidc.clientSecret }
  }
  const visibility = input.visibility ?? "PRIVATE"
  const resources = {
    requests: { cpu: runtime.cpuReservation, memory: runtime.memoryReservation },
    limits: { cpu: runtime.cpuLimit, memory: runtime.memoryLimit }
  }
  const spec = WorkloadSpec.make({
    name: workloadNameOf(id),
    owner: caller.principal.key,
    kind: "app",
    labels: {
      [labels.kind]: "app-instance",
      [labels.instance]: id,
      [labels.app]: app.id,
      [labels.version]: version.id,
      [labels.visibility]: visibility,
      [labels.lifecycle]: manifest.instanceLifecycle,
      [labels.timeout]: manifest.instanceTimeoutMs < 0 ? "never" : String(Math.round(manifest.instanceTimeoutMs / 1000))
    },
    command: runnable.command,
    args: runnable.args === undefined ? undefined : [...runnable.args],
    workingDir: runnable.workingDir,
    image: runnable.image,
    env: { ...runnable.env, ...env },
    secrets: [
      ...resolved.refs.map((r) => ({ secret: r.secret, key: r.key, ...(r.env === undefined ? {} : { env: r.env }), ...(r.file === undefined ? {} : { file: r.file }) })),
      ...(runtime.enableOIDC && settings.oidc !== undefined ? [{ secret: "aquifer-apps-oidc", key: "clientSecret", env: "H2O_WAVE_OIDC_CLIENT_SECRET" }] : [])
    ],
    port: runnable.port,
    readinessPath: runnable.readinessPath,
    resources: {
      requests: Object.values(resources.requests).some((v) => v !== undefined) ? resources.requests : undefined,
      limits: Object.values(resources.limits).some((v) => v !== undefined) ? resources.limits : undefined
    },
    gpus: runtime.gpuCount > 0 ? runtime.gpuCount : undefined,
    volumes: [
      ...(runnable.volumes ?? []),
      ...(runtime.volumeMount === undefined ? [] : [{ name: "data", mountPath: runtime.volumeMount, size: runtime.volumeSize ?? "1Gi" }])
    ],
    restartPolicy: "on-failure"
  })
  yield* catalog.putInstanceSettings(id, { visibility })
  const deployed = yield* scheduler.deploy(spec, material).pipe(
    Effect.catchTag("InvalidWorkload", (error) => Effect.fail(new LaunchRefused({ message: `the platform refused to run ${app.name}: ${error.message}`, field: error.field }))),
    Effect.mapError((error) => (error._tag === "LaunchRefused" ? error : new Unavailable({ message: error.message }))),
    Effect.tapError(() => Effect.ignore(catalog.deleteInstanceSettings(id)))
  )
  yield* audit(caller, "instance.launch", id, { app: app.name, version: version.version })
  return instanceOf(deployed.workload, visibility)!
})

const managed = Effect.fnUntraced(function*(caller: Caller, id: string, action: "manage" | "delete") {
  const instance = yield* findInstance(id)
  yield* authorizeOrHide(caller, action, instanceRef(instance))
  return instance
})

/** Stops an instance's compute, keeping it to resume later. */
export const suspend = Effect.fnUntraced(function*(caller: Caller, id: string) {
  const instance = yield* managed(caller, id, "manage")
  const workload = yield* (yield* Scheduler).suspend(workloadNameOf(instance.id)).pipe(Effect.mapError(schedulerError), Effect.catchTag("WorkloadNotFound", () => Effect.fail(new NotFound({ resource: "instance", id }))))
  yield* audit(caller, "instance.suspend", id)
  return instanceOf(workload, instance.visibility)!
})

/** Starts a suspended instance again. */
export const resume = Effect.fnUntraced(function*(caller: Caller, id: string) {
  const instance = yield* managed(caller, id, "manage")
  const workload = yield* (yield* Scheduler).resume(workloadNameOf(instance.id)).pipe(Effect.mapError(schedulerError), Effect.catchTag("WorkloadNotFound", () => Effect.fail(new NotFound({ resource: "instance", id }))))
  yield* audit(caller, "instance.resume", id)
  return instanceOf(workload, instance.visibility)!
})

/** Removes an instance and everything it had (its settings and aliases too). */
export const terminate = Effect.fnUntraced(function*(caller: Caller, id: string) {
  const instance = yield* managed(caller, id, "delete")
  yield* (yield* Scheduler).remove(workloadNameOf(instance.id)).pipe(
    Effect.catchTag("WorkloadNotFound", () => Effect.void),
    Effect.mapError((e) => new Unavailable({ message: e.message }))
  )
  yield* (yield* AppCatalog).deleteInstanceSettings(instance.id)
  yield* audit(caller, "instance.terminate", id)
})

/** Changes who may reach an instance; takes effect at once, without a restart. */
export const setInstanceVisibility = Effect.fnUntraced(function*(caller: Caller, id: string, visibility: Visibility) {
  const instance = yield* managed(caller, id, "manage")
  if (!Schema.is(Visibility)(visibility)) return yield* new InvalidInput({ message: "visibility is PRIVATE, ALL_USERS or PUBLIC", field: "visibility" })
  yield* (yield* AppCatalog).putInstanceSettings(instance.id, { visibility })
  yield* audit(caller, "instance.update", id, { visibility })
  return new Instance({ ...instance, visibility })
})

/** Log lines of an instance: for its owner, admins, and the owner of its app. */
export const instanceLogs = Effect.fnUntraced(function*(caller: Caller, id: string, options: LogOptions) {
  const instance = yield* findInstance(id)
  let allowed = can(caller, "logs", instanceRef(instance))
  if (!allowed) {
    const app = yield* (yield* AppCatalog).getApp(instance.appId as AppId).pipe(Effect.option)
    allowed = app._tag === "Some" && can(caller, "update", yield* appRef(app.value))
  }
  if (!allowed) {
    if (!can(caller, "read", instanceRef(instance))) return yield* new NotFound({ resource: "instance", id })
    return yield* authorize(caller, "logs", instanceRef(instance)).pipe(Effect.as(Stream.empty as Stream.Stream<string, Unavailable>))
  }
  const scheduler = yield* Scheduler
  return scheduler.logs(workloadNameOf(instance.id), options).pipe(Stream.mapError((e) => new Unavailable({ message: e.message })))
})

/**
 * Suspends running instances idle for longer than their timeout. `lastActivity` gives the time
 * (epoch ms) of an instance's last request through the router, when this process saw one; an
 * instance never seen counts from its last update (start or resume).
 */
export const suspendIdle = Effect.fnUntraced(function*(lastActivity: (id: string) => number | undefined, nowMillis: number) {
  const scheduler = yield* Scheduler
  const suspended: Array<string> = []
  for (const instance of yield* allInstances()) {
    if (instance.timeoutSeconds <= 0 || instance.phase === "suspended") continue
    const since = Math.max(lastActivity(instance.id) ?? 0, Date.parse(instance.updatedAt) || 0)
    if (nowMillis - since >= instance.timeoutSeconds * 1000) {
      yield* scheduler.suspend(workloadNameOf(instance.id)).pipe(Effect.ignore)
      suspended.push(instance.id)
    }
  }
  return suspended
})
