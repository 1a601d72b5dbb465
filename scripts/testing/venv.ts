/**
 * Python virtualenvs for test fixtures (moto, boto3, h2o-wave, scikit-learn…), never for
 * Aquifer's own code. `ensureVenv("moto", ["moto[server]==5.1.4"])` creates `.venvs/moto` from
 * PyPI once and reuses it while the requirements are unchanged; concurrent callers (vitest runs
 * files in parallel) wait on a lock directory instead of installing twice.
 */
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { setTimeout as sleep } from "node:timers/promises"

const root = join(import.meta.dirname, "..", "..")

export interface Venv {
  /** The folder of the virtualenv. */
  readonly dir: string
  /** Absolute path of an executable in its `bin/` (python, pip, moto_server…). */
  readonly bin: (name: string) => string
}

export const ensureVenv = async (name: string, requirements: ReadonlyArray<string>): Promise<Venv> => {
  const dir = join(root, ".venvs", name)
  const venv: Venv = { dir, bin: (exe) => join(dir, "bin", exe) }
  const want = createHash("sha256").update(requirements.join("\n")).digest("hex")
  const stamp = join(dir, ".aquifer-requirements")
  const ready = () => existsSync(stamp) && readFileSync(stamp, "utf8") === want
  if (ready()) return venv

  mkdirSync(join(root, ".venvs"), { recursive: true })
  const lock = join(root, ".venvs", `${name}.lock`)
  const deadline = Date.now() + 15 * 60_000
  for (;;) {
    try {
      mkdirSync(lock)
      break
    } catch {
      // A lock older than 20 minutes belongs to a run that died.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 20 * 60_000) rmSync(lock, { recursive: true, force: true })
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`)
      await sleep(500)
      if (ready()) return venv
    }
  }
  try {
    if (ready()) return venv
    rmSync(dir, { recursive: true, force: true })
    process.stderr.write(`venv: creating .venvs/${name} (${requirements.join(" ")})\n`)
    execFileSync("python3", ["-m", "venv", dir], { stdio: ["ignore", "ignore", "inherit"] })
    execFileSync(venv.bin("pip"), ["install", "--quiet", "--disable-pip-version-check", ...requirements], {
      stdio: ["ignore", "ignore", "inherit"],
      timeout: 15 * 60_000
    })
    writeFileSync(stamp, want)
    return venv
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}
