import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type Browser as Chromium, chromium } from "playwright-core"
import { png, zip } from "../../../adapters/bundle-zip/testdata/zip_writer.ts"
import { freePort } from "../../../scripts/testing/ports.ts"
import { captureLog, testConfig } from "../_test_support.ts"
import { addTestUser, type Browser, signInAs } from "../identity/testing.ts"
import { type RunningServer, startServer } from "../server.ts"
import { endToEndPlatformLayer } from "./testing.ts"

// A real H2O Wave app (h2o-wave from PyPI, its own waved) launched by the platform, reached
// through the router by a real Chromium that signs in at the embedded issuer's page. The first
// run installs h2o-wave into .venvs/appstore-launcher (cached by requirements hash).
const chromiumPath = (() => {
  try {
    return execFileSync("sh", ["-c", "command -v chromium || command -v chromium-browser"], { encoding: "utf8" }).trim()
  } catch {
    return ""
  }
})()
if (chromiumPath === "" && process.env.CI === "true") throw new Error("CI=true but no chromium on PATH (apt-get install chromium)")
if (chromiumPath === "") process.stderr.write("SKIPPING the Wave browser test: no chromium on PATH (apt-get install chromium)\n")

const home = mkdtempSync(join(tmpdir(), "aquifer-wave-e2e-"))
const venvs = join(import.meta.dirname, "..", "..", "..", ".venvs", "appstore-launcher")
const app = join(import.meta.dirname, "testdata", "wave_counter")
let server: RunningServer
let origin: string
let owner: { browser: Browser; password: string }
let browser: Chromium | undefined

const waveBundle = () =>
  zip([
    { name: "app.toml", data: readFileSync(join(app, "app.toml")) },
    { name: "counter.py", data: readFileSync(join(app, "counter.py")) },
    { name: "requirements.txt", data: readFileSync(join(app, "requirements.txt")) },
    { name: "static/icon.png", data: png }
  ])

beforeAll(async () => {
  if (chromiumPath === "") return
  const port = await freePort()
  origin = `http://127.0.0.1:${port}`
  server = await startServer({
    config: testConfig({ port, home }),
    log: captureLog().log,
    layer: endToEndPlatformLayer(port, { home, venvs })
  })
  const password = await addTestUser(server.runtime, { username: "wendy", name: "Wendy Wave", roles: ["full"] })
  owner = { browser: (await signInAs(origin, "wendy", password)).browser, password }
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]
  })
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await server?.shutdown()
  rmSync(home, { recursive: true, force: true })
})

describe.skipIf(chromiumPath === "")("a real Wave app through the router, in a real browser", () => {
  it("loads the page after signing in, and its WebSocket session carries the user and round-trips clicks", async () => {
    const post = (path: string, body: BodyInit, type: string) =>
      owner.browser.request(`${origin}${path}`, { method: "POST", body, headers: { origin, "content-type": type } })
    const imported = await post("/api/v1/apps", new Uint8Array(waveBundle()), "application/zip")
    assert.strictEqual(imported.status, 201, await imported.clone().text())
    const { version } = (await imported.json()) as { version: { id: string } }
    const launched = await post("/api/v1/instances", JSON.stringify({ versionId: version.id }), "application/json")
    assert.strictEqual(launched.status, 201)
    const instance = (await launched.json()) as { id: string; path: string }
    const deadline = Date.now() + 240_000
    for (;;) {
      const state = (await (await owner.browser.request(`${origin}/api/v1/instances/${instance.id}`)).json()) as { ready: boolean; phase: string; message?: string }
      if (state.ready) break
      if (state.phase === "failed" || Date.now() > deadline) {
        const logs = await (await owner.browser.request(`${origin}/api/v1/instances/${instance.id}/logs?tail=40`)).text()
        throw new Error(`the Wave app did not get ready (${state.phase}: ${state.message})\n${logs}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 500))
    }

    // Chromium signs in for real: the router sends it to the embedded issuer's sign-in page,
    // it fills the form, and the platform brings it back to the instance with a session.
    const context = await browser!.newContext()
    const page = await context.newPage()
    await page.goto(`${origin}${instance.path}`)
    assert.include(new URL(page.url()).pathname, "/oidc")
    await page.fill("#username", "wendy")
    await page.fill("#password", owner.password)
    const loaded = await Promise.all([
      page.waitForURL(`${origin}${instance.path}`, { timeout: 30_000 }),
      page.click("button[type=submit]")
    ]).then(() => page.reload())
    assert.strictEqual(loaded?.status(), 200)
    assert.strictEqual(page.url(), `${origin}${instance.path}`)
    const consoleLines: Array<string> = []
    page.on("console", (message) => consoleLines.push(message.text()))
    await page.getByText("Hello, Wendy Wave").waitFor({ timeout: 60_000 }).catch(async (error: Error) => {
      const logs = await (await owner.browser.request(`${origin}/api/v1/instances/${instance.id}/logs?tail=30`)).text()
      throw new Error(`${error.message}\npage: ${(await page.textContent("body"))?.slice(0, 500)}\nconsole: ${consoleLines.join("\n")}\nlogs:\n${logs}`)
    })
    await page.getByText("Clicks: 0").waitFor()
    await page.getByRole("button", { name: "Add one" }).click()
    await page.getByText("Clicks: 1").waitFor({ timeout: 15_000 })
    await page.getByRole("button", { name: "Add one" }).click()
    await page.getByText("Clicks: 2").waitFor({ timeout: 15_000 })
    await context.close()

    const stranger = await browser!.newContext()
    const anonymous = await stranger.newPage()
    const response = await anonymous.goto(`${origin}${instance.path}`)
    assert.include(new URL(anonymous.url()).pathname, "/oidc")
    assert.strictEqual(response?.status(), 200)
    await stranger.close()

    const removed = await owner.browser.request(`${origin}/api/v1/instances/${instance.id}`, { method: "DELETE", headers: { origin } })
    assert.strictEqual(removed.status, 204)
  }, 300_000)
})
