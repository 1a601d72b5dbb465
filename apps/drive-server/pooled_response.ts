// Sends large response bodies through a few reused buffers instead of one new buffer per chunk.
//
// A body that is a byte stream (the blob-fs adapter's object bodies are) can be read in BYOB mode,
// into buffers the reader owns. Written straight to Node's `ServerResponse`, each buffer goes back
// to the pool once the socket has taken it (the write callback), so serving an object of any size
// allocates a fixed few hundred KiB, where one fresh buffer per chunk would leave tens of MB of
// garbage between collections. Every other response goes through `@hono/node-server` unchanged.
import type { ServerResponse } from "node:http"
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response"

/** Buffers per response and their size: enough to read the next chunk while two are being sent. */
const poolSize = 3
const bufferBytes = 256 * 1024

type Fetch = (request: Request, env: unknown) => Response | Promise<Response>

const outgoingOf = (env: unknown): ServerResponse | undefined => {
  const outgoing = (env as { outgoing?: unknown } | undefined)?.outgoing
  return outgoing !== null && typeof outgoing === "object" && "writeHead" in outgoing && "socket" in outgoing
    ? outgoing as ServerResponse
    : undefined
}

/** A BYOB reader of `body`, or undefined when it is not a byte stream (then nothing is locked). */
const byobReaderOf = (body: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | undefined => {
  try {
    return body.getReader({ mode: "byob" })
  } catch {
    return undefined
  }
}

const headersOf = (response: Response): Record<string, string | Array<string>> => {
  const headers: Record<string, string | Array<string>> = {}
  response.headers.forEach((value, name) => {
    if (name === "set-cookie") return
    headers[name] = value
  })
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) headers["set-cookie"] = cookies
  return headers
}

/**
 * Writes `reader`'s bytes to `outgoing` through `poolSize` reused buffers; resolves when the
 * response has ended or the client has gone (then the body is cancelled). A body that fails in
 * the middle destroys the connection, so the client sees a truncated response, never a short
 * one that looks complete.
 */
const sendPooled = async (reader: ReadableStreamBYOBReader, outgoing: ServerResponse): Promise<void> => {
  const free: Array<ArrayBuffer> = Array.from({ length: poolSize }, () => new ArrayBuffer(bufferBytes))
  let waiting: (() => void) | undefined
  let gone = false
  const wake = () => {
    const resume = waiting
    waiting = undefined
    resume?.()
  }
  const onClose = () => {
    gone = true
    wake()
  }
  outgoing.on("close", onClose)
  outgoing.on("drain", wake)
  try {
    for (;;) {
      while (!gone && (free.length === 0 || outgoing.writableNeedDrain)) await new Promise<void>((resolve) => (waiting = resolve))
      if (gone) {
        await reader.cancel().catch(() => undefined)
        return
      }
      const { done, value } = await reader.read(new Uint8Array(free.pop()!))
      if (done) {
        outgoing.end()
        return
      }
      if (gone) continue
      const chunk = value
      outgoing.write(chunk, () => {
        free.push(chunk.buffer as ArrayBuffer)
        wake()
      })
    }
  } catch {
    await reader.cancel().catch(() => undefined)
    outgoing.destroy()
  } finally {
    outgoing.off("close", onClose)
    outgoing.off("drain", wake)
    reader.releaseLock()
  }
}

/**
 * Wraps a `@hono/node-server` fetch handler: responses of at least `bufferBytes` with a known
 * length whose body is a byte stream are written by {@link sendPooled}; the rest (small bodies,
 * bodies of unknown length) are returned to the server as they are. Runs after every
 * middleware, so status and headers are final.
 */
export const withPooledBodies = (fetch: Fetch): Fetch => async (request, env) => {
  const response = await fetch(request, env)
  const outgoing = outgoingOf(env)
  const body = response.body
  const length = Number(response.headers.get("content-length") ?? Number.NaN)
  if (outgoing === undefined || body === null || request.method === "HEAD" || !(length >= bufferBytes)) return response
  const reader = byobReaderOf(body)
  if (reader === undefined) return response
  outgoing.writeHead(response.status, headersOf(response))
  await sendPooled(reader, outgoing)
  return RESPONSE_ALREADY_SENT
}
