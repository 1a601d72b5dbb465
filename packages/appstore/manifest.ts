/**
 * `app.toml`, the manifest at the root of every bundle, decoded into an {@link AppManifest}.
 * The field names are H2O AI Cloud's, exactly, so existing bundles import unchanged:
 *
 * ```toml
 * [App]
 * Name = "wine-quality"          # ≤ 63 chars, ^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$
 * Version = "1.2.0"              # semver; Name-Version obeys the same rule
 * Title = "Wine quality"
 * Description = "Predicts wine quality"
 * LongDescription = "about.md"   # a markdown file in the bundle
 * Tags = ["DATA_SCIENCE"]
 * InstanceLifecycle = "ON_DEMAND" # ON_DEMAND (default) | MANAGED | LINK
 * InstanceTimeout = "1h"          # no traffic for this long: the instance is suspended; "-1": never
 *
 * [Runtime]
 * Module = "app.main"            # the Python module to run (wave and python modes)
 * AppMode = "wave"               # wave (default) | python | container
 * # RuntimeVersion, Port, CustomImage, AppArgs, AppEntryPoint, MemoryLimit, MemoryReservation,
 * # CPULimit, CPUReservation, GPUCount, GPUType, VolumeMount, VolumeSize, EnableOIDC, EnableSHM,
 * # RoutingMode (BASE_URL | DOMAIN)
 *
 * [[Env]]
 * Name = "DB_PASSWORD"
 * Secret = "warehouse"           # or Value = "…"
 * SecretKey = "password"
 * Optional = false
 *
 * [[File]]
 * Path = "/app/config.yaml"
 * Value = "…"                    # or Secret + SecretKey
 *
 * [Link]                         # only with InstanceLifecycle = "LINK", and then no [Runtime]
 * Address = "https://example.com"
 * ```
 *
 * Unknown tables and fields are refused, like invalid values: the error names the field
 * (`Runtime.Port`, `Env[1].Name`) and, when it can be found, its line in `app.toml`.
 * @module
 */
import { parseDuration } from "@aquifer/core"
import { Effect, Schema } from "effect"
import { InvalidBundle } from "./errors.ts"
import { isSemver } from "./semver.ts"

/** How instances of an app come to be. */
export const InstanceLifecycle = Schema.Literals(["ON_DEMAND", "MANAGED", "LINK"])
export type InstanceLifecycle = typeof InstanceLifecycle.Type

/** How an app runs: a Wave app behind its own `waved`, a Python web module, or an image. */
export const AppMode = Schema.Literals(["wave", "python", "container"])
export type AppMode = typeof AppMode.Type

/** Whether an instance is reached under a path (`/instances/<id>/`) or on a host of its own. */
export const RoutingMode = Schema.Literals(["BASE_URL", "DOMAIN"])
export type RoutingMode = typeof RoutingMode.Type

/** An environment variable or file: a literal value, or one key of a named secret. */
export const ValueSource = Schema.Struct({
  value: Schema.optional(Schema.String),
  secret: Schema.optional(Schema.String),
  secretKey: Schema.optional(Schema.String),
  /** A missing secret is skipped instead of stopping the launch. */
  optional: Schema.Boolean
})

export const EnvEntry = Schema.Struct({ name: Schema.String, ...ValueSource.fields })
export type EnvEntry = typeof EnvEntry.Type

export const FileEntry = Schema.Struct({ path: Schema.String, ...ValueSource.fields })
export type FileEntry = typeof FileEntry.Type

export const RuntimeSection = Schema.Struct({
  module: Schema.optional(Schema.String),
  runtimeVersion: Schema.optional(Schema.String),
  appMode: AppMode,
  port: Schema.optional(Schema.Int),
  customImage: Schema.optional(Schema.String),
  appArgs: Schema.Array(Schema.String),
  appEntryPoint: Schema.Array(Schema.String),
  memoryLimit: Schema.optional(Schema.String),
  memoryReservation: Schema.optional(Schema.String),
  cpuLimit: Schema.optional(Schema.String),
  cpuReservation: Schema.optional(Schema.String),
  gpuCount: Schema.Int,
  gpuType: Schema.optional(Schema.String),
  volumeMount: Schema.optional(Schema.String),
  volumeSize: Schema.optional(Schema.String),
  enableOIDC: Schema.Boolean,
  enableSHM: Schema.Boolean,
  routingMode: RoutingMode
})
export type RuntimeSection = typeof RuntimeSection.Type

