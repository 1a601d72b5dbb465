// Runs every test project in one vitest invocation, then prints one plain closing line
// `N passed, M failed` (CI reads it). Extra arguments go to vitest (e.g. `--project blob-s3`).
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const dir = mkdtempSync(join(tmpdir(), "aquifer-vitest-"))
const report = join(dir, "report.json")
const result = spawnSync(
  process.execPath,
  [
    "node_modules/vitest/vitest.mjs",
    "run",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${report}`,
    ...process.argv.slice(2)
  ],
  { stdio: "inherit", env: { ...process.env, FORCE_COLOR: process.env.CI ? "0" : process.env.FORCE_COLOR } }
)

let passed = 0
let failed = 0
let skipped = 0
try {
  const json = JSON.parse(readFileSync(report, "utf8")) as {
    numPassedTests: number
    numFailedTests: number
    numPendingTests: number
    numTodoTests: number
    testResults: Array<{ status: string; assertionResults: Array<{ status: string }> }>
  }
  passed = json.numPassedTests
  // A file that fails to load (or whose hooks fail) counts as one failure even though no test in it ran.
  const brokenFiles = json.testResults.filter((file) =>
    file.status === "failed" && !file.assertionResults.some((test) => test.status === "failed")
  ).length
  failed = json.numFailedTests + brokenFiles
  skipped = json.numPendingTests + json.numTodoTests
} catch {
  failed = Math.max(1, failed)
}
rmSync(dir, { recursive: true, force: true })
const code = result.status === 0 && failed === 0 ? 0 : 1
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`)
process.exit(code)
