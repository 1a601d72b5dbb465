/**
 * Spec validation, shared by every adapter so each refuses the same specs with the same error.
 * `validateWorkload` decodes untrusted input into a {@link WorkloadSpec} and applies the rules
 * below, failing with `InvalidWorkload` whose `field` names the culprit:
 *
 * - the name is a DNS label of at most 53 characters, already in normal form (see `names.ts`);
 * - no `privileged`, no `hostNetwork`, no `hostPath` volumes — ever;
 * - an `image`, when given, matches the policy's allow-list (`*` wildcards; default: any);
 * - limits for cpu and memory are present when the policy requires them, and no request
 *   exceeds its limit; quantities are well-formed Kubernetes quantities;
 * - labels are valid Kubernetes label keys/values and avoid the reserved prefixes
 *   (`aquifer.dev/`, `app.kubernetes.io/`, `helm.sh/`, `kubernetes.io/`, `k8s.io/`) and Helm's
 *   record labels (`name`, `owner`, `status`, `version`, `createdAt`, `modifiedAt`);
 * - environment names are POSIX-portable, and `PORT`, `HOST` and `AQUIFER_*` are reserved;
 * - secret refs deliver to exactly one of `env` / `file`; files are relative paths without `..`;
 * - volume names are DNS labels, unique; mount paths absolute.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { SchedulerPolicy, validateWorkload } from "@aquifer/scheduler"
 * const policy = SchedulerPolicy.make({ allowedImages: ["ghcr.io/acme/*"], requireLimits: true })
 * const checked = validateWorkload({ name: "x", owner: "o", kind: "app", port: 1 }, policy)
 * ```
 * @module
 */
import { Config, Effect, Redacted, Schema } from "effect"
import { InvalidWorkload } from "./errors.ts"
import { isWorkloadName, maxNameLength, normaliseName } from "./names.ts"
import { type SecretMaterial, type SecretRef, WorkloadSpec } from "./workload.ts"

/** What an operator allows. Built from config by each adapter's `layerConfig`. */
export class SchedulerPolicy extends Schema.Class<SchedulerPolicy>("SchedulerPolicy")({
  /** Image patterns allowed (`*` matches any run of characters); `["*"]` allows every image. */
  allowedImages: Schema.Array(Schema.String),
  /** Refuse specs without cpu and memory limits. */
  requireLimits: Schema.Boolean
}) {
  /** Any image, no limits required: fine on a laptop, not for a shared cluster. */
  static readonly permissive = SchedulerPolicy.make({ allowedImages: ["*"], requireLimits: false })
}

const reservedLabelPrefixes = ["aquifer.dev/", "app.kubernetes.io/", "helm.sh/", "kubernetes.io/", "k8s.io/"]
// Helm's own labels on its release records, where a workload's labels are kept too.
const reservedLabelKeys = new Set(["name", "owner", "status", "version", "createdAt", "modifiedAt"])
const labelName = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const envName = /^[A-Za-z_][A-Za-z0-9_]*$/
const cpuQuantity = /^(\d+(\.\d+)?|\.\d+)m?$/
const memoryQuantity = /^(\d+(\.\d+)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/
const filePath = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/

/** Cores from a cpu quantity (`"500m"` → 0.5); undefined when malformed. */
export const parseCpu = (quantity: string): number | undefined => {
  if (!cpuQuantity.test(quantity)) return undefined
  return quantity.endsWith("m") ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity)
}

const memoryUnits: Record<string, number> = {
  "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60
}

/** Bytes from a memory quantity (`"512Mi"` → 536870912); undefined when malformed. */
export const parseMemory = (quantity: string): number | undefined => {
  const match = memoryQuantity.exec(quantity)
  if (match === null) return undefined
  return Number(match[1]) * memoryUnits[match[3] ?? ""]!
}

