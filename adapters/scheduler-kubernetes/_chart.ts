// The chart in ./chart, twice: as files (stored in each Helm release record, so `helm get`,
// `helm upgrade --reuse-values` and `helm rollback` work), and as a TypeScript rendering of its
// templates. A test renders both with the real Helm CLI and requires identical objects.
import { volumeEnvName, type WorkloadSpec } from "@aquifer/scheduler"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { parse, stringify } from "yaml"

export const chartName = "aquifer-workload"
export const secretsMountPath = "/var/run/secrets/aquifer"

export interface ChartFile {
  readonly name: string
  readonly data: string
}

export interface LoadedChart {
  readonly metadata: Record<string, unknown> & { name: string; version: string }
  readonly values: Values
  readonly templates: ReadonlyArray<ChartFile>
}

const chartDir = join(import.meta.dirname, "chart")

export const loadChart = (): LoadedChart => {
  const metadata = parse(readFileSync(join(chartDir, "Chart.yaml"), "utf8")) as LoadedChart["metadata"]
  const values = parse(readFileSync(join(chartDir, "values.yaml"), "utf8")) as Values
  const templates = readdirSync(join(chartDir, "templates"))
    .sort()
    .map((file) => ({ name: `templates/${file}`, data: readFileSync(join(chartDir, "templates", file)).toString("base64") }))
  return { metadata, values, templates }
}

export interface ValueSecretRef {
  secret: string
  key: string
  env?: string
  file?: string
}

/** The chart's values: see chart/values.yaml for what each means. */
export interface Values {
  kind: string
  owner: string
  labels: Record<string, string>
  image: string
  imagePullPolicy: string
  command: Array<string>
  args: Array<string>
  workingDir: string
  env: Record<string, string>
  secrets: Array<ValueSecretRef>
  secretVersion: string
  port: number
  readinessPath: string
  resources: { requests: Record<string, string>; limits: Record<string, string> }
  gpus: number
  gpuResource: string
  volumes: Array<{ name: string; mountPath: string; size?: string }>
  storageClassName: string
  restartPolicy: string
  suspended: boolean
}

export interface Settings {
  readonly gpuResource: string
  readonly storageClassName: string
  readonly imagePullPolicy: string
}

const dropUndefined = <T extends Record<string, unknown>>(record: T): T =>
  Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as T

/** The values Aquifer installs a spec with (only what differs from nothing: Helm's `config`). */
export const valuesFromSpec = (spec: WorkloadSpec, settings: Settings, secretVersion: string, suspended: boolean): Values => ({
  kind: spec.kind,
  owner: spec.owner,
  labels: { ...spec.labels },
  image: spec.image ?? "",
  imagePullPolicy: settings.imagePullPolicy,
  command: spec.command === undefined ? [] : [spec.command],
  args: [...(spec.args ?? [])],
  workingDir: spec.workingDir ?? "",
  env: { ...spec.env },
  secrets: (spec.secrets ?? []).map((ref) => dropUndefined({ secret: ref.secret, key: ref.key, env: ref.env, file: ref.file })),
  secretVersion,
  port: spec.port,
  readinessPath: spec.readinessPath ?? "/",
  resources: {
    requests: dropUndefined({ ...spec.resources?.requests }) as Record<string, string>,
    limits: dropUndefined({ ...spec.resources?.limits }) as Record<string, string>
  },
  gpus: spec.gpus ?? 0,
  gpuResource: settings.gpuResource,
  volumes: (spec.volumes ?? []).map((volume) => dropUndefined({ name: volume.name, mountPath: volume.mountPath, size: volume.size })),
  storageClassName: settings.storageClassName,
  restartPolicy: spec.restartPolicy ?? "always",
  suspended
})

const nonEmpty = <T extends object>(value: T | undefined): T | undefined =>
  value !== undefined && Object.keys(value).length > 0 ? value : undefined

/** The spec a release's effective values describe (chart defaults merged with its config). */
export const specFromValues = (name: string, values: Values): Record<string, unknown> => {
  const command = values.command ?? []
  const args = [...command.slice(1), ...(values.args ?? [])]
  return dropUndefined({
    name,
    owner: values.owner === "" || values.owner === undefined ? "helm" : values.owner,
    kind: values.kind,
    labels: nonEmpty(values.labels),
    image: values.image === "" ? undefined : values.image,
    command: command[0],
    args: args.length > 0 ? args : undefined,
    workingDir: values.workingDir === "" ? undefined : values.workingDir,
    env: nonEmpty(values.env),
    secrets: values.secrets?.length ? values.secrets : undefined,
    port: Number(values.port),
    readinessPath: values.readinessPath,
    resources: nonEmpty(values.resources?.requests) || nonEmpty(values.resources?.limits)
      ? dropUndefined({ requests: nonEmpty(values.resources.requests), limits: nonEmpty(values.resources.limits) })
      : undefined,
    gpus: values.gpus ? Number(values.gpus) : undefined,
    volumes: values.volumes?.length ? values.volumes : undefined,
    restartPolicy: values.restartPolicy === "always" ? "always" : values.restartPolicy
  })
}

/** Deep merge of chart defaults and a release's config, as Helm coalesces values. */
export const coalesce = (defaults: unknown, config: unknown): unknown => {
  if (config === undefined) return defaults
  if (config === null) return undefined
  if (isPlainObject(defaults) && isPlainObject(config)) {
    const out: Record<string, unknown> = { ...defaults }
    for (const [key, value] of Object.entries(config)) out[key] = coalesce(defaults[key], value)
    return out
  }
  return config
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value)

