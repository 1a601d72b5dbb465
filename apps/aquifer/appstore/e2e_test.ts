import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import WebSocket from "ws"
import { freePort } from "../../../scripts/testing/ports.ts"
import { captureLog, testConfig } from "../_test_support.ts"
import { addTestUser, type Browser, signInAs, testAdmin } from "../identity/testing.ts"
import { type RunningServer, startServer } from "../server.ts"
import { helloBundle } from "./_test_bundles.ts"
import { endToEndPlatformLayer } from "./testing.ts"

// The whole platform in one process, as `./aq start` runs it: PGlite, the fs blob store, the
// local scheduler running real app processes, the local secret cipher, and the embedded OIDC
// issuer that users really sign in at. Nothing here is a double.
const home = mkdtempSync(join(tmpdir(), "aquifer-e2e-"))
const venvs = join(import.meta.dirname, "..", "..", "..", ".venvs", "appstore-launcher")
let server: RunningServer
const logs = captureLog()
let origin: string
let alice: { browser: Browser; subject: string }
let bob: { browser: Browser }
let admin: { browser: Browser }
const secretValue = `hunter2-${randomBytes(6).toString("hex")}`

beforeAll(async () => {
  const port = await freePort()
  origin = `http://127.0.0.1:${port}`
  server = await startServer({
    config: testConfig({ port, home }),
    log: logs.log,
    layer: endToEndPlatformLayer(port, { home, venvs })
  })
  // The first administrator is made when the issuer starts on an empty account store: sign in
  // as them before adding anyone else.
  admin = { browser: (await signInAs(origin, testAdmin.username, testAdmin.password)).browser }
  const alicePassword = await addTestUser(server.runtime, { username: "alice", roles: ["full"], email: "alice@example.com" })
  const bobPassword = await addTestUser(server.runtime, { username: "bob", roles: ["full"] })
  const a = await signInAs(origin, "alice", alicePassword)
  const me = (await (await a.browser.request(`${origin}/api/v1/me`)).json()) as { subject: string }
  alice = { browser: a.browser, subject: me.subject }
  bob = { browser: (await signInAs(origin, "bob", bobPassword)).browser }
}, 120_000)

afterAll(async () => {
  await server?.shutdown()
  rmSync(home, { recursive: true, force: true })
})

const call = async (who: { browser: Browser }, method: string, path: string, body?: unknown) => {
  const init: RequestInit = { method, headers: { origin, ...(body === undefined || body instanceof Uint8Array ? {} : { "content-type": "application/json" }) } }
  if (body !== undefined) init.body = body instanceof Uint8Array ? (body as Uint8Array<ArrayBuffer>) : JSON.stringify(body)
  return who.browser.request(`${origin}${path}`, init)
}