const globMatch = (pattern: string, text: string): boolean =>
  new RegExp(`^${pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(text)

/** True when the image is allowed by one of the patterns. */
export const imageAllowed = (patterns: ReadonlyArray<string>, image: string): boolean =>
  patterns.some((pattern) => globMatch(pattern, image))

/** The environment variable a volume's path is given in: `AQUIFER_VOLUME_<NAME>`. */
export const volumeEnvName = (volume: string): string => `AQUIFER_VOLUME_${volume.toUpperCase().replaceAll("-", "_")}`

const fail = (message: string, field?: string) => Effect.fail(new InvalidWorkload({ message, field }))

const checkLabels = (labels: Readonly<Record<string, string>>) => {
  for (const [key, value] of Object.entries(labels)) {
    const slash = key.lastIndexOf("/")
    const prefix = slash === -1 ? undefined : key.slice(0, slash)
    const name = slash === -1 ? key : key.slice(slash + 1)
    if (!labelName.test(name) || (prefix !== undefined && (prefix.length > 253 || !dnsSubdomain.test(prefix)))) {
      return fail(`label key ${JSON.stringify(key)} is not a valid label key`, `labels.${key}`)
    }
    if (reservedLabelPrefixes.some((reserved) => key.startsWith(reserved) || `${prefix}/`.endsWith(`.${reserved}`))) {
      return fail(`label key ${JSON.stringify(key)} uses a prefix reserved for the platform`, `labels.${key}`)
    }
    if (reservedLabelKeys.has(key)) {
      return fail(`label key ${JSON.stringify(key)} is reserved (Helm uses it on release records)`, `labels.${key}`)
    }
    if (value !== "" && !labelName.test(value)) {
      return fail(`label value ${JSON.stringify(value)} of ${key} is not a valid label value`, `labels.${key}`)
    }
  }
  return Effect.void
}

const checkEnvName = (name: string, field: string) => {
  if (!envName.test(name)) return fail(`${JSON.stringify(name)} is not a valid environment variable name`, field)
  if (name === "PORT" || name === "HOST" || name.startsWith("AQUIFER_")) {
    return fail(`environment variable ${name} is set by the scheduler and cannot be given`, field)
  }
  return Effect.void
}

const checkResources = (spec: WorkloadSpec, policy: SchedulerPolicy) =>
  Effect.gen(function*() {
    const { requests, limits } = spec.resources ?? {}
    for (const [which, amounts] of [["requests", requests], ["limits", limits]] as const) {
      if (amounts?.cpu !== undefined && parseCpu(amounts.cpu) === undefined) {
        return yield* fail(`cpu ${which} ${JSON.stringify(amounts.cpu)} is not a cpu quantity like 500m or 2`, `resources.${which}.cpu`)
      }
      if (amounts?.memory !== undefined && parseMemory(amounts.memory) === undefined) {
        return yield* fail(`memory ${which} ${JSON.stringify(amounts.memory)} is not a quantity like 512Mi`, `resources.${which}.memory`)
      }
    }
    if (policy.requireLimits) {
      if (limits?.cpu === undefined) return yield* fail("a cpu limit is required by the scheduler policy", "resources.limits.cpu")
      if (limits?.memory === undefined) return yield* fail("a memory limit is required by the scheduler policy", "resources.limits.memory")
    }
    if (requests?.cpu !== undefined && limits?.cpu !== undefined && parseCpu(requests.cpu)! > parseCpu(limits.cpu)!) {
      return yield* fail("the cpu request exceeds the cpu limit", "resources.requests.cpu")
    }
    if (requests?.memory !== undefined && limits?.memory !== undefined && parseMemory(requests.memory)! > parseMemory(limits.memory)!) {
      return yield* fail("the memory request exceeds the memory limit", "resources.requests.memory")
    }
  })

const checkRules = (spec: WorkloadSpec, policy: SchedulerPolicy) =>
  Effect.gen(function*() {
    if (spec.name.length > maxNameLength) {
      return yield* fail(`name is ${spec.name.length} characters long; at most ${maxNameLength} are allowed`, "name")
    }
    if (!isWorkloadName(spec.name)) {
      const normal = normaliseName(spec.name)
      return yield* fail(
        `name ${JSON.stringify(spec.name)} is not in normal form (a DNS label): it would normalise to ` +
          `${JSON.stringify(normal)} and could collide with another workload; build names with workloadName()`,
        "name"
      )
    }
    if (spec.owner.trim() === "") return yield* fail("owner is required", "owner")
    if (spec.privileged === true) return yield* fail("privileged workloads are not allowed", "privileged")
    if (spec.hostNetwork === true) return yield* fail("workloads may not use the host network", "hostNetwork")
    if (spec.image === undefined && spec.command === undefined) {
      return yield* fail("a workload needs an image or a command", "image")
    }
    if (spec.image !== undefined && (spec.image.trim() === "" || !imageAllowed(policy.allowedImages, spec.image))) {
      return yield* fail(`image ${JSON.stringify(spec.image)} is not in the allowed image list`, "image")
    }
    if (spec.command !== undefined && spec.command.trim() === "") return yield* fail("command is empty", "command")
    if (spec.workingDir !== undefined && !spec.workingDir.startsWith("/")) {
      return yield* fail("workingDir must be an absolute path", "workingDir")
    }
    if (spec.port < 1 || spec.port > 65535) return yield* fail("port must be between 1 and 65535", "port")
    if (spec.readinessPath !== undefined && !/^\/[\x21-\x7e]*$/.test(spec.readinessPath)) {
      return yield* fail("readinessPath must be an absolute URL path", "readinessPath")
    }
    if (spec.gpus !== undefined && (spec.gpus < 0 || spec.gpus > 64)) return yield* fail("gpus must be between 0 and 64", "gpus")
    yield* checkLabels(spec.labels ?? {})
    for (const name of Object.keys(spec.env ?? {})) yield* checkEnvName(name, `env.${name}`)
    yield* checkResources(spec, policy)

    const envTargets = new Set(Object.keys(spec.env ?? {}))
    const fileTargets = new Set<string>()
    for (const [index, ref] of (spec.secrets ?? []).entries()) {
      const field = `secrets[${index}]`
      if (ref.secret === "" || ref.key === "") return yield* fail("a secret ref needs a secret name and a key", field)
      if ((ref.env === undefined) === (ref.file === undefined)) {
        return yield* fail("a secret ref delivers to exactly one of env or file", field)
      }
      if (ref.env !== undefined) {
        yield* checkEnvName(ref.env, `${field}.env`)
        if (envTargets.has(ref.env)) return yield* fail(`environment variable ${ref.env} is given twice`, `${field}.env`)
        envTargets.add(ref.env)
      }
      if (ref.file !== undefined) {
        if (!filePath.test(ref.file) || ref.file.split("/").some((part) => part === "." || part === "..")) {
          return yield* fail(`secret file ${JSON.stringify(ref.file)} must be a relative path without . or ..`, `${field}.file`)
        }
        if (fileTargets.has(ref.file)) return yield* fail(`secret file ${ref.file} is given twice`, `${field}.file`)
        fileTargets.add(ref.file)
      }
    }

    const volumeNames = new Set<string>()
    for (const [index, volume] of (spec.volumes ?? []).entries()) {
      const field = `volumes[${index}]`
      if (volume.hostPath !== undefined) return yield* fail("hostPath volumes are not allowed", `${field}.hostPath`)
      if (!/^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$/.test(volume.name)) {
        return yield* fail(`volume name ${JSON.stringify(volume.name)} must be a DNS label of at most 32 characters`, `${field}.name`)
      }
      if (volumeNames.has(volume.name)) return yield* fail(`volume ${volume.name} is given twice`, `${field}.name`)
      volumeNames.add(volume.name)
      if (!volume.mountPath.startsWith("/") || volume.mountPath.split("/").includes("..")) {
        return yield* fail("a volume's mountPath must be an absolute path without ..", `${field}.mountPath`)
      }
      if (volume.size !== undefined && parseMemory(volume.size) === undefined) {
        return yield* fail(`volume size ${JSON.stringify(volume.size)} is not a quantity like 1Gi`, `${field}.size`)
      }
    }
    return spec
  })

/**
 * Decodes and checks a spec against the policy. The result is the spec to deploy; the error
 * says what is wrong and where.
 */
export const validateWorkload = (
  input: unknown,
  policy: SchedulerPolicy
): Effect.Effect<WorkloadSpec, InvalidWorkload> =>
  Schema.decodeUnknownEffect(WorkloadSpec)(input instanceof WorkloadSpec ? { ...input } : input).pipe(
    Effect.mapError((error) => new InvalidWorkload({ message: `malformed workload spec: ${error.message}` })),
    Effect.flatMap((spec) => checkRules(spec, policy))
  )

/** A secret ref with its resolved value, as adapters deliver it. */
export interface ResolvedSecret {
  readonly ref: SecretRef
  readonly value: string
}

/**
 * Pairs each secret ref of the spec with its value from the material given to `deploy`;
 * a ref without material is `InvalidWorkload` (nothing is deployed).
 */
export const resolveSecrets = (
  spec: WorkloadSpec,
  material: SecretMaterial | undefined
): Effect.Effect<ReadonlyArray<ResolvedSecret>, InvalidWorkload> =>
  Effect.forEach((spec.secrets ?? []).entries(), ([index, ref]) => {
    const value = material?.[ref.secret]?.[ref.key]
    return value === undefined
      ? fail(`no value was given for key ${ref.key} of secret ${ref.secret}`, `secrets[${index}]`)
      : Effect.succeed({ ref, value: Redacted.value(value) })
  })

/**
 * The policy from configuration, shared by every adapter:
 * `AQUIFER_SCHEDULER_ALLOWED_IMAGES` (comma-separated patterns, default `*`) and
 * `AQUIFER_SCHEDULER_REQUIRE_LIMITS` (`true`/`false`, default `false`).
 */
export const policyConfig: Config.Config<SchedulerPolicy> = Config.all({
  allowedImages: Config.String("AQUIFER_SCHEDULER_ALLOWED_IMAGES").pipe(
    Config.withDefault("*"),
    Config.map((text) => text.split(",").map((pattern) => pattern.trim()).filter((pattern) => pattern !== ""))
  ),
  requireLimits: Config.Boolean("AQUIFER_SCHEDULER_REQUIRE_LIMITS").pipe(Config.withDefault(false))
}).pipe(Config.map((fields) => SchedulerPolicy.make(fields)))
