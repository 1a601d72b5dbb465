import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Principal } from "@aquifer/core"
import type { Authenticated } from "@aquifer/identity"
import { Redacted } from "effect"
import { createServer, type IncomingMessage, type Server } from "node:http"
import { Agent } from "undici"
import { connect } from "node:net"
import type { AddressInfo } from "node:net"
import WebSocket from "ws"
import { type InstanceTarget, makeRouter } from "./router.ts"
import { type Backend, startBackend } from "./testdata/backend.ts"

// The router is real and so is the app behind it; who the caller is comes from a test double
// of identity (bearer tokens and session cookies named after their users): the real sign-in
// is exercised end to end in apps/aquifer/appstore/e2e_test.ts.
const person = (subject: string, groups: Array<string> = []) =>
  Principal.make({ issuer: "https://id.test", subject, name: subject === "alice" ? "Alice Zoë" : subject, email: `${subject}@example.com`, groups, roles: ["full"] })
const users = { alice: person("alice", ["data science", "ops"]), bob: person("bob") }
const id = (n: number) => `ins_${n.toString(16).padStart(32, "0")}`
const PRIVATE = id(1), SHARED = id(2), PUBLIC = id(3), SLEEPING = id(4), STARTING = id(5), DOWN = id(6), UNKNOWN = id(99)

let backend: Backend
let front: Server
let base: string
const woken: Array<string> = []
const activity: Array<string> = []

const authenticate = async (req: IncomingMessage): Promise<Authenticated | undefined | "invalid"> => {
  const bearer = /^Bearer (\w+)-token$/.exec(req.headers.authorization ?? "")
  if (req.headers.authorization !== undefined) {
    const who = bearer === null ? undefined : users[bearer[1] as keyof typeof users]
    return who === undefined ? "invalid" : { caller: { principal: who }, via: "bearer", accessToken: Redacted.make(`at-${who.subject}`) }
  }
  const cookie = /(?:^|; )aquifer_session=(\w+)-session/.exec(req.headers.cookie ?? "")
  const who = cookie === null ? undefined : users[cookie[1] as keyof typeof users]
  return who === undefined ? undefined : { caller: { principal: who }, via: "session", accessToken: Redacted.make(`at-${who.subject}`) }
}

beforeAll(async () => {
  backend = await startBackend()
  const running = (iid: string, visibility: InstanceTarget["visibility"]): InstanceTarget =>
    ({ id: iid, owner: users.alice.key, visibility, phase: "running", ready: true, host: "127.0.0.1", port: backend.port })
  const instances = new Map<string, InstanceTarget>([
    [PRIVATE, running(PRIVATE, "PRIVATE")],
    [SHARED, running(SHARED, "ALL_USERS")],
    [PUBLIC, running(PUBLIC, "PUBLIC")],
    [SLEEPING, { id: SLEEPING, owner: users.alice.key, visibility: "ALL_USERS", phase: "suspended", ready: false }],
    [STARTING, { id: STARTING, owner: users.alice.key, visibility: "ALL_USERS", phase: "starting", ready: false }],
    [DOWN, { ...running(DOWN, "ALL_USERS"), port: 1 }]
  ])
  const router = makeRouter({
    authenticate,
    instance: async (iid) => instances.get(iid),
    alias: async (name) => (name === "dashboard" ? SHARED : undefined),
    wake: async (_auth, iid) => void woken.push(iid),
    publicOrigin: "http://aquifer.test",
    platformCookies: new Set(["aquifer_session", "__Host-aquifer_session", "aquifer_signin"]),
    dispatcher: new Agent({ keepAliveTimeout: 30_000 }),
    activity: (iid) => void activity.push(iid)
  })
  front = createServer((req, res) => (router.handles(req) ? router.handleRequest(req, res) : res.end("platform")))
  front.on("upgrade", router.handleUpgrade)
  await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve))
  base = `http://127.0.0.1:${(front.address() as AddressInfo).port}`
})

afterAll(async () => {
  front.closeAllConnections()
  await new Promise<void>((resolve) => front.close(() => resolve()))
  await backend.close()
})

