// Helm 3 release records, byte-compatible with Helm's "secrets" storage driver: a Secret
// `sh.helm.release.v1.<name>.v<version>` of type `helm.sh/release.v1`, labelled owner=helm,
// name, status, version (plus the release's custom labels), whose data key `release` holds
// base64(gzip(JSON release)) — and, as for any Secret, the API carries that text base64-encoded
// once more.
import { gunzipSync, gzipSync } from "node:zlib"
import type { ChartFile, KubeObject, LoadedChart, Values } from "./_chart.ts"

export type ReleaseStatus =
  | "unknown"
  | "deployed"
  | "uninstalled"
  | "superseded"
  | "failed"
  | "uninstalling"
  | "pending-install"
  | "pending-upgrade"
  | "pending-rollback"

/** Helm's release JSON (pkg/release), the fields Helm reads and writes. */
export interface Release {
  name: string
  info: {
    first_deployed: string
    last_deployed: string
    deleted: string
    description: string
    status: ReleaseStatus
    notes?: string
  }
  chart: {
    metadata: Record<string, unknown>
    lock: null
    templates: Array<ChartFile>
    values: Values
    schema: null
    files: Array<ChartFile>
  }
  config: Values
  manifest: string
  hooks: Array<unknown>
  version: number
  namespace: string
  /** Helm keeps custom labels outside the JSON, as labels of the storage Secret. */
  labels: Record<string, string>
}

export const releaseSecretName = (name: string, version: number): string => `sh.helm.release.v1.${name}.v${version}`
export const releaseSecretType = "helm.sh/release.v1"
const systemLabels = new Set(["name", "owner", "status", "version", "createdAt", "modifiedAt"])

export const encodeRelease = (release: Release): string => {
  const { labels: _, ...json } = release
  return gzipSync(Buffer.from(JSON.stringify(json)), { level: 9 }).toString("base64")
}

export const decodeRelease = (text: string): Omit<Release, "labels"> => {
  let bytes = Buffer.from(text, "base64")
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes)
  return JSON.parse(bytes.toString("utf8")) as Omit<Release, "labels">
}

/** The storage Secret for a release, as Helm writes it. */
export const releaseSecret = (release: Release, createdAt: number): KubeObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: {
    name: releaseSecretName(release.name, release.version),
    namespace: release.namespace,
    labels: {
      ...release.labels,
      name: release.name,
      owner: "helm",
      status: release.info.status,
      version: String(release.version),
      createdAt: String(Math.floor(createdAt / 1000))
    }
  },
  type: releaseSecretType,
  data: { release: Buffer.from(encodeRelease(release)).toString("base64") }
})

/** Reads a storage Secret back into a release; undefined when it is not one. */
export const releaseFromSecret = (secret: KubeObject): Release | undefined => {
  if (secret.type !== releaseSecretType || typeof secret.data?.release !== "string") return undefined
  const decoded = decodeRelease(Buffer.from(secret.data.release, "base64").toString("utf8"))
  const labels = Object.fromEntries(
    Object.entries((secret.metadata.labels ?? {}) as Record<string, string>).filter(([key]) => !systemLabels.has(key))
  )
  return { ...decoded, labels }
}

export const newRelease = (options: {
  name: string
  namespace: string
  version: number
  chart: LoadedChart
  config: Values
  manifest: string
  status: ReleaseStatus
  description: string
  firstDeployed: string
  labels: Record<string, string>
}): Release => {
  const now = new Date().toISOString()
  return {
    name: options.name,
    info: {
      first_deployed: options.firstDeployed,
      last_deployed: now,
      deleted: "",
      description: options.description,
      status: options.status
    },
    chart: {
      metadata: options.chart.metadata,
      lock: null,
      templates: [...options.chart.templates],
      values: options.chart.values,
      schema: null,
      files: []
    },
    config: options.config,
    manifest: options.manifest,
    hooks: [],
    version: options.version,
    namespace: options.namespace,
    labels: options.labels
  }
}