/** A decoded, checked `app.toml`. */
export class AppManifest extends Schema.Class<AppManifest>("AppManifest")({
  name: Schema.String,
  version: Schema.String,
  title: Schema.String,
  description: Schema.String,
  /** Path of the long description's markdown file inside the bundle. */
  longDescription: Schema.optional(Schema.String),
  tags: Schema.Array(Schema.String),
  instanceLifecycle: InstanceLifecycle,
  /** Milliseconds of no traffic before an instance is suspended; -1: never. */
  instanceTimeoutMs: Schema.Int,
  /** Absent for LINK apps. */
  runtime: Schema.optional(RuntimeSection),
  env: Schema.Array(EnvEntry),
  files: Schema.Array(FileEntry),
  /** The external URL of a LINK app. */
  linkAddress: Schema.optional(Schema.String)
}) {}

/** The rule for app names (and for `Name-Version`): a Kubernetes label value. */
export const appNamePattern = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
export const maxAppNameLength = 63

/** True when `name` is a valid app name. */
export const isAppName = (name: string): boolean => name.length <= maxAppNameLength && appNamePattern.test(name)

/** Environment variables the platform sets itself; a manifest may not give them. */
export const reservedEnv = (name: string): boolean =>
  name === "PORT" || name === "HOST" || name.startsWith("AQUIFER_") || name.startsWith("H2O_CLOUD_") ||
  name === "H2O_WAVE_BASE_URL" || name === "H2O_WAVE_ADDRESS" || name === "H2O_WAVE_LISTEN" || name === "H2O_WAVE_APP_ADDRESS" ||
  name.startsWith("H2O_WAVE_OIDC_")

const cpuQuantity = /^(\d+(\.\d+)?|\.\d+)m?$/
const memoryQuantity = /^(\d+(\.\d+)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/
const envName = /^[A-Za-z_][A-Za-z0-9_]*$/
const secretName = /^[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?$/
const moduleName = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/

/**
 * Finds the line (1-based) of a field in TOML text: `["App", "Name"]`, `["Env", 2, "Secret"]`
 * (the third `[[Env]]`), or a table alone (`["Runtime"]`). A locator, not a parser: it reads
 * table headers and `key =` lines, which is what `app.toml` files are made of.
 */
export const locateField = (text: string, path: ReadonlyArray<string | number>): number | undefined => {
  const [table, second, third] = path
  const index = typeof second === "number" ? second : undefined
  const key = typeof second === "string" ? second : typeof third === "string" ? third : undefined
  const lines = text.split(/\r?\n/)
  let current: string | undefined
  let occurrence = -1
  let tableLine: number | undefined
  for (const [number, raw] of lines.entries()) {
    const line = raw.trim()
    const header = /^\[\[?\s*("?)([^\]"]+)\1\s*\]\]?/.exec(line)
    if (header !== null) {
      current = header[2]!.trim()
      if (current === table) {
        occurrence++
        if (index === undefined || occurrence === index) tableLine ??= number + 1
      }
      continue
    }
    if (current !== table || (index !== undefined && occurrence !== index)) continue
    if (key !== undefined) {
      const assignment = /^("?)([A-Za-z0-9_-]+)\1\s*=/.exec(line)
      if (assignment !== null && assignment[2] === key) return number + 1
    }
  }
  return tableLine
}

const tables = {
  App: ["Name", "Version", "Title", "Description", "LongDescription", "Tags", "InstanceLifecycle", "InstanceTimeout"],
  Runtime: [
    "Module", "RuntimeVersion", "AppMode", "Port", "CustomImage", "AppArgs", "AppEntryPoint", "MemoryLimit",
    "MemoryReservation", "CPULimit", "CPUReservation", "GPUCount", "GPUType", "VolumeMount", "VolumeSize",
    "EnableOIDC", "EnableSHM", "RoutingMode"
  ],
  Env: ["Name", "Value", "Secret", "SecretKey", "Optional"],
  File: ["Path", "Value", "Secret", "SecretKey", "Optional"],
  Link: ["Address"]
} as const

type Path = ReadonlyArray<string | number>
const fieldName = (path: Path) =>
  path.map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? part : `.${part}`)).join("")

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date)

