/**
 * The dependency rule of docs/architecture.md, checked on source text:
 * - `packages/*` import only `effect` (and its subpaths), other packages and, in tests and
 *   conformance kits (`testing.ts`), vitest.
 *   No `node:*`, no SDK, no Hono, no adapter, no app — by name or by relative path.
 * - `adapters/*` never import another adapter or an app.
 * - `apps/*` may import anything.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join, relative, resolve, sep } from "node:path"

export interface Violation {
  readonly file: string
  readonly specifier: string
  readonly rule: string
}

const importPattern = /(?:^|[;\s])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g

const sourceFiles = (dir: string): Array<string> =>
  existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      if (entry.name === "node_modules" || entry.name.startsWith(".")) return []
      const path = join(dir, entry.name)
      if (entry.isDirectory()) return sourceFiles(path)
      return /\.(ts|tsx|mts|js|mjs)$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path] : []
    })
    : []

const folders = (root: string, layer: string): Set<string> =>
  new Set(existsSync(join(root, layer)) ? readdirSync(join(root, layer)) : [])

export const checkLayering = (root: string): Array<Violation> => {
  const packages = folders(root, "packages")
  const adapters = folders(root, "adapters")
  const apps = folders(root, "apps")
  const violations: Array<Violation> = []

  for (const layer of ["packages", "adapters"] as const) {
    for (const file of sourceFiles(join(root, layer))) {
      const rel = relative(root, file)
      const [, own] = rel.split(sep)
      const isTest = file.endsWith("_test.ts")
      const isKit = /(^|\/)testing\.ts$/.test(file)
      const text = readFileSync(file, "utf8")
      for (const match of text.matchAll(importPattern)) {
        const specifier = match[1] ?? match[2]!
        const report = (rule: string) => violations.push({ file: rel, specifier, rule })
        if (specifier.startsWith(".")) {
          const target = relative(root, resolve(file, "..", specifier)).split(sep)
          const [targetLayer, targetFolder] = target
          if (targetLayer === "adapters" && targetFolder !== own) report(`${layer} must not import another adapter`)
          else if (targetLayer === "apps") report(`${layer} must not import an app`)
          else if (layer === "packages" && targetLayer !== "packages") {
            if (!(isTest && targetLayer === "scripts")) report("packages must not reach outside packages/")
          }
          continue
        }
        const scoped = /^@aquifer\/([^/]+)/.exec(specifier)
        if (scoped !== null) {
          const name = scoped[1]!
          if (apps.has(name)) report(`${layer} must not import an app`)
          else if (adapters.has(name) && (layer === "packages" || name !== own)) {
            report(layer === "packages" ? "packages must not import an adapter" : "adapters must not import another adapter")
          } else if (!packages.has(name) && !adapters.has(name)) report("unknown workspace package")
          continue
        }
        if (layer === "packages") {
          const allowed = specifier === "effect" || specifier.startsWith("effect/") ||
            ((isTest || isKit) && (specifier === "vitest" || specifier === "@effect/vitest")) ||
            (isTest && specifier.startsWith("node:"))
          if (!allowed) report("packages may import only effect and other packages (no node:*, SDKs, hono)")
        }
      }
    }
  }
  return violations
}
