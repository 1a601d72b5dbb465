/**
 * The router: authorizes each request to an app instance and proxies it, HTTP and WebSocket,
 * streaming both ways (bodies are piped, never buffered), over pooled keep-alive connections.
 * It runs on node's HTTP server ahead of the Hono app, so proxied traffic pays for no framework.
 *
 * For each request to `/instances/<id>/…`:
 * 1. the target is read from the raw path only (see `paths.ts`): `Host` and absolute-form
 *    targets never choose an upstream; path tricks are refused with 400;
 * 2. the caller is resolved (session cookie or bearer token; a bearer that does not verify: 401);
 * 3. the instance is looked up (cached; see `directory.ts`) and the identity policy decides
 *    (`instance.use`): a caller who may not use it gets 404, as for an instance that does not
 *    exist — never a hint of another user's app; an anonymous browser is sent to sign in;
 * 4. a stopped instance answers a friendly 503 page, and a suspended one is woken first when
 *    the caller may resume it (`instance.manage`);
 * 5. the request goes upstream with client identity headers stripped and the router's own
 *    added (see `headers.ts`).
 *
 * WebSocket upgrades additionally need a signed-in caller and, when they carry an `Origin`, the
 * platform's own origin (a cookie-authenticated upgrade must carry one): both are checked before
 * any upstream connection is made.
 * @module
 */
import type { Authenticated } from "@aquifer/identity"
import { can } from "@aquifer/identity"
import { type IncomingMessage, request, type ServerResponse } from "node:http"
import type { Dispatcher } from "undici"
import type { Duplex } from "node:stream"
import { downstreamHeaders, upstreamHeaders } from "./headers.ts"
import { routeTarget } from "./paths.ts"

/** What the router needs to know about an instance to route to it. */
export interface InstanceTarget {
  readonly id: string
  readonly owner: string
  readonly visibility: "PRIVATE" | "ALL_USERS" | "PUBLIC"
  readonly phase: string
  readonly ready: boolean
  /** Where to connect, when the instance serves. */
  readonly host?: string | undefined
  readonly port?: number | undefined
}

/** A caller: signed in, anonymous, or carrying a credential that does not verify. */
export type CallerResult = Authenticated | undefined | "invalid"

/** What a synchronous cache lookup returns when it cannot answer without waiting. */
export const miss: unique symbol = Symbol("miss")

export interface RouterDeps {
  readonly authenticate: (req: IncomingMessage) => Promise<CallerResult>
  readonly instance: (id: string) => Promise<InstanceTarget | undefined>
  /** The same answers when cached (no waiting at all), else `miss`: the hot path of proxying. */
  readonly cachedCaller?: ((req: IncomingMessage) => CallerResult | typeof miss) | undefined
  readonly cachedInstance?: ((id: string) => InstanceTarget | undefined | typeof miss) | undefined
  readonly alias: (name: string) => Promise<string | undefined>
  /** Resumes a suspended instance on behalf of a caller allowed to. */
  readonly wake: (auth: Authenticated, id: string) => Promise<void>
  /** The platform's public origin (`https://aquifer.example`). */
  readonly publicOrigin: string
  /** Cookie names of the platform (never forwarded to apps, never set by them). */
  readonly platformCookies: ReadonlySet<string>
  /** The upstream connection pool (undici: keep-alive, per origin). */
  readonly dispatcher: Dispatcher
  /** Where anonymous browsers sign in (`/auth/login`); `returnTo` is appended. */
  readonly signInPath?: string | undefined
  /** Called on every request and WebSocket message to an instance (for idle suspension). */
  readonly activity?: ((id: string) => void) | undefined
  readonly onError?: ((error: Error, context: string) => void) | undefined
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!)

const wantsHtml = (req: IncomingMessage) => (req.headers.accept ?? "").includes("text/html")