/**
 * Decodes a parsed `app.toml` (the plain object a TOML parser returns) into an
 * {@link AppManifest}. `text` is the file's text, used only to name the line of a bad field.
 */
export const decodeManifest = (raw: unknown, text = ""): Effect.Effect<AppManifest, InvalidBundle> =>
  Effect.suspend(() => {
    const failAt = (path: Path, message: string) => {
      const line = locateField(text, path)
      const field = fieldName(path)
      return Effect.fail(
        new InvalidBundle({ message: `app.toml: ${field}${line === undefined ? "" : ` (line ${line})`}: ${message}`, field, line })
      )
    }
    class Failure {
      readonly path: Path
      readonly message: string
      constructor(path: Path, message: string) {
        this.path = path
        this.message = message
      }
    }
    const fail = (path: Path, message: string): never => {
      throw new Failure(path, message)
    }

    try {
      if (!isRecord(raw)) return failAt([], "app.toml must be a TOML document of tables")
      for (const key of Object.keys(raw)) {
        if (!Object.hasOwn(tables, key)) fail([key], `unknown table [${key}]; known: ${Object.keys(tables).join(", ")}`)
      }
      const table = (name: "App" | "Runtime" | "Link"): Record<string, unknown> | undefined => {
        const value = raw[name]
        if (value === undefined) return undefined
        if (!isRecord(value)) fail([name], `[${name}] must be a table`)
        for (const key of Object.keys(value as object)) {
          if (!(tables[name] as ReadonlyArray<string>).includes(key)) fail([name, key], `unknown field; [${name}] has ${tables[name].join(", ")}`)
        }
        return value as Record<string, unknown>
      }
      const arrayOfTables = (name: "Env" | "File"): Array<Record<string, unknown>> => {
        const value = raw[name]
        if (value === undefined) return []
        if (!Array.isArray(value)) fail([name], `must be an array of tables ([[${name}]])`)
        return (value as Array<unknown>).map((entry, index) => {
          if (!isRecord(entry)) fail([name, index], `must be a table`)
          for (const key of Object.keys(entry as object)) {
            if (!(tables[name] as ReadonlyArray<string>).includes(key)) fail([name, index, key], `unknown field; [[${name}]] has ${tables[name].join(", ")}`)
          }
          return entry as Record<string, unknown>
        })
      }
      const str = (source: Record<string, unknown> | undefined, path: Path, required = false): string | undefined => {
        const key = path[path.length - 1] as string
        const value = source?.[key]
        if (value === undefined) return required ? fail(path, "is required") : undefined
        if (typeof value !== "string") return fail(path, `must be a string, not ${typeof value}`)
        if (required && value.trim() === "") return fail(path, "must not be empty")
        return value
      }
      const bool = (source: Record<string, unknown> | undefined, path: Path): boolean => {
        const value = source?.[path[path.length - 1] as string]
        if (value === undefined) return false
        if (typeof value !== "boolean") return fail(path, "must be true or false")
        return value
      }
      const int = (source: Record<string, unknown> | undefined, path: Path, min: number, max: number): number | undefined => {
        const value = source?.[path[path.length - 1] as string]
        if (value === undefined) return undefined
        if (typeof value !== "number" && typeof value !== "bigint") return fail(path, "must be an integer")
        const number = Number(value)
        if (!Number.isInteger(number) || number < min || number > max) return fail(path, `must be an integer from ${min} to ${max}`)
        return number
      }
      const strings = (source: Record<string, unknown> | undefined, path: Path): Array<string> => {
        const value = source?.[path[path.length - 1] as string]
        if (value === undefined) return []
        if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) return fail(path, "must be an array of strings")
        return value as Array<string>
      }
      const oneOf = <const L extends string>(source: Record<string, unknown> | undefined, path: Path, allowed: ReadonlyArray<L>, fallback: L): L => {
        const value = str(source, path)
        if (value === undefined) return fallback
        if (!allowed.includes(value as L)) return fail(path, `must be one of ${allowed.join(", ")}, not ${JSON.stringify(value)}`)
        return value as L
      }
      const quantity = (source: Record<string, unknown> | undefined, path: Path, kind: "cpu" | "memory") => {
        const value = str(source, path)
        if (value !== undefined && !(kind === "cpu" ? cpuQuantity : memoryQuantity).test(value)) {
          fail(path, kind === "cpu" ? "must be a cpu quantity like 500m or 2" : "must be a memory quantity like 512Mi or 2Gi")
        }
        return value
      }

      const app = table("App") ?? fail(["App"], "the [App] table is required")
      const name = str(app, ["App", "Name"], true)!
      if (!isAppName(name)) {
        fail(["App", "Name"], `${JSON.stringify(name)} is not a valid app name (at most ${maxAppNameLength} characters: letters, digits, '-', '_', '.', starting and ending with a letter or digit)`)
      }
      const version = str(app, ["App", "Version"], true)!
      if (!isSemver(version)) fail(["App", "Version"], `${JSON.stringify(version)} is not a semantic version like 1.2.3`)
      if (!isAppName(`${name}-${version}`)) {
        fail(["App", "Version"], `"${name}-${version}" (name-version) must also be a valid name of at most ${maxAppNameLength} characters`)
      }
      const title = str(app, ["App", "Title"]) ?? name
      if (title.length > 200) fail(["App", "Title"], "must be at most 200 characters")
      const description = str(app, ["App", "Description"]) ?? ""
      if (description.length > 2000) fail(["App", "Description"], "must be at most 2000 characters")
      const longDescription = str(app, ["App", "LongDescription"])
      if (longDescription !== undefined && (!/^[^/\\][^\\]*\.(md|markdown)$/i.test(longDescription) || longDescription.split("/").includes(".."))) {
        fail(["App", "LongDescription"], "must be the relative path of a markdown (.md) file in the bundle")
      }
      const tags = strings(app, ["App", "Tags"])
      for (const tag of tags) {
        if (!/^[A-Za-z0-9][-A-Za-z0-9_.]{0,62}$/.test(tag)) fail(["App", "Tags"], `tag ${JSON.stringify(tag)} is not a valid tag name`)
      }
      const instanceLifecycle = oneOf(app, ["App", "InstanceLifecycle"], ["ON_DEMAND", "MANAGED", "LINK"], "ON_DEMAND")
      const timeoutText = str(app, ["App", "InstanceTimeout"])
      let instanceTimeoutMs = -1
      if (timeoutText !== undefined) {
        const parsed = parseDuration(timeoutText)
        if (parsed === undefined || (parsed !== -1 && parsed < 60_000)) {
          fail(["App", "InstanceTimeout"], `${JSON.stringify(timeoutText)} is not a duration of at least 1m like "30m" or "1h", nor "-1" (never)`)
        }
        instanceTimeoutMs = parsed!
      }

      const runtimeTable = table("Runtime")
      const linkTable = table("Link")
      let runtime: RuntimeSection | undefined
      let linkAddress: string | undefined
      if (instanceLifecycle === "LINK") {
        if (runtimeTable !== undefined) fail(["Runtime"], "a LINK app has no [Runtime]: it only points at an address")
        if (raw.Env !== undefined) fail(["Env"], "a LINK app runs nothing, so it has no [[Env]]")
        if (raw.File !== undefined) fail(["File"], "a LINK app runs nothing, so it has no [[File]]")
        linkAddress = str(linkTable ?? fail(["Link"], "a LINK app needs a [Link] table with an Address"), ["Link", "Address"], true)
        let url: URL | undefined
        try {
          url = new URL(linkAddress!)
        } catch {
          url = undefined
        }
        if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:")) {
          fail(["Link", "Address"], "must be an absolute http(s) URL")
        }
      } else {
        if (linkTable !== undefined) fail(["Link"], "[Link] is only for apps with InstanceLifecycle = \"LINK\"")
        const r = runtimeTable ?? fail(["Runtime"], "the [Runtime] table is required (or InstanceLifecycle = \"LINK\")")
        const appMode = oneOf(r, ["Runtime", "AppMode"], ["wave", "python", "container"], "wave")
        const module = str(r, ["Runtime", "Module"], appMode !== "container")
        if (module !== undefined && !moduleName.test(module)) fail(["Runtime", "Module"], `${JSON.stringify(module)} is not a Python module name like app or app.main`)
        const customImage = str(r, ["Runtime", "CustomImage"], appMode === "container")
        const volumeMount = str(r, ["Runtime", "VolumeMount"])
        if (volumeMount !== undefined && (!volumeMount.startsWith("/") || volumeMount.split("/").includes(".."))) {
          fail(["Runtime", "VolumeMount"], "must be an absolute path without ..")
        }
        const volumeSize = quantity(r, ["Runtime", "VolumeSize"], "memory")
        if (volumeSize !== undefined && volumeMount === undefined) fail(["Runtime", "VolumeSize"], "needs a VolumeMount")
        const gpuCount = int(r, ["Runtime", "GPUCount"], 0, 64) ?? 0
        const port = int(r, ["Runtime", "Port"], 1, 65535)
        runtime = {
          module,
          runtimeVersion: str(r, ["Runtime", "RuntimeVersion"]),
          appMode,
          port,
          customImage,
          appArgs: strings(r, ["Runtime", "AppArgs"]),
          appEntryPoint: strings(r, ["Runtime", "AppEntryPoint"]),
          memoryLimit: quantity(r, ["Runtime", "MemoryLimit"], "memory"),
          memoryReservation: quantity(r, ["Runtime", "MemoryReservation"], "memory"),
          cpuLimit: quantity(r, ["Runtime", "CPULimit"], "cpu"),
          cpuReservation: quantity(r, ["Runtime", "CPUReservation"], "cpu"),
          gpuCount,
          gpuType: str(r, ["Runtime", "GPUType"]),
          volumeMount,
          volumeSize,
          enableOIDC: bool(r, ["Runtime", "EnableOIDC"]),
          enableSHM: bool(r, ["Runtime", "EnableSHM"]),
          routingMode: oneOf(r, ["Runtime", "RoutingMode"], ["BASE_URL", "DOMAIN"], "BASE_URL")
        }
      }

      const source = (entry: Record<string, unknown>, path: Path) => {
        const value = str(entry, [...path, "Value"])
        const secret = str(entry, [...path, "Secret"])
        const secretKey = str(entry, [...path, "SecretKey"])
        const optional = bool(entry, [...path, "Optional"])
        if ((value === undefined) === (secret === undefined)) fail(path, "needs exactly one of Value or Secret")
        if (secret !== undefined) {
          if (!secretName.test(secret)) fail([...path, "Secret"], `${JSON.stringify(secret)} is not a valid secret name`)
          if (secretKey === undefined || secretKey === "") fail([...path, "SecretKey"], "is required with Secret")
        } else if (secretKey !== undefined) fail([...path, "SecretKey"], "is only allowed with Secret")
        if (value !== undefined && value.length > 65_536) fail([...path, "Value"], "must be at most 64 KiB")
        return { value, secret, secretKey, optional }
      }
      const seenEnv = new Set<string>()
      const env = arrayOfTables("Env").map((entry, index) => {
        const name = str(entry, ["Env", index, "Name"], true)!
        if (!envName.test(name)) fail(["Env", index, "Name"], `${JSON.stringify(name)} is not a valid environment variable name`)
        if (reservedEnv(name)) fail(["Env", index, "Name"], `${name} is set by the platform and cannot be given`)
        if (seenEnv.has(name)) fail(["Env", index, "Name"], `${name} is given twice`)
        seenEnv.add(name)
        return { name, ...source(entry, ["Env", index]) }
      })
      const seenFiles = new Set<string>()
      const files = arrayOfTables("File").map((entry, index) => {
        const path = str(entry, ["File", index, "Path"], true)!
        if (!/^\/[A-Za-z0-9._/-]+$/.test(path) || path.split("/").some((part) => part === "." || part === "..") || path.endsWith("/")) {
          fail(["File", index, "Path"], `${JSON.stringify(path)} must be an absolute file path without . or .. parts`)
        }
        if (seenFiles.has(path)) fail(["File", index, "Path"], `${path} is given twice`)
        seenFiles.add(path)
        return { path, ...source(entry, ["File", index]) }
      })

      return Effect.succeed(
        new AppManifest({
          name,
          version,
          title,
          description,
          longDescription,
          tags,
          instanceLifecycle,
          instanceTimeoutMs,
          runtime,
          env,
          files,
          linkAddress
        })
      )
    } catch (error) {
      if (error instanceof Failure) return failAt(error.path, error.message)
      throw error
    }
  })
