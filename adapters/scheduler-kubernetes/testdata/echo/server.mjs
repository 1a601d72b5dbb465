// The conformance kit's trivial HTTP workload (the image of Dockerfile beside it).
import { readFileSync } from "node:fs"
import { createServer } from "node:http"
import { join } from "node:path"

const port = Number(process.env.PORT)
const readSecretFile = () => {
  try {
    return readFileSync(join(process.env.AQUIFER_SECRETS_DIR ?? "/nonexistent", "token", "value"), "utf8")
  } catch {
    return null
  }
}
const server = createServer((request, response) => {
  if (request.url === "/healthz") {
    response.end("ok")
    return
  }
  response.setHeader("content-type", "application/json")
  response.end(JSON.stringify({
    greeting: process.env.GREETING ?? null,
    secretEnv: process.env.SECRET_TOKEN ?? null,
    secretFile: readSecretFile(),
    port: process.env.PORT,
    pid: process.pid,
    volume: process.env.AQUIFER_VOLUME_DATA ?? null
  }))
})
server.listen(port, process.env.HOST ?? "127.0.0.1", () => console.log(`listening on ${port}`))
process.on("SIGTERM", () => server.close(() => process.exit(0)))
