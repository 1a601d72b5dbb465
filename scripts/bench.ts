// `./aq bench [filter…]`: runs every `*_bench.ts` under packages/, adapters/ and apps/ (or only
// those whose path contains a filter), each in its own Node process, one after another, and
// writes docs/benchmarks.md. Each bench prints one Markdown section (starting with `## `) on
// stdout; progress goes to stderr. With filters, only the matching sections are replaced.
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import os from "node:os"
import { join, relative } from "node:path"

const root = join(import.meta.dirname, "..")
const out = join(root, "docs", "benchmarks.md")
const filters = process.argv.slice(2)

const walk = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) return []
    const path = join(dir, entry.name)
    return entry.isDirectory() ? walk(path) : entry.name.endsWith("_bench.ts") ? [path] : []
  })

const files = ["packages", "adapters", "apps"]
  .filter((layer) => existsSync(join(root, layer)))
  .flatMap((layer) => walk(join(root, layer)))
  .map((file) => relative(root, file))
  .sort()
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))

const marker = (file: string) => [`<!-- bench:${file} -->`, `<!-- /bench:${file} -->`] as const
const previous = existsSync(out) ? readFileSync(out, "utf8") : ""
const sections = new Map<string, string>()
for (const match of previous.matchAll(/<!-- bench:(\S+) -->\n([\s\S]*?)<!-- \/bench:\1 -->/g)) {
  sections.set(match[1]!, match[2]!)
}

let failures = 0
for (const file of files) {
  process.stderr.write(`bench: ${file}\n`)
  const started = Date.now()
  const result = spawnSync(process.execPath, ["--expose-gc", file], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024
  })
  if (result.status !== 0) {
    failures++
    process.stderr.write(`bench: ${file} failed (exit ${result.status})\n`)
    continue
  }
  sections.set(file, `${result.stdout.trim()}\n\n_${file}, ${((Date.now() - started) / 1000).toFixed(1)} s._\n`)
}

const cpu = os.cpus()[0]?.model ?? "unknown CPU"
const header = `# Benchmarks

Measured with \`./aq bench\` (all) or \`./aq bench <path filter>\` (one section), which runs every
\`*_bench.ts\` in its own Node process and rewrites the sections it ran. Ratios are measured side
by side in the same run, so they hold across machines better than absolute figures.

Last run: ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM,
${os.type()} ${os.release()}, Node ${process.version}.
`
const body = [...sections.entries()]
  .sort(([a], [b]) => a.localeCompare(b))
  .map(([file, text]) => `${marker(file)[0]}\n${text.trimEnd()}\n${marker(file)[1]}`)
  .join("\n\n")
writeFileSync(out, `${header}\n${body}\n`)
process.stderr.write(`bench: wrote ${relative(root, out)} (${files.length} run, ${failures} failed)\n`)
process.exit(failures === 0 ? 0 : 1)
