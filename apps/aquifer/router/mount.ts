/**
 * The platform's router: `router.ts` fed by the app's runtime. Callers are resolved by the
 * identity `Authenticator` (session cookie or bearer), instances and endpoints by the App Store
 * and the Scheduler. Both lookups are cached briefly so proxied requests cost a map lookup:
 * callers for 5 s (a sign-out reaches the router within that), instances for 5 s and dropped at
 * once when the Scheduler's watch reports a change (or the API changes a visibility).
 */
import { findInstance, instanceSelector, resolveAlias, resume, workloadNameOf } from "@aquifer/appstore"
import { type Authenticated, Authenticator } from "@aquifer/identity"
import { Scheduler } from "@aquifer/scheduler"
import { Effect, Exit, Fiber, type ManagedRuntime, Stream } from "effect"
import type { IncomingMessage } from "node:http"
import { Agent } from "undici"
import { InstanceActivity } from "../appstore/layer.ts"
import type { AppStoreServices } from "../appstore/layer.ts"
import { IdentityHttp, type IdentityServices } from "../identity/layer.ts"
import type { AuditLog } from "@aquifer/audit"
import { type CallerResult, type InstanceTarget, makeRouter, miss, type Router } from "./router.ts"

export type RouterServices = AppStoreServices | IdentityServices | AuditLog

const sessionCookies = ["__Host-aquifer_session", "aquifer_session"]
const callerTtl = 5_000
const instanceTtl = 5_000
const missingTtl = 1_000
const maxEntries = 10_000

const cookieValue = (header: string | undefined, names: ReadonlyArray<string>): string | undefined => {
  if (header === undefined) return undefined
  for (const part of header.split(";")) {
    const eq = part.indexOf("=")
    if (eq === -1) continue
    const name = part.slice(0, eq).trim()
    if (names.includes(name)) return part.slice(eq + 1).trim()
  }
  return undefined
}

export interface PlatformRouter extends Router {
  /** Forgets what is cached about an instance (after its visibility changed). */
  readonly invalidate: (id: string) => void
  readonly close: () => void
}

