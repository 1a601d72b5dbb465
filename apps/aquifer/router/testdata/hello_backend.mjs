// The hello-world backend of the router benchmark: "hello" over HTTP, echo over WebSocket.
import { createServer } from "node:http"
import { WebSocketServer } from "ws"

const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "text/plain", "content-length": "5" })
  res.end("hello")
})
const sockets = new WebSocketServer({ server, perMessageDeflate: false })
sockets.on("connection", (ws) => ws.on("message", (data, binary) => ws.send(data, { binary })))
server.keepAliveTimeout = 60_000
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", () => {
  const address = server.address()
  process.stdout.write(`listening on ${typeof address === "object" && address !== null ? address.port : address}\n`)
})
process.on("SIGTERM", () => process.exit(0))
