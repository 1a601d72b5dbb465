import type { MiddlewareHandler } from "hono"
import { collectDefaultMetrics, Counter, Histogram, Registry } from "prom-client"
import type { Log } from "./logging.ts"

/** The app's Prometheus registry: process metrics plus HTTP request counts and latencies. */
export const makeMetrics = () => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: "aquifer_" })
  const requests = new Counter({
    name: "aquifer_http_requests_total",
    help: "HTTP requests served, by method, route pattern and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry]
  })
  const duration = new Histogram({
    name: "aquifer_http_request_duration_seconds",
    help: "HTTP request latency until the response head, by method and route pattern",
    labelNames: ["method", "route"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry]
  })
  return { registry, requests, duration }
}
export type Metrics = ReturnType<typeof makeMetrics>

// A client-sent id is kept only when it is short and plain, so it is safe in logs and headers.
const acceptableId = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * Gives each request an id (the client's `X-Request-Id` when acceptable, else a new one), echoes
 * it on the response, writes one access-log line and records the metrics.
 */
export const observe = (log: Log, metrics: Metrics): MiddlewareHandler => async (c, next) => {
  const started = performance.now()
  const offered = c.req.header("x-request-id")
  const requestId = offered !== undefined && acceptableId.test(offered) ? offered : crypto.randomUUID()
  c.set("requestId", requestId)
  let status = 500
  try {
    await next()
    status = c.res.status
  } finally {
    c.header("x-request-id", requestId)
    const seconds = (performance.now() - started) / 1000
    // The matched pattern, not the raw path, keeps label cardinality bounded.
    const route = c.req.routePath && c.req.routePath !== "/*" ? c.req.routePath : "unmatched"
    metrics.requests.inc({ method: c.req.method, route, status: String(status) })
    metrics.duration.observe({ method: c.req.method, route }, seconds)
    // Probes and scrapes would drown the log; the database's own failure is logged once.
    if (route !== "/healthz" && route !== "/readyz" && route !== "/metrics") {
      log[status >= 500 && status !== 503 ? "error" : status >= 400 ? "warn" : "info"]({
        requestId,
        method: c.req.method,
        path: c.req.path,
        route,
        status,
        ms: Math.round(seconds * 1000 * 10) / 10
      }, "request")
    }
  }
}
