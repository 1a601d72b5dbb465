// Test fixture: ignores SIGTERM and keeps a grandchild in its process group.
import { spawn } from "node:child_process"
import { createServer } from "node:http"

process.on("SIGTERM", () => console.log("ignoring SIGTERM"))
const child = spawn(process.execPath, ["-e", "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: "inherit" })
createServer((_, response) => response.end(String(child.pid))).listen(Number(process.env.PORT), "127.0.0.1", () => console.log("listening"))