const waitFor = async <A>(what: string, probe: () => Promise<A | undefined>, timeoutMs = 60_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

const cookieOf = (browser: Browser) => [...browser.cookies.values()].filter((c) => c.name.includes("aquifer_session")).map((c) => `${c.name}=${c.value}`).join("; ")

describe("App Store end to end (real sign-in, real processes, through the router)", () => {
  it("imports, lists with its icon, launches, reaches the app over HTTP and WebSocket, shares it, suspends, resumes and terminates", async () => {
    const imported = await call(alice, "POST", "/api/v1/apps", new Uint8Array(helloBundle("hello", "1.0.0")))
    assert.strictEqual(imported.status, 201, await imported.clone().text())
    const { app, version } = (await imported.json()) as { app: { id: string; name: string }; version: { id: string; icon: string } }
    const catalog = (await (await call(alice, "GET", "/api/v1/apps")).json()) as { items: Array<{ name: string; latest: { icon: string } }> }
    assert.deepStrictEqual(catalog.items.map((a) => a.name), ["hello"])
    const icon = await call(alice, "GET", catalog.items[0]!.latest.icon)
    assert.strictEqual(icon.headers.get("content-type"), "image/png")
    assert.deepStrictEqual([...new Uint8Array(await icon.arrayBuffer()).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47])
    assert.deepStrictEqual(((await (await call(bob, "GET", "/api/v1/apps")).json()) as { items: Array<unknown> }).items, [])

    const missing = await call(alice, "POST", "/api/v1/instances", { versionId: version.id })
    assert.strictEqual(missing.status, 422)
    assert.match(((await missing.json()) as { detail: string }).detail, /needs secret "warehouse"/)
    const secret = await call(alice, "POST", "/api/v1/secrets", { name: "warehouse", visibility: "PRIVATE", data: { password: secretValue, token: "tok-e2e" } })
    assert.strictEqual(secret.status, 201)

    const appSecret = await call(alice, "POST", "/api/v1/secrets", { name: "hello-config", visibility: "APP", appName: "hello", data: { key: "v" } })
    assert.strictEqual(appSecret.status, 201)
    assert.strictEqual((await call(bob, "POST", "/api/v1/secrets", { name: "hello-config2", visibility: "APP", appName: "hello", data: { key: "v" } })).status, 404)
    assert.strictEqual((await call(alice, "POST", "/api/v1/secrets", { name: "everyone", visibility: "ALL_USERS", data: { key: "v" } })).status, 403)

    const launched = await call(alice, "POST", "/api/v1/instances", { versionId: version.id })
    assert.strictEqual(launched.status, 201, await launched.clone().text())
    const instance = (await launched.json()) as { id: string; path: string }
    await waitFor("the instance to be ready", async () => {
      const state = (await (await call(alice, "GET", `/api/v1/instances/${instance.id}`)).json()) as { ready: boolean }
      return state.ready ? true : undefined
    })

    const page = await alice.browser.request(`${origin}${instance.path}echo?q=1`)
    assert.strictEqual(page.status, 200)
    const echo = (await page.json()) as { path: string; env: Record<string, string>; headers: Record<string, string>; secretFile: string }
    assert.strictEqual(echo.path, `${instance.path}echo?q=1`)
    assert.strictEqual(echo.env.DB_PASSWORD, secretValue)
    assert.strictEqual(echo.secretFile, "tok-e2e")
    assert.strictEqual(echo.env.H2O_CLOUD_APP_ID, app.id)
    assert.strictEqual(echo.headers["x-aquifer-user-subject"], alice.subject)
    assert.strictEqual(echo.headers["x-aquifer-user-email"], "alice%40example.com")
    assert.isAbove((echo.headers["x-aquifer-access-token"] ?? "").length, 20)
    assert.notInclude(echo.headers.cookie ?? "", "aquifer_session")

    const ws = new WebSocket(`${origin.replace("http", "ws")}${instance.path}ws`, { headers: { cookie: cookieOf(alice.browser), origin } })
    const first = await new Promise<Record<string, string>>((resolve, reject) => {
      ws.once("message", (data) => resolve(JSON.parse(String(data)) as Record<string, string>))
      ws.once("error", reject)
    })
    assert.strictEqual(first["x-aquifer-user-subject"], alice.subject)
    const echoed = await new Promise<string>((resolve) => {
      ws.once("message", (data) => resolve(String(data)))
      ws.send("hello through the router")
    })
    assert.strictEqual(echoed, "hello through the router")
    ws.close()
    const foreign = new WebSocket(`${origin.replace("http", "ws")}${instance.path}ws`, { headers: { cookie: cookieOf(alice.browser), origin: "http://evil.example" } })
    const refused = await new Promise<number>((resolve) => foreign.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)))
    assert.strictEqual(refused, 403)

    assert.strictEqual((await bob.browser.request(`${origin}${instance.path}echo`)).status, 404)
    assert.strictEqual((await call(alice, "PATCH", `/api/v1/instances/${instance.id}`, { visibility: "ALL_USERS" })).status, 200)
    const shared = await bob.browser.request(`${origin}${instance.path}echo`)
    assert.strictEqual(shared.status, 200)
    assert.notStrictEqual(((await shared.json()) as typeof echo).headers["x-aquifer-user-subject"], alice.subject)
    assert.strictEqual((await call(bob, "POST", `/api/v1/instances/${instance.id}/suspend`)).status, 403)

    assert.strictEqual((await call(alice, "POST", "/api/v1/aliases", { name: "hello-desk", instanceId: instance.id })).status, 403)
    assert.strictEqual((await call(admin, "POST", "/api/v1/aliases", { name: "hello-desk", instanceId: instance.id })).status, 201)
    const redirect = await bob.browser.request(`${origin}/a/hello-desk/echo?from=alias`)
    assert.strictEqual(redirect.status, 302)
    assert.strictEqual(redirect.headers.get("location"), `${instance.path}echo?from=alias`)
    const viaAlias = await bob.browser.request(`${origin}${redirect.headers.get("location")}`)
    assert.strictEqual(viaAlias.status, 200)
    assert.strictEqual(((await viaAlias.json()) as typeof echo).path, `${instance.path}echo?from=alias`)

    for (const path of ["/api/v1/secrets", `/api/v1/instances/${instance.id}`, `/api/v1/versions/${version.id}`, `/api/v1/instances/${instance.id}/logs`]) {
      const text = await (await call(alice, "GET", path)).text()
      assert.notInclude(text, secretValue, path)
    }
    assert.notInclude(logs.raw.join("\n"), secretValue)
    assert.isAbove(logs.raw.length, 5)

    assert.strictEqual((await call(alice, "POST", `/api/v1/instances/${instance.id}/suspend`)).status, 200)
    const sleeping = await bob.browser.request(`${origin}${instance.path}echo`, { headers: { accept: "text/html" } })
    assert.strictEqual(sleeping.status, 503)
    assert.match(await sleeping.text(), /suspended/)
    assert.strictEqual((await call(alice, "POST", `/api/v1/instances/${instance.id}/resume`)).status, 200)
    await waitFor("the resumed instance to answer", async () => {
      const response = await alice.browser.request(`${origin}${instance.path}echo`)
      await response.body?.cancel()
      return response.status === 200 ? true : undefined
    })
    const busy = await call(alice, "DELETE", `/api/v1/secrets/${((await secret.clone().json()) as { id: string }).id}`)
    assert.strictEqual(busy.status, 409)
    assert.strictEqual((await call(alice, "DELETE", `/api/v1/instances/${instance.id}`)).status, 204)
    assert.strictEqual((await alice.browser.request(`${origin}${instance.path}echo`)).status, 404)
    assert.strictEqual((await bob.browser.request(`${origin}/a/hello-desk/`)).status, 404)
    assert.strictEqual((await call(alice, "DELETE", `/api/v1/versions/${version.id}`)).status, 204)
  }, 180_000)

  it("refuses a hostile bundle with a clear problem and stores nothing", async () => {
    const { zip } = await import("../../../adapters/bundle-zip/testdata/zip_writer.ts")
    const slip = zip([{ name: "app.toml", data: `[App]\nName = "evil"\nVersion = "1.0.0"\n\n[Runtime]\nModule = "app"\n` }, { name: "../../evil.py", data: "x" }])
    const response = await call(alice, "POST", "/api/v1/apps", new Uint8Array(slip))
    assert.strictEqual(response.status, 400)
    const problem = (await response.json()) as { type: string; detail: string }
    assert.strictEqual(problem.type, "urn:aquifer:problem:invalid-bundle")
    assert.match(problem.detail, /evil\.py/)
    const apps = (await (await call(alice, "GET", "/api/v1/apps")).json()) as { items: Array<{ name: string }> }
    assert.notInclude(apps.items.map((a) => a.name), "evil")
    const openapi = (await (await fetch(`${origin}/api/v1/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> }
    assert.strictEqual(openapi.openapi, "3.1.0")
    assert.containsAllKeys(openapi.paths, ["/api/v1/apps", "/api/v1/instances/{id}/logs", "/api/v1/secrets/{id}", "/api/v1/aliases"])
  }, 60_000)
})
