/** Test helpers for servers started by tests: free ports and waiting until a URL answers. */
import { createServer } from "node:net"
import { setTimeout as sleep } from "node:timers/promises"

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** Polls `url` until it answers (any HTTP status) or `timeoutMs` passes. */
export const waitForHttp = async (url: string, timeoutMs = 30_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(2000) })
      return
    } catch (error) {
      last = error
      await sleep(100)
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`, { cause: last })
}