interface Echo {
  readonly method: string
  readonly url: string
  readonly headers: Record<string, string>
  readonly size: number
  readonly head: string
}

const get = (path: string, headers: Record<string, string> = {}, init: RequestInit = {}) =>
  fetch(`${base}${path}`, { headers, redirect: "manual", ...init })

/** Sends exactly these bytes and returns the raw response text. */
const raw = (text: string) =>
  new Promise<string>((resolve, reject) => {
    const socket = connect(Number(new URL(base).port), "127.0.0.1", () => socket.write(text))
    let out = ""
    socket.on("data", (chunk) => (out += chunk.toString("latin1")))
    socket.on("end", () => resolve(out))
    socket.on("error", reject)
  })

describe("router: HTTP", () => {
  it("proxies an authorized request with the router's identity headers and none of the client's", async () => {
    const response = await get(`/instances/${PRIVATE}/echo?x=1`, {
      authorization: "Bearer alice-token",
      cookie: "aquifer_session=bob-session; app_pref=dark; __Host-aquifer_session=zzz",
      "x-aquifer-user-subject": "admin",
      "X-Aquifer-Access-Token": "forged",
      "x-forwarded-user": "admin",
      "x-forwarded-for": "6.6.6.6",
      "x-auth-request-email": "root@example.com",
      "remote-user": "root",
      forwarded: "for=6.6.6.6",
      "x-real-ip": "6.6.6.6",
      "x-client": "kept"
    })
    assert.strictEqual(response.status, 200)
    const echo = (await response.json()) as Echo
    assert.strictEqual(echo.url, `/instances/${PRIVATE}/echo?x=1`)
    assert.strictEqual(echo.headers["x-aquifer-user-subject"], "alice")
    assert.strictEqual(echo.headers["x-aquifer-user-name"], "Alice%20Zo%C3%AB")
    assert.strictEqual(echo.headers["x-aquifer-user-email"], "alice%40example.com")
    assert.strictEqual(echo.headers["x-aquifer-user-groups"], "data%20science,ops")
    assert.strictEqual(echo.headers["x-aquifer-access-token"], "at-alice")
    assert.strictEqual(echo.headers["x-forwarded-for"], "127.0.0.1")
    assert.strictEqual(echo.headers["x-forwarded-prefix"], `/instances/${PRIVATE}`)
    assert.strictEqual(echo.headers.cookie, "app_pref=dark")
    assert.strictEqual(echo.headers["x-client"], "kept")
    for (const gone of ["authorization", "x-forwarded-user", "x-auth-request-email", "remote-user", "forwarded", "x-real-ip"]) {
      assert.isUndefined(echo.headers[gone], gone)
    }
    assert.include(activity, PRIVATE)
  })

  it("streams request and response bodies instead of buffering them", async () => {
    const size = 8 * 1024 * 1024
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let sent = 0; sent < size; sent += 65536) controller.enqueue(new Uint8Array(65536).fill(97))
        controller.close()
      }
    })
    const posted = await fetch(`${base}/instances/${SHARED}/upload`, { method: "POST", body, headers: { authorization: "Bearer bob-token" }, duplex: "half" } as RequestInit)
    const echo = (await posted.json()) as Echo
    assert.strictEqual(echo.size, size)
    assert.strictEqual(echo.headers["transfer-encoding"], "chunked")

    const started = Date.now()
    const slow = await get(`/instances/${SHARED}/slow`, { authorization: "Bearer bob-token" })
    const reader = slow.body!.getReader()
    const first = await reader.read()
    const firstAt = Date.now() - started
    assert.strictEqual(new TextDecoder().decode(first.value), "first\n")
    assert.isBelow(firstAt, 500, "the first chunk arrived only when the whole response was done")
    let rest = ""
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value)
    assert.strictEqual(rest, "last\n")
  })

  it("keeps upstream connections alive and reuses them", async () => {
    const before = backend.connections()
    for (let i = 0; i < 30; i++) await (await get(`/instances/${SHARED}/hello`, { authorization: "Bearer bob-token" })).text()
    assert.isAtMost(backend.connections() - before, 2)
  })

  it("lets owners, ALL_USERS and PUBLIC through, and hides a PRIVATE instance as if it did not exist", async () => {
    const other = await get(`/instances/${PRIVATE}/echo`, { authorization: "Bearer bob-token" })
    const unknown = await get(`/instances/${UNKNOWN}/echo`, { authorization: "Bearer bob-token" })
    assert.strictEqual(other.status, 404)
    assert.strictEqual(unknown.status, 404)
    assert.deepStrictEqual(await other.json(), await unknown.json())
    assert.strictEqual((await get(`/instances/${SHARED}/hello`, { cookie: "aquifer_session=bob-session" })).status, 200)
    assert.strictEqual((await get(`/instances/${PUBLIC}/hello`)).status, 200)
    const browser = await get(`/instances/${SHARED}/page?a=1`, { accept: "text/html" })
    assert.strictEqual(browser.status, 302)
    assert.strictEqual(browser.headers.get("location"), `/auth/login?returnTo=${encodeURIComponent(`/instances/${SHARED}/page?a=1`)}`)
    const program = await get(`/instances/${SHARED}/page`)
    assert.strictEqual(program.status, 401)
    assert.strictEqual(program.headers.get("www-authenticate"), "Bearer")
    assert.strictEqual((await get(`/instances/${SHARED}/page`, { authorization: "Bearer mallory-token" })).status, 401)
  })

  it("refuses path tricks, prefix confusion and absolute-form targets; Host never picks the upstream", async () => {
    for (const path of [
      `/instances/${SHARED}/../${PRIVATE}/echo`,
      `/instances/${SHARED}/%2e%2e/${PRIVATE}/echo`,
      `/instances/${SHARED}/%2E%2E/${PRIVATE}/echo`,
      `/instances/${SHARED}/%252e%252e/${PRIVATE}/echo`,
      `/instances/${SHARED}/.%2e/x`,
      `/instances/${SHARED}/a%2f..%2f..%2fx`,
      `/instances/${SHARED}/a\\..\\x`,
      `/instances/${SHARED}x/echo`,
      `/instances/${SHARED.slice(0, -1)}/echo`,
      `/instances/../api/v1/secrets`,
      `/a/../instances/${PRIVATE}/`
    ]) {
      const response = await raw(`GET ${path} HTTP/1.1\r\nhost: aquifer.test\r\nauthorization: Bearer bob-token\r\nconnection: close\r\n\r\n`)
      assert.match(response, /^HTTP\/1\.1 400 /, path)
    }
    const absolute = await raw(`GET http://127.0.0.1:${backend.port}/instances/${PRIVATE}/echo HTTP/1.1\r\nhost: aquifer.test\r\nauthorization: Bearer bob-token\r\nconnection: close\r\n\r\n`)
    assert.match(absolute, /^HTTP\/1\.1 400 /)
    const spoofed = await raw(`GET /instances/${SHARED}/echo HTTP/1.1\r\nhost: 127.0.0.1:1\r\nauthorization: Bearer bob-token\r\nconnection: close\r\n\r\n`)
    assert.match(spoofed, /^HTTP\/1\.1 200 /)
    assert.include(spoofed, `"url":"/instances/${SHARED}/echo"`)
    assert.strictEqual((await get(`/instances/${SHARED}`, { authorization: "Bearer bob-token" })).headers.get("location"), `/instances/${SHARED}/`)
  })

  it("answers friendly pages for stopped instances and wakes a suspended one for those allowed to", async () => {
    const asBob = await get(`/instances/${SLEEPING}/`, { authorization: "Bearer bob-token", accept: "text/html" })
    assert.strictEqual(asBob.status, 503)
    assert.match(await asBob.text(), /suspended\. Ask its owner/)
    assert.deepStrictEqual(woken, [])
    const asAlice = await get(`/instances/${SLEEPING}/`, { authorization: "Bearer alice-token", accept: "text/html" })
    assert.strictEqual(asAlice.status, 503)
    assert.strictEqual(asAlice.headers.get("retry-after"), "3")
    assert.match(await asAlice.text(), /starting again/)
    assert.deepStrictEqual(woken, [SLEEPING])
    const starting = await get(`/instances/${STARTING}/`, { authorization: "Bearer bob-token" })
    assert.strictEqual(starting.status, 503)
    assert.strictEqual(((await starting.json()) as { type: string }).type, "urn:aquifer:problem:instance-unavailable")
    assert.strictEqual((await get(`/instances/${DOWN}/`, { authorization: "Bearer bob-token" })).status, 502)
  })

  it("drops Set-Cookie of platform cookies from apps, and redirects aliases", async () => {
    const response = await get(`/instances/${SHARED}/cookie`, { authorization: "Bearer bob-token" })
    assert.deepStrictEqual(response.headers.getSetCookie(), ["app_pref=dark; Path=/instances/"])
    const alias = await get("/a/dashboard/reports?y=2")
    assert.strictEqual(alias.status, 302)
    assert.strictEqual(alias.headers.get("location"), `/instances/${SHARED}/reports?y=2`)
    assert.strictEqual((await get("/a/nothing-here")).status, 404)
    assert.strictEqual(await (await get("/healthz")).text(), "platform")
  })
})

