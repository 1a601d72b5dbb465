// Test fixture: answers HTTP, then grows its resident memory by 32 MiB every 100 ms.
import { createServer } from "node:http"

const hoard = []
createServer((_, response) => response.end("ok")).listen(Number(process.env.PORT), "127.0.0.1", () => {
  console.log("listening")
  setInterval(() => hoard.push(Buffer.alloc(32 * 1024 * 1024, 1)), 100)
})