/** A small page for people, or a problem+json for programs. */
const answer = (req: IncomingMessage, res: ServerResponse, status: number, title: string, detail: string, options: { refresh?: number; headers?: Record<string, string> } = {}) => {
  if (res.headersSent) return void res.destroy()
  const headers: Record<string, string> = { "cache-control": "no-store", ...options.headers }
  if (options.refresh !== undefined) headers["retry-after"] = String(options.refresh)
  if (wantsHtml(req)) {
    const refresh = options.refresh === undefined ? "" : `<meta http-equiv="refresh" content="${options.refresh}">`
    const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">${refresh}<title>${escapeHtml(title)} · Aquifer</title>` +
      `<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:12vh auto;padding:0 1rem;color:#1d2433}h1{font-size:1.4rem}a{color:#2457c5}</style></head>` +
      `<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p><p><a href="/">Back to Aquifer</a></p></body></html>`
    res.writeHead(status, { ...headers, "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(body) })
    return void res.end(body)
  }
  const slug = ({ 400: "invalid-input", 401: "unauthenticated", 403: "forbidden", 404: "not-found", 502: "bad-gateway", 503: "instance-unavailable" } as Record<number, string>)[status] ?? "internal"
  const body = JSON.stringify({ type: `urn:aquifer:problem:${slug}`, title, status, detail })
  res.writeHead(status, { ...headers, "content-type": "application/problem+json", "content-length": Buffer.byteLength(body) })
  res.end(body)
}

const rejectUpgrade = (socket: Duplex, status: number, reason: string) => {
  if (socket.writable) {
    const body = JSON.stringify({ type: "urn:aquifer:problem:websocket-refused", title: reason, status })
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  }
  socket.destroy()
}

const ref = (target: InstanceTarget) => ({ kind: "instance" as const, id: target.id, owner: target.owner, visibility: target.visibility })

export interface Router {
  /** True when the router answers this request (else it goes to the app). */
  readonly handles: (req: IncomingMessage) => boolean
  readonly handleRequest: (req: IncomingMessage, res: ServerResponse) => void
  readonly handleUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void
}

export const makeRouter = (deps: RouterDeps): Router => {
  const signIn = deps.signInPath ?? "/auth/login"
  const publicUrl = new URL(deps.publicOrigin)
  const proto = publicUrl.protocol === "https:" ? "https" as const : "http" as const
  const fail = (error: unknown, context: string) => deps.onError?.(error instanceof Error ? error : new Error(String(error)), context)

  const handles = (req: IncomingMessage) => {
    const url = req.url ?? ""
    return url.startsWith("/instances/") || url.startsWith("/a/") || !url.startsWith("/")
  }

  const proxy = (req: IncomingMessage, res: ServerResponse, auth: Authenticated | undefined, target: InstanceTarget) => {
    const headers = upstreamHeaders(req.headers, {
      auth,
      dropAuthorization: auth !== undefined && auth.via !== "session",
      platformCookies: deps.platformCookies,
      clientAddress: req.socket.remoteAddress,
      proto,
      prefix: `/instances/${target.id}`,
      upgrade: false
    })
    delete headers["transfer-encoding"]
    const length = req.headers["content-length"]
    const hasBody = (length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined
    const aborted = new AbortController()
    res.on("close", () => {
      if (!res.writableFinished) aborted.abort()
    })
    deps.dispatcher.stream(
      {
        origin: `http://${target.host}:${target.port}`,
        path: req.url ?? "/",
        method: req.method as Dispatcher.HttpMethod,
        headers: headers as Record<string, string | Array<string>>,
        body: hasBody ? req : undefined,
        signal: aborted.signal
      },
      ({ statusCode, headers: responseHeaders }) => {
        res.writeHead(statusCode, downstreamHeaders(responseHeaders as IncomingMessage["headers"], deps.platformCookies))
        return res
      }
    ).catch((error: unknown) => {
      if (aborted.signal.aborted) return
      if (!res.headersSent) answer(req, res, 502, "The app did not answer", "The instance is running but did not answer this request. Try again in a moment.")
      else res.destroy()
      const code = (error as NodeJS.ErrnoException).code
      if (code !== "ECONNREFUSED" && code !== "ECONNRESET" && code !== "UND_ERR_SOCKET") fail(error, `proxying to instance ${target.id}`)
    })
  }

  const handleRequest = (req: IncomingMessage, res: ServerResponse) => {
    const target = routeTarget(req.url)
    if (target.kind === "bad") return answer(req, res, 400, "Bad request", target.reason)
    if (target.kind === "other") return answer(req, res, 404, "Not found", "There is nothing here.")
    if (target.kind === "alias") {
      return void deps.alias(target.name).then(
        (id) => {
          if (id === undefined) return answer(req, res, 404, "No such app address", "This address does not lead to an app.")
          res.writeHead(302, { location: `/instances/${id}${target.rest}`, "cache-control": "no-store", "content-length": 0 })
          res.end()
        },
        (error) => {
          fail(error, "resolving an alias")
          answer(req, res, 503, "Try again", "The platform could not look up this address just now.")
        }
      )
    }
    if (target.bare) {
      res.writeHead(308, { location: `/instances/${target.id}/${target.rest}`, "content-length": 0 })
      return void res.end()
    }
    const decide = (auth: CallerResult, instance: InstanceTarget | undefined): void | Promise<void> => {
      if (auth === "invalid") {
        return answer(req, res, 401, "Sign in again", "The credentials sent with this request are not valid.", { headers: { "www-authenticate": "Bearer" } })
      }
      if (instance === undefined || !can(auth?.caller, "use", ref(instance))) {
        if (auth === undefined && wantsHtml(req) && (req.method === "GET" || req.method === "HEAD")) {
          res.writeHead(302, { location: `${signIn}?returnTo=${encodeURIComponent(req.url ?? "/")}`, "cache-control": "no-store", "content-length": 0 })
          return void res.end()
        }
        if (auth === undefined) return answer(req, res, 401, "Sign in", "Sign in to use this app.", { headers: { "www-authenticate": "Bearer" } })
        return answer(req, res, 404, "No such app instance", "This app instance does not exist, or it is not shared with you.")
      }
      deps.activity?.(instance.id)
      if (instance.ready && instance.host !== undefined && instance.port !== undefined) return proxy(req, res, auth, instance)
      if (instance.phase === "suspended") {
        if (auth !== undefined && can(auth.caller, "manage", ref(instance))) {
          return deps.wake(auth, instance.id).then(
            () => answer(req, res, 503, "Waking the app up", "This app instance was suspended and is starting again. This page reloads by itself.", { refresh: 3 }),
            (error) => {
              fail(error, `waking instance ${instance.id}`)
              answer(req, res, 503, "The app could not be woken", "This app instance is suspended and could not be started again. Try again later.")
            }
          )
        }
        return answer(req, res, 503, "The app is sleeping", "This app instance is suspended. Ask its owner to resume it.")
      }
      if (instance.phase === "failed") return answer(req, res, 503, "The app is not running", "This app instance stopped working. Its owner can see why in its logs.", { refresh: 10 })
      return answer(req, res, 503, "The app is starting", "This app instance is getting ready. This page reloads by itself.", { refresh: 2 })
    }
    const cachedAuth = deps.cachedCaller?.(req) ?? miss
    const cachedInstance = cachedAuth === miss ? miss : deps.cachedInstance?.(target.id) ?? miss
    if (cachedAuth !== miss && cachedInstance !== miss) return void decide(cachedAuth, cachedInstance)
    deps.authenticate(req)
      .then((auth) => (auth === "invalid" ? decide(auth, undefined) : deps.instance(target.id).then((instance) => decide(auth, instance))))
      .catch((error: unknown) => {
        fail(error, "routing a request")
        answer(req, res, 503, "Try again", "The platform could not route this request just now.")
      })
  }

  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy())
    const target = routeTarget(req.url)
    if (target.kind !== "instance" || target.bare) return rejectUpgrade(socket, target.kind === "bad" ? 400 : 404, target.kind === "bad" ? "Bad Request" : "Not Found")
    const origin = req.headers.origin
    if (origin !== undefined && origin !== publicUrl.origin) return rejectUpgrade(socket, 403, "Forbidden")
    deps.authenticate(req).then((auth) => {
      if (auth === undefined || auth === "invalid") return rejectUpgrade(socket, 401, "Unauthorized")
      if (auth.via === "session" && origin === undefined) return rejectUpgrade(socket, 403, "Forbidden")
      return deps.instance(target.id).then((instance) => {
        if (instance === undefined || !can(auth.caller, "use", ref(instance))) return rejectUpgrade(socket, 404, "Not Found")
        if (!instance.ready || instance.host === undefined || instance.port === undefined) return rejectUpgrade(socket, 503, "Service Unavailable")
        if (socket.destroyed) return
        const headers = upstreamHeaders(req.headers, {
          auth,
          dropAuthorization: auth.via !== "session",
          platformCookies: deps.platformCookies,
          clientAddress: req.socket.remoteAddress,
          proto,
          prefix: `/instances/${instance.id}`,
          upgrade: true
        })
        const upstream = request({ host: instance.host, port: instance.port, method: "GET", path: req.url, headers, setHost: false, agent: false })
        upstream.on("upgrade", (response, upSocket, upHead) => {
          let raw = "HTTP/1.1 101 Switching Protocols\r\n"
          for (let i = 0; i < response.rawHeaders.length; i += 2) {
            const name = response.rawHeaders[i]!
            if (name.toLowerCase() === "set-cookie") continue
            raw += `${name}: ${response.rawHeaders[i + 1]}\r\n`
          }
          socket.write(`${raw}\r\n`)
          if (upHead.length > 0) socket.write(upHead)
          if (head.length > 0) upSocket.write(head)
          upSocket.setNoDelay(true)
          ;(socket as unknown as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true)
          const close = () => {
            socket.destroy()
            upSocket.destroy()
          }
          upSocket.on("error", close)
          socket.on("error", close)
          upSocket.on("close", close)
          socket.on("close", close)
          const activity = deps.activity
          if (activity !== undefined) socket.on("data", () => activity(instance.id))
          upSocket.pipe(socket)
          socket.pipe(upSocket)
          deps.activity?.(instance.id)
        })
        upstream.on("response", (response) => {
          let raw = `HTTP/1.1 ${response.statusCode} ${response.statusMessage}\r\nconnection: close\r\n`
          for (const [name, value] of Object.entries(downstreamHeaders(response.headers, deps.platformCookies))) {
            for (const item of Array.isArray(value) ? value : [value]) raw += `${name}: ${item}\r\n`
          }
          socket.write(`${raw}\r\n`)
          response.pipe(socket)
        })
        upstream.on("error", () => rejectUpgrade(socket, 502, "Bad Gateway"))
        socket.on("close", () => upstream.destroy())
        upstream.end()
      })
    }).catch((error: unknown) => {
      fail(error, "routing a WebSocket upgrade")
      rejectUpgrade(socket, 503, "Service Unavailable")
    })
  }

  return { handles, handleRequest, handleUpgrade }
}
