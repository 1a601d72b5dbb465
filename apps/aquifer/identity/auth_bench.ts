// ./aq bench apps/aquifer/identity — what authenticating a request costs: the same HTTP round trip
// to the all-in-one (PGlite, embedded issuer) anonymous, with a session cookie, an issuer access
// token and a platform token; and one policy decision, in process.
import { Effect, Layer, Redacted } from "effect"
import { Principal } from "@aquifer/core"
import { Authenticator, decide } from "@aquifer/identity"
import { layer as databaseLayer, layerAuditLog } from "@aquifer/metadata-postgres"
import { captureLog, testConfig } from "../_test_support.ts"
import { startServer } from "../server.ts"
import { identityTestLayer, issuerReady, signInAs, testAdmin } from "./testing.ts"
import { freePort } from "../../../scripts/testing/ports.ts"
import { appStoreTestLayer } from "../appstore/testing.ts"

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const progress = (text: string) => process.stderr.write(`  ${text}\n`)

const timeLoop = async (n: number, op: () => Promise<unknown>) => {
  for (let i = 0; i < 50; i++) await op()
  const samples: Array<number> = []
  const started = performance.now()
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await op()
    samples.push(performance.now() - t)
  }
  return { perSecond: n / ((performance.now() - started) / 1000), p50: median(samples) }
}

const port = await freePort()
const origin = `http://127.0.0.1:${port}`
const server = await startServer({
  config: testConfig({ port }),
  log: captureLog().log,
  layer: Layer.mergeAll(layerAuditLog, identityTestLayer(port, { issuer: { accessTokenTtlSeconds: 3600 } }), appStoreTestLayer(port).pipe(Layer.provide(layerAuditLog))).pipe(
    Layer.provideMerge(databaseLayer({}))
  )
})
try {
  await issuerReady(origin)
  const { browser } = await signInAs(origin, testAdmin.username, testAdmin.password)
  const secret = [...browser.cookies.values()].find((c) => c.name === "aquifer_session")!.value
  const accessToken = await server.runtime.runPromise(Effect.gen(function*() {
    return Redacted.value((yield* (yield* Authenticator).resolveSession(secret)).accessToken!)
  }))
  const created = await browser.request(`${origin}/api/v1/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json", origin },
    body: JSON.stringify({ name: "bench", scopes: ["read"] })
  })
  const platformToken = ((await created.json()) as { token: string }).token

  const n = 1500
  const get = (path: string, headers: Record<string, string> = {}) => async () => {
    const response = await fetch(`${origin}${path}`, { headers })
    if (response.status !== 200) throw new Error(`${path}: ${response.status}`)
    await response.arrayBuffer()
  }
  const rows: Array<[string, { perSecond: number; p50: number }]> = []
  progress("anonymous /healthz")
  rows.push(["`GET /healthz`, anonymous (the direct path)", await timeLoop(n, get("/healthz"))])
  progress("session cookie")
  rows.push(["`GET /api/v1/me`, session cookie (one indexed read)", await timeLoop(n, get("/api/v1/me", { cookie: `aquifer_session=${secret}` }))])
  progress("issuer access token")
  rows.push(["`GET /api/v1/me`, issuer JWT (RS256 verify, cached JWKS)", await timeLoop(n, get("/api/v1/me", { authorization: `Bearer ${accessToken}` }))])
  progress("platform token")
  rows.push(["`GET /api/v1/me`, platform token (hash + two indexed reads)", await timeLoop(n, get("/api/v1/me", { authorization: `Bearer ${platformToken}` }))])

  const alice = Principal.make({ issuer: "https://id", subject: "a", name: "A", groups: ["team"], roles: ["full"] })
  const resource = { kind: "instance" as const, id: "i", owner: "https://id#b", visibility: "PRIVATE" as const, sharedWith: { groups: ["team"] } }
  const decisions = 200_000
  const t = performance.now()
  let allowed = 0
  for (let i = 0; i < decisions; i++) if (decide({ principal: alice }, "use", resource).allowed) allowed++
  const perDecisionNs = ((performance.now() - t) * 1e6) / decisions
  if (allowed !== decisions) throw new Error("the policy changed its mind")

  const base = rows[0]![1]
  const lines = [
    "## Authenticating a request (all-in-one, PGlite, embedded issuer)",
    "",
    `Sequential HTTP requests on 127.0.0.1 (${n} each after 50 warm-up), measured side by side in one run; the`,
    "machine is shared with other engineers' work, so compare ratios rather than absolute figures.",
    "",
    "| request | requests/s | p50 ms | p50 vs direct |",
    "|---|---:|---:|---:|",
    ...rows.map(([name, r]) => `| ${name} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(2)} | ${(r.p50 / base.p50).toFixed(2)}× |`),
    "",
    `One policy decision (\`decide\`, instance \`use\` through a group share): ${perDecisionNs.toFixed(0)} ns.`,
    ""
  ]
  process.stdout.write(`${lines.join("\n")}\n`)
} finally {
  await server.shutdown()
}
