import { NotFound } from "@aquifer/core"
import { Effect } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { startTestServer, waitForStatus } from "./_test_support.ts"

describe("the all-in-one server (in process, embedded PGlite in memory)", () => {
  let server: Awaited<ReturnType<typeof startTestServer>>
  beforeAll(async () => {
    server = await startTestServer({
      extend: (app, runner) => {
        app.get("/test/typed", (c) => runner.run(c, Effect.fail(new NotFound({ resource: "app", id: "nope" })), () => c.text("")))
        app.get("/test/defect", (c) => runner.run(c, Effect.die(new Error("secret-db-password=hunter2")), () => c.text("")))
        app.get("/test/throws", () => {
          throw new Error("stack with hunter2")
        })
        app.get("/test/logs", (c) => runner.run(c, Effect.logInfo("inside a use case"), () => c.text("ok")))
      }
    })
  }, 60_000)
  afterAll(() => server?.shutdown())

  it("answers /healthz at once and /readyz once the database is migrated", async () => {
    const health = await fetch(`${server.url}/healthz`)
    assert.strictEqual(health.status, 200)
    assert.deepStrictEqual(await health.json(), { status: "ok" })
    const ready = await waitForStatus(`${server.url}/readyz`, 200)
    assert.deepStrictEqual(await ready.json(), { status: "ready", checks: { database: "pglite" } })
  })

  it("exposes Prometheus metrics with bounded route labels", async () => {
    await fetch(`${server.url}/no/such/route/123`)
    const response = await fetch(`${server.url}/metrics`)
    assert.match(response.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/)
    const text = await response.text()
    assert.match(text, /aquifer_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/)
    assert.match(text, /aquifer_http_requests_total\{method="GET",route="unmatched",status="404"\} \d+/)
    assert.notInclude(text, "/no/such/route/123")
    assert.match(text, /aquifer_process_resident_memory_bytes \d+/)
  })

  it("gives every request an id, keeping a client's plain one and replacing a hostile one", async () => {
    const own = await fetch(`${server.url}/healthz`, { headers: { "x-request-id": "trace-abc.123" } })
    assert.strictEqual(own.headers.get("x-request-id"), "trace-abc.123")
    const hostile = await fetch(`${server.url}/healthz`, { headers: { "x-request-id": `x${"y".repeat(300)}` } })
    assert.match(hostile.headers.get("x-request-id")!, /^[0-9a-f-]{36}$/)
  })

  it("writes JSON log lines, and a use case's lines carry its request id", async () => {
    const response = await fetch(`${server.url}/test/logs`, { headers: { "x-request-id": "req-logs-1" } })
    assert.strictEqual(await response.text(), "ok")
    const mine = server.logs.lines.filter((line) => line.requestId === "req-logs-1")
    assert.deepStrictEqual(mine.map((line) => line.msg).sort(), ["inside a use case", "request"])
    assert.isTrue(server.logs.lines.every((line) => typeof line.time === "string" && typeof line.level === "string"))
  })

  it("maps typed failures to their problem and anything else to a bare 500, leaking nothing", async () => {
    const typed = await fetch(`${server.url}/test/typed`)
    assert.strictEqual(typed.status, 404)
    assert.strictEqual(typed.headers.get("content-type"), "application/problem+json")
    const body = await typed.json() as Record<string, unknown>
    assert.strictEqual(body.type, "urn:aquifer:problem:not-found")
    assert.strictEqual(body.detail, "app nope was not found")
    for (const path of ["/test/defect", "/test/throws"]) {
      const response = await fetch(`${server.url}${path}`)
      assert.strictEqual(response.status, 500)
      const text = await response.text()
      assert.notInclude(text, "hunter2")
      assert.notInclude(text, " at ")
      assert.strictEqual((JSON.parse(text) as { type: string }).type, "urn:aquifer:problem:internal")
    }
    // …while the operator's log has the cause, tied to the request.
    assert.isTrue(server.logs.raw.some((line) => line.includes("hunter2") && line.includes("requestId")))
  })

  it("answers an unknown route with a route-not-found problem", async () => {
    const response = await fetch(`${server.url}/api/v9/whatever`, { method: "POST" })
    assert.strictEqual(response.status, 404)
    assert.strictEqual(((await response.json()) as { type: string }).type, "urn:aquifer:problem:route-not-found")
  })
})

describe("graceful shutdown", () => {
  it("lets in-flight requests finish, turns /readyz 503 while draining, then refuses connections", async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    let arrived: () => void = () => {}
    const inside = new Promise<void>((resolve) => (arrived = resolve))
    const server = await startTestServer({
      extend: (app) =>
        app.get("/test/slow", async (c) => {
          arrived()
          await gate
          return c.text("finished")
        })
    })
    await waitForStatus(`${server.url}/readyz`, 200)
    const inflight = fetch(`${server.url}/test/slow`).then(async (r) => [r.status, await r.text()] as const)
    await inside
    const stopped = server.shutdown()
    const drainingReady = await server.app.request("/readyz")
    assert.strictEqual(drainingReady.status, 503)
    await new Promise((resolve) => setTimeout(resolve, 100))
    release()
    assert.deepStrictEqual(await inflight, [200, "finished"])
    await stopped
    const after = await fetch(`${server.url}/healthz`).then(() => "answered", (error: Error) => error.message)
    assert.strictEqual(after, "fetch failed")
  }, 60_000)
})
