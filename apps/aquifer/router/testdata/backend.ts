// A real upstream for router tests and benchmarks: HTTP echo (method, url, headers, body),
// a slow streaming endpoint, Set-Cookie on demand, and a WebSocket echo that reports the
// upgrade request's headers as its first message. Counts connections and upgrade attempts.
import { createServer, type IncomingMessage, type Server } from "node:http"
import type { AddressInfo, Socket } from "node:net"
import { WebSocketServer } from "ws"

export interface Backend {
  readonly port: number
  readonly server: Server
  /** TCP connections accepted so far. */
  readonly connections: () => number
  /** WebSocket upgrade requests received so far. */
  readonly upgrades: () => number
  readonly close: () => Promise<void>
}

export const startBackend = async (): Promise<Backend> => {
  let connections = 0
  let upgrades = 0
  const sockets = new Set<Socket>()
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://backend")
    if (url.pathname.endsWith("/hello")) {
      res.writeHead(200, { "content-type": "text/plain", "content-length": 5 })
      return void res.end("hello")
    }
    if (url.pathname.endsWith("/slow")) {
      res.writeHead(200, { "content-type": "text/plain" })
      res.write("first\n")
      return void setTimeout(() => res.end("last\n"), 600)
    }
    if (url.pathname.endsWith("/cookie")) {
      res.writeHead(200, { "set-cookie": ["aquifer_session=stolen; Path=/", "app_pref=dark; Path=/instances/"], "content-length": 2 })
      return void res.end("ok")
    }
    const chunks: Array<Buffer> = []
    let size = 0
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (chunks.length < 4) chunks.push(chunk)
    })
    req.on("end", () => {
      const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, size, head: Buffer.concat(chunks).subarray(0, 64).toString("utf8") })
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
      res.end(body)
    })
  })
  server.on("connection", (socket) => {
    connections++
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  const wss = new WebSocketServer({ noServer: true })
  server.on("upgrade", (req: IncomingMessage, socket, head) => {
    upgrades++
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(JSON.stringify({ url: req.url, headers: req.headers }))
      ws.on("message", (data, binary) => ws.send(data, { binary }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    port: (server.address() as AddressInfo).port,
    server,
    connections: () => connections,
    upgrades: () => upgrades,
    close: async () => {
      for (const client of wss.clients) client.terminate()
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
