// Process-table helpers: spawning a run in its own process group, finding and stopping groups.
// Linux answers from /proc (zombies count as gone, environments identify our runs); elsewhere
// only signal probes are available, which is documented as a weaker guarantee.
import { type ChildProcess, spawn } from "node:child_process"
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs"
import { createServer } from "node:net"
import { constants } from "node:os"
import { setTimeout as sleep } from "node:timers/promises"

export const hasProc = process.platform === "linux"

/** Variables every run carries, so a restarted platform can tell its runs from anyone else's. */
export const homeMarker = "AQUIFER_SCHEDULER_HOME"
export const runMarker = "AQUIFER_WORKLOAD_RUN"

// The shell stays as the group leader and records the exit status of the real command in a
// file, so an exit that happens while the platform is down is still known after it restarts.
const wrapper = '"$@"; code=$?; printf "%s" "$code" > "$AQUIFER_EXIT_FILE"; exit "$code"'

export interface SpawnRequest {
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  readonly env: Record<string, string>
  readonly logFile: string
  readonly exitFile: string
}

export const spawnRun = (request: SpawnRequest): ChildProcess => {
  const out = openSync(request.logFile, "a", 0o600)
  try {
    const child = spawn("/bin/sh", ["-c", wrapper, "aquifer-workload", request.command, ...request.args], {
      cwd: request.cwd,
      env: { ...request.env, AQUIFER_EXIT_FILE: request.exitFile },
      detached: true,
      stdio: ["ignore", out, out]
    })
    child.unref()
    return child
  } finally {
    closeSync(out)
  }
}

const signalNames = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name]))

/** Exit info from a shell status: 128+N means the command died of signal N. */
export const exitFromStatus = (status: number): { code: number; signal?: string } => {
  const signal = status > 128 && status < 128 + 65 ? signalNames.get(status - 128) : undefined
  return signal === undefined ? { code: status } : { code: status, signal }
}

export const readExitFile = (path: string): number | undefined => {
  try {
    const text = readFileSync(path, "utf8").trim()
    return /^\d+$/.test(text) ? Number(text) : undefined
  } catch {
    return undefined
  }
}

interface ProcInfo {
  readonly pid: number
  readonly pgrp: number
  readonly state: string
}

const procStat = (pid: number): ProcInfo | undefined => {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ")
    return { pid, state: fields[0]!, pgrp: Number(fields[2]) }
  } catch {
    return undefined
  }
}

const listPids = (): Array<number> =>
  readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).map(Number)

/** True while any live (non-zombie) process is in the group. */
export const groupAlive = (pgid: number): boolean => {
  try {
    process.kill(-pgid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
  if (!hasProc) return true
  return listPids().some((pid) => {
    const info = procStat(pid)
    return info !== undefined && info.pgrp === pgid && info.state !== "Z"
  })
}

const signalGroup = (pgid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(-pgid, signal)
  } catch {
    // already gone
  }
}

const waitGone = async (pgid: number, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!groupAlive(pgid)) return true
    await sleep(50)
  }
  return !groupAlive(pgid)
}

/** SIGTERM to the whole group, SIGKILL after the grace period; resolves once nothing is left. */
export const stopGroup = async (pgid: number, graceMs: number): Promise<void> => {
  if (!groupAlive(pgid)) return
  signalGroup(pgid, "SIGTERM")
  if (await waitGone(pgid, graceMs)) return
  signalGroup(pgid, "SIGKILL")
  if (!(await waitGone(pgid, 10_000))) throw new Error(`process group ${pgid} survived SIGKILL`)
}

export interface MarkedProcess {
  readonly pid: number
  readonly pgrp: number
  readonly name: string
  readonly runId: number
}

/** Every live process whose environment says it is a run of this data directory (Linux only). */
export const markedProcesses = (home: string): Array<MarkedProcess> => {
  if (!hasProc) return []
  const found: Array<MarkedProcess> = []
  for (const pid of listPids()) {
    if (pid === process.pid) continue
    let environ: string
    try {
      environ = readFileSync(`/proc/${pid}/environ`, "utf8")
    } catch {
      continue
    }
    const vars = environ.split("\0")
    if (!vars.includes(`${homeMarker}=${home}`)) continue
    const run = vars.find((v) => v.startsWith(`${runMarker}=`))?.slice(runMarker.length + 1)
    const match = run === undefined ? null : /^([a-z0-9-]+)\/(\d+)$/.exec(run)
    const info = procStat(pid)
    if (match === null || info === undefined || info.state === "Z") continue
    found.push({ pid, pgrp: info.pgrp, name: match[1]!, runId: Number(match[2]) })
  }
  return found
}

/** Resident memory of a process group in bytes (Linux only; undefined elsewhere). */
export const groupRss = (pgids: ReadonlySet<number>): Map<number, number> => {
  const totals = new Map<number, number>()
  if (!hasProc || pgids.size === 0) return totals
  for (const pid of listPids()) {
    const info = procStat(pid)
    if (info === undefined || !pgids.has(info.pgrp)) continue
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
      if (match !== null) totals.set(info.pgrp, (totals.get(info.pgrp) ?? 0) + Number(match[1]) * 1024)
    } catch {
      // exited meanwhile
    }
  }
  return totals
}

/** A TCP port free on `host` now; `preferred` when it still is. */
export const freePort = (host: string, preferred?: number): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (preferred !== undefined && error.code === "EADDRINUSE") freePort(host).then(resolve, reject)
      else reject(error)
    })
    server.listen(preferred ?? 0, host, () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