export const platformRouter = (
  runtime: ManagedRuntime.ManagedRuntime<RouterServices, unknown>,
  onError: (error: Error, context: string) => void
): PlatformRouter => {
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 256, pipelining: 1 })
  const callers = new Map<string, { readonly auth: Authenticated; readonly until: number }>()
  const instances = new Map<string, { readonly value: Promise<InstanceTarget | undefined>; readonly until: number; settled?: { readonly target: InstanceTarget | undefined } }>()

  const cachedCaller = (req: IncomingMessage): CallerResult | typeof miss => {
    const header = req.headers.authorization
    let key: string
    if (header !== undefined) {
      const match = /^Bearer ([\x21-\x7e]+)$/i.exec(header.trim())
      if (match === null) return "invalid"
      key = `b ${match[1]}`
    } else {
      const secret = cookieValue(req.headers.cookie, sessionCookies)
      if (secret === undefined || secret === "") return undefined
      key = `c ${secret}`
    }
    const hit = callers.get(key)
    return hit !== undefined && hit.until > Date.now() ? hit.auth : miss
  }

  const cachedInstance = (id: string): InstanceTarget | undefined | typeof miss => {
    const hit = instances.get(id)
    return hit?.settled !== undefined && hit.until > Date.now() ? hit.settled.target : miss
  }

  const authenticate = async (req: IncomingMessage): Promise<CallerResult> => {
    const header = req.headers.authorization
    let key: string
    let resolve: Effect.Effect<Authenticated, { readonly _tag: string }, Authenticator>
    if (header !== undefined) {
      const match = /^Bearer ([\x21-\x7e]+)$/i.exec(header.trim())
      if (match === null) return "invalid"
      key = `b ${match[1]}`
      resolve = Effect.flatMap(Effect.service(Authenticator), (a) => a.resolveBearer(match[1]!))
    } else {
      const secret = cookieValue(req.headers.cookie, sessionCookies)
      if (secret === undefined || secret === "") return undefined
      key = `c ${secret}`
      resolve = Effect.flatMap(Effect.service(Authenticator), (a) => a.resolveSession(secret))
    }
    const now = Date.now()
    const hit = callers.get(key)
    if (hit !== undefined && hit.until > now) return hit.auth
    const exit = await runtime.runPromiseExit(resolve)
    if (Exit.isSuccess(exit)) {
      if (callers.size >= maxEntries) callers.clear()
      callers.set(key, { auth: exit.value, until: now + callerTtl })
      return exit.value
    }
    callers.delete(key)
    const failure = exit.cause.reasons.find((reason) => reason._tag === "Fail") as { error?: { _tag: string } } | undefined
    if (failure?.error?._tag === "Unauthenticated") return header !== undefined ? "invalid" : undefined
    throw new Error(`could not resolve the caller: ${failure?.error?._tag ?? "defect"}`)
  }

  const lookup = (id: string): Promise<InstanceTarget | undefined> =>
    runtime.runPromise(Effect.gen(function*() {
      const found = yield* Effect.option(findInstance(id).pipe(Effect.catchTag("NotFound", () => Effect.fail(undefined))))
      if (found._tag === "None") return undefined
      const instance = found.value
      const base = { id: instance.id, owner: instance.owner, visibility: instance.visibility, phase: instance.phase, ready: instance.ready }
      if (!instance.ready) return base
      const endpoint = yield* Effect.option(Effect.flatMap(Effect.service(Scheduler), (s) => s.endpoint(workloadNameOf(instance.id))))
      return endpoint._tag === "Some" && endpoint.value.ready ? { ...base, host: endpoint.value.host, port: endpoint.value.port } : { ...base, ready: false }
    }))

  const instance = (id: string): Promise<InstanceTarget | undefined> => {
    const now = Date.now()
    const hit = instances.get(id)
    if (hit !== undefined && hit.until > now) return hit.value
    const value = lookup(id)
    if (instances.size >= maxEntries) instances.clear()
    const entry: { value: Promise<InstanceTarget | undefined>; until: number; settled?: { readonly target: InstanceTarget | undefined } } = { value, until: now + instanceTtl }
    instances.set(id, entry)
    value.then(
      (found) => {
        entry.settled = { target: found }
        if (found === undefined && instances.get(id) === entry) entry.until = Date.now() + missingTtl
      },
      () => {
        if (instances.get(id)?.value === value) instances.delete(id)
      }
    )
    return value
  }

  const invalidate = (id: string) => void instances.delete(id)

  const watcher = runtime.runFork(
    Effect.flatMap(Effect.service(Scheduler), (scheduler) =>
      scheduler.watch(instanceSelector).pipe(
        Stream.runForEach((event) => Effect.sync(() => invalidate(`ins_${event.name.slice(4)}`)))
      )).pipe(
        Effect.catch((error) => Effect.logWarning(`the router's scheduler watch ended: ${error.message}; instance changes are seen within ${instanceTtl / 1000} s`))
      )
  )

  let touch: ((id: string) => void) | undefined
  let router: Router | undefined
  const ready = runtime.runPromise(Effect.all({ http: Effect.service(IdentityHttp), activity: Effect.service(InstanceActivity) })).then(({ http, activity }) => {
    touch = activity.touch
    activity.onChange(invalidate)
    router = makeRouter({
      authenticate,
      instance,
      cachedCaller,
      cachedInstance,
      alias: (name) => runtime.runPromise(resolveAlias(name).pipe(Effect.catchTag("NotFound", () => Effect.succeed(undefined)))),
      wake: async (auth, id) => {
        await runtime.runPromise(resume(auth.caller, id))
        invalidate(id)
      },
      publicOrigin: http.publicUrl,
      platformCookies: new Set([...sessionCookies, "aquifer_signin"]),
      dispatcher: agent,
      activity: (id) => touch?.(id),
      onError
    })
    return router
  })
  ready.catch((error: unknown) => onError(error as Error, "starting the router"))

  return {
    handles: (req) => {
      const url = req.url ?? ""
      return url.startsWith("/instances/") || url.startsWith("/a/") || !url.startsWith("/")
    },
    handleRequest: (req, res) => {
      if (router !== undefined) return router.handleRequest(req, res)
      ready.then((r) => r.handleRequest(req, res), () => {
        res.writeHead(503, { "content-type": "text/plain", "retry-after": "2" })
        res.end("the router is starting")
      })
    },
    handleUpgrade: (req, socket, head) => {
      if (router !== undefined) return router.handleUpgrade(req, socket, head)
      ready.then((r) => r.handleUpgrade(req, socket, head), () => socket.destroy())
    },
    invalidate,
    close: () => {
      void agent.close()
      runtime.runFork(Fiber.interrupt(watcher))
    }
  }
}