const openSocket = (path: string, headers: Record<string, string>) =>
  new Promise<{ ws?: WebSocket; status?: number; first?: { headers: Record<string, string>; url: string } }>((resolve) => {
    const ws = new WebSocket(`${base.replace("http", "ws")}${path}`, { headers })
    ws.once("unexpected-response", (_req, res) => {
      resolve({ status: res.statusCode })
      ws.terminate()
    })
    ws.once("message", (data) => resolve({ ws, first: JSON.parse(String(data)) }))
    ws.once("error", () => resolve({ status: -1 }))
  })

describe("router: WebSocket", () => {
  it("relays an authorized upgrade both ways with identity headers", async () => {
    const { ws, first } = await openSocket(`/instances/${SHARED}/_s/`, { authorization: "Bearer bob-token", "x-aquifer-user-subject": "alice" })
    assert.strictEqual(first?.url, `/instances/${SHARED}/_s/`)
    assert.strictEqual(first?.headers["x-aquifer-user-subject"], "bob")
    assert.strictEqual(first?.headers["x-aquifer-access-token"], "at-bob")
    const echoed = await new Promise<string>((resolve) => {
      ws!.once("message", (data) => resolve(String(data)))
      ws!.send("ping ✓")
    })
    assert.strictEqual(echoed, "ping ✓")
    ws!.close()
    const viaCookie = await openSocket(`/instances/${SHARED}/_s/`, { cookie: "aquifer_session=bob-session", origin: "http://aquifer.test" })
    assert.strictEqual(viaCookie.first?.headers["x-aquifer-user-subject"], "bob")
    assert.isUndefined(viaCookie.first?.headers.cookie)
    viaCookie.ws!.close()
  })

  it("refuses unauthenticated, cross-origin and unauthorized upgrades before connecting upstream", async () => {
    const before = backend.upgrades()
    assert.strictEqual((await openSocket(`/instances/${PUBLIC}/_s/`, {})).status, 401)
    assert.strictEqual((await openSocket(`/instances/${SHARED}/_s/`, { authorization: "Bearer mallory-token" })).status, 401)
    assert.strictEqual((await openSocket(`/instances/${SHARED}/_s/`, { cookie: "aquifer_session=bob-session", origin: "http://evil.test" })).status, 403)
    assert.strictEqual((await openSocket(`/instances/${SHARED}/_s/`, { cookie: "aquifer_session=bob-session" })).status, 403)
    assert.strictEqual((await openSocket(`/instances/${PRIVATE}/_s/`, { authorization: "Bearer bob-token" })).status, 404)
    assert.strictEqual((await openSocket(`/instances/${SHARED}/%2e%2e/_s/`, { authorization: "Bearer bob-token" })).status, 400)
    assert.strictEqual((await openSocket(`/instances/${SLEEPING}/_s/`, { authorization: "Bearer alice-token" })).status, 503)
    assert.strictEqual(backend.upgrades(), before)
  })
})


