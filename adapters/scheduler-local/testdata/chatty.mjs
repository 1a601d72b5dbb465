// Test fixture: writes about 400 KB of log lines per second.
import { createServer } from "node:http"

const line = `${"x".repeat(1000)}\n`
setInterval(() => process.stdout.write(line.repeat(40)), 100)
createServer((_, response) => response.end("ok")).listen(Number(process.env.PORT), "127.0.0.1")