export type KubeObject = Record<string, any> & { apiVersion: string; kind: string; metadata: Record<string, any> }

const labelsOf = (release: string, values: Values, chart: LoadedChart): Record<string, string> => ({
  "app.kubernetes.io/name": chartName,
  "app.kubernetes.io/instance": release,
  "app.kubernetes.io/managed-by": "Helm",
  "app.kubernetes.io/component": values.kind,
  "helm.sh/chart": `${chart.metadata.name}-${chart.metadata.version}`,
  "aquifer.dev/workload": release,
  "aquifer.dev/kind": values.kind,
  ...Object.fromEntries(Object.entries(values.labels ?? {}).map(([key, value]) => [key, String(value)]))
})

const sortedEntries = <V>(record: Record<string, V> | undefined): Array<[string, V]> =>
  Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

/** The objects `helm template` renders from the chart for these values, in Helm's install order. */
export const render = (release: string, namespace: string, values: Values, chart: LoadedChart): Array<KubeObject> => {
  const labels = labelsOf(release, values, chart)
  const annotations = { "aquifer.dev/owner": values.owner ?? "" }
  const volumes = values.volumes ?? []
  const secrets = values.secrets ?? []
  const secretFiles = secrets.some((ref) => ref.file)

  const pvcs: Array<KubeObject> = volumes.map((volume) => ({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: `${release}-${volume.name}`, namespace, labels, annotations },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: volume.size || "1Gi" } },
      ...(values.storageClassName ? { storageClassName: values.storageClassName } : {})
    }
  }))

  const service: KubeObject = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: release, namespace, labels, annotations },
    spec: {
      type: "ClusterIP",
      selector: { "aquifer.dev/workload": release },
      ports: [{ name: "http", port: Number(values.port), targetPort: "http", protocol: "TCP" }]
    }
  }

  const requests = sortedEntries(values.resources?.requests)
  const limits: Record<string, string | number> = Object.fromEntries(sortedEntries(values.resources?.limits))
  if (Number(values.gpus) > 0) limits[values.gpuResource] = Math.trunc(Number(values.gpus))
  const env: Array<Record<string, unknown>> = [
    { name: "PORT", value: String(values.port) },
    { name: "HOST", value: "0.0.0.0" },
    { name: "AQUIFER_WORKLOAD_NAME", value: release },
    { name: "AQUIFER_SECRETS_DIR", value: secretsMountPath },
    ...volumes.map((volume) => ({ name: volumeEnvName(volume.name), value: volume.mountPath })),
    ...sortedEntries(values.env).map(([name, value]) => ({ name, value: String(value) })),
    ...secrets.flatMap((ref, index) =>
      ref.env ? [{ name: ref.env, valueFrom: { secretKeyRef: { name: `${release}-secrets`, key: `ref-${index}` } } }] : []
    )
  ]
  const mounts = [
    ...volumes.map((volume) => ({ name: `vol-${volume.name}`, mountPath: volume.mountPath })),
    ...(secretFiles ? [{ name: "aquifer-secrets", mountPath: secretsMountPath, readOnly: true }] : [])
  ]
  const podVolumes = [
    ...volumes.map((volume) => ({ name: `vol-${volume.name}`, persistentVolumeClaim: { claimName: `${release}-${volume.name}` } })),
    ...(secretFiles
      ? [{
        name: "aquifer-secrets",
        secret: {
          secretName: `${release}-secrets`,
          defaultMode: 256,
          items: secrets.flatMap((ref, index) => (ref.file ? [{ key: `ref-${index}`, path: ref.file }] : []))
        }
      }]
      : [])
  ]
  const container: Record<string, unknown> = {
    name: "workload",
    image: values.image,
    imagePullPolicy: values.imagePullPolicy,
    ...(values.command?.length ? { command: values.command } : {}),
    ...(values.args?.length ? { args: values.args } : {}),
    ...(values.workingDir ? { workingDir: values.workingDir } : {}),
    ports: [{ name: "http", containerPort: Number(values.port), protocol: "TCP" }],
    env,
    readinessProbe: { httpGet: { path: values.readinessPath, port: "http" }, periodSeconds: 5 },
    ...(requests.length > 0 || Object.keys(limits).length > 0
      ? {
        resources: {
          ...(requests.length > 0 ? { requests: Object.fromEntries(requests) } : {}),
          ...(Object.keys(limits).length > 0 ? { limits } : {})
        }
      }
      : {}),
    securityContext: { allowPrivilegeEscalation: false, privileged: false },
    ...(mounts.length > 0 ? { volumeMounts: mounts } : {})
  }
  const deployment: KubeObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: release, namespace, labels, annotations },
    spec: {
      replicas: values.suspended ? 0 : 1,
      revisionHistoryLimit: 2,
      strategy: { type: volumes.length > 0 ? "Recreate" : "RollingUpdate" },
      selector: { matchLabels: { "aquifer.dev/workload": release } },
      template: {
        metadata: { labels, annotations: { "aquifer.dev/secret-version": values.secretVersion ?? "" } },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          containers: [container],
          ...(podVolumes.length > 0 ? { volumes: podVolumes } : {})
        }
      }
    }
  }
  return [...pvcs, service, deployment]
}

const templateOf: Record<string, string> = {
  PersistentVolumeClaim: "pvc.yaml",
  Service: "service.yaml",
  Deployment: "deployment.yaml"
}

/** The manifest text Helm stores in a release: one document per object, with its source. */
export const manifestText = (objects: ReadonlyArray<KubeObject>): string =>
  objects
    .map((object) => `---\n# Source: ${chartName}/templates/${templateOf[object.kind]}\n${stringify(object)}`)
    .join("")
