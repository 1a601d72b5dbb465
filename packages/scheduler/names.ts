/**
 * Workload names. A name is a DNS label (lower-case letters, digits and `-`, starting with a
 * letter, not ending with `-`) of at most 53 characters: Helm's limit for a release name, and
 * short enough that every object a backend derives from it (`<name>-secrets`, PVC names, the
 * `sh.helm.release.v1.<name>.v<revision>` record) stays within Kubernetes' limits.
 *
 * Names are refused, never silently rewritten: `Foo_Bar` and `foo-bar` would become the same
 * object, so the scheduler accepts only names already in normal form. Build names from parts
 * with {@link workloadName}, which is injective: different part lists never give the same name
 * (`foo`+`bar` and `foobar`+`` differ), however long or exotic the parts.
 *
 * @example
 * ```ts
 * import { workloadName } from "@aquifer/scheduler"
 * workloadName("app", "Wave Demo", "ins_0123") // "app-wave-demo-ins-0123-<12 base36 chars>"
 * ```
 * @module
 */

/** Helm's limit on release names, and so on workload names. */
export const maxNameLength = 53

const labelPattern = /^[a-z]([-a-z0-9]*[a-z0-9])?$/

/** True when `name` is a valid workload name (normal form, ≤ 53 characters). */
export const isWorkloadName = (name: string): boolean => name.length <= maxNameLength && labelPattern.test(name)

/**
 * The normal form a free-text name maps to: lower-case, runs of other characters as one `-`,
 * no leading or trailing `-`, a leading letter. Many inputs share one normal form, which is why
 * the scheduler refuses names that are not already normal instead of normalising them.
 */
export const normaliseName = (text: string): string => {
  const base = text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "")
  return base === "" ? "w" : /^[a-z]/.test(base) ? base : `w-${base}`
}

const fnv1a64 = (text: string): bigint => {
  let hash = 0xcbf29ce484222325n
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= BigInt(byte)
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn
  }
  return hash
}

/**
 * A valid, collision-free workload name from arbitrary parts: a readable prefix (the parts'
 * normal forms joined with `-`, cut to fit) and a 64-bit hash of the exact part list, so two
 * different lists give different names (barring a 64-bit hash collision).
 */
export const workloadName = (...parts: ReadonlyArray<string>): string => {
  const suffix = fnv1a64(JSON.stringify(parts)).toString(36).padStart(13, "0")
  const readable = parts.map(normaliseName).join("-").slice(0, maxNameLength - suffix.length - 1).replace(/-+$/, "")
  return `${readable}-${suffix}`
}
