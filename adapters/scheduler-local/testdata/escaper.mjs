// Test fixture: starts a grandchild in a process group of its own (as a daemon would), then serves.
import { spawn } from "node:child_process"
import { createServer } from "node:http"

const daemon = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { detached: true, stdio: "ignore" })
daemon.unref()
createServer((_, response) => response.end(String(daemon.pid))).listen(Number(process.env.PORT), "127.0.0.1", () => console.log("listening"))
