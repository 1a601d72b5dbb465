// The local scheduler's supervisor: one slot per workload, persisted under
// $AQUIFER_HOME/workloads/<name>/, with its runs as process groups of this machine.
import {
  canonicalSpec,
  type ExitInfo,
  type ResolvedSecret,
  type Workload,
  type WorkloadEvent,
  WorkloadSpec,
  type WorkloadStatus,
  volumeEnvName,
  parseMemory
} from "@aquifer/scheduler"
import { Schema } from "effect"
import type { ChildProcess } from "node:child_process"
import { createHash } from "node:crypto"
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync
} from "node:fs"
import { constants } from "node:os"
import { dirname, join } from "node:path"
import {
  exitFromStatus,
  freePort,
  groupAlive,
  groupRss,
  hasProc,
  homeMarker,
  markedProcesses,
  readExitFile,
  runMarker,
  spawnRun,
  stopGroup
} from "./_process.ts"

export interface RuntimeOptions {
  readonly home: string
  readonly host: string
  readonly stopGraceMs: number
  readonly backoffInitialMs: number
  readonly backoffMaxMs: number
  readonly backoffResetMs: number
  readonly logMaxBytes: number
  readonly keepRuns: number
  readonly onShutdown: "keep" | "stop"
}

interface RunRef {
  id: number
  pid: number
  startedAt: string
}

interface RecordFile {
  format: 1
  spec: unknown
  fingerprint: string
  revision: number
  createdAt: string
  updatedAt: string
  suspended: boolean
  port: number
  restarts: number
  failures: number
  lastExit?: ExitInfo | undefined
  run?: RunRef | undefined
  nextRunId: number
  terminal?: { reason: string; message: string } | undefined
}

interface Slot {
  readonly name: string
  readonly dir: string
  record: RecordFile
  spec: WorkloadSpec
  child?: ChildProcess | undefined
  alive: boolean
  ready: boolean
  stoppingRun?: number | undefined
  backoffTimer?: NodeJS.Timeout | undefined
  backoffUntil?: number | undefined
  probeTimer?: NodeJS.Timeout | undefined
  adoptTimer?: NodeJS.Timeout | undefined
  oomKilled?: number | undefined
}

export class NotFoundError extends Error {}

const decodeSpec = Schema.decodeUnknownSync(WorkloadSpec)
const secretsFile = "secrets.json"

const writeAtomic = (path: string, text: string, mode = 0o600) => {
  const temp = `${path}.${process.pid}.tmp`
  writeFileSync(temp, text, { mode })
  renameSync(temp, path)
}

export const fingerprintOf = (spec: WorkloadSpec, secrets: ReadonlyArray<ResolvedSecret>): string =>
  createHash("sha256").update(canonicalSpec(spec)).update("\0").update(JSON.stringify(secrets.map((s) => s.value))).digest("hex")

export class LocalRuntime {
  readonly root: string
  private readonly slots = new Map<string, Slot>()
  private readonly locks = new Map<string, Promise<unknown>>()
  private readonly listeners = new Set<(event: WorkloadEvent) => void>()
  private housekeeping?: NodeJS.Timeout
  private closed = false

  readonly options: RuntimeOptions

  constructor(options: RuntimeOptions) {
    this.options = options
    this.root = join(options.home, "workloads")
  }

  // ---- lifecycle of the runtime itself ------------------------------------------------------

  async open(): Promise<void> {
    mkdirSync(this.root, { recursive: true, mode: 0o700 })
    this.takeLock()
    const marked = markedProcesses(this.options.home)
    const records: Array<[string, RecordFile]> = []
    for (const entry of readdirSync(this.root, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue
      const file = join(this.root, entry.name, "record.json")
      try {
        records.push([entry.name, JSON.parse(readFileSync(file, "utf8")) as RecordFile])
      } catch {
        // A directory without a readable record is debris of an interrupted deploy or remove.
        rmSync(join(this.root, entry.name), { recursive: true, force: true })
      }
    }
    const adopted = new Set<string>()
    for (const [name, record] of records) {
      const slot: Slot = {
        name,
        dir: join(this.root, name),
        record,
        spec: decodeSpec(record.spec),
        alive: false,
        ready: false
      }
      this.slots.set(name, slot)
      const run = record.run
      const ofRun = run === undefined ? [] : marked.filter((p) => p.name === name && p.runId === run.id)
      const live = run === undefined
        ? undefined
        : hasProc
        ? ofRun.some((p) => p.pgrp === run.pid) ? run.pid : ofRun[0]?.pgrp
        : groupAlive(run.pid) ? run.pid : undefined
      if (run !== undefined && live !== undefined && !record.suspended) {
        adopted.add(`${name}/${run.id}`)
        slot.alive = true
        run.pid = live
        this.watchAdopted(slot, run)
        this.probe(slot, run.id)
      } else if (run !== undefined) {
        const status = readExitFile(this.exitFile(slot, run.id))
        record.run = undefined
        if (!record.suspended) this.afterExit(slot, run, status === undefined ? { reason: "Lost", at: new Date().toISOString() } : { ...exitFromStatus(status), at: new Date().toISOString() }, true)
        else this.save(slot)
      } else if (!record.suspended && record.terminal === undefined) {
        // Down while waiting out a back-off: this start is the restart it was waiting for.
        if (record.lastExit !== undefined) record.restarts++
        await this.startRun(slot)
      }
    }
    const orphanGroups = new Set(marked.filter((p) => !adopted.has(`${p.name}/${p.runId}`)).map((p) => p.pgrp))
    for (const group of orphanGroups) await stopGroup(group, this.options.stopGraceMs)
    this.housekeeping = setInterval(() => this.tick(), 1000)
    this.housekeeping.unref()
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.housekeeping !== undefined) clearInterval(this.housekeeping)
    for (const slot of this.slots.values()) {
      this.clearTimers(slot)
      if (this.options.onShutdown === "stop" && slot.record.run !== undefined) {
        const run = slot.record.run
        slot.stoppingRun = run.id
        await stopGroup(run.pid, this.options.stopGraceMs)
      }
    }
    this.listeners.clear()
    rmSync(join(this.root, ".lock"), { force: true })
  }

  private takeLock() {
    const lock = join(this.root, ".lock")
    try {
      const holder = Number(readFileSync(lock, "utf8"))
      if (holder !== process.pid && Number.isInteger(holder) && holder > 0) {
        let alive = true
        try {
          process.kill(holder, 0)
        } catch {
          alive = false
        }
        if (alive) throw new Error(`another platform process (pid ${holder}) manages ${this.root}`)
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error
    }
    writeAtomic(lock, String(process.pid))
  }

  // ---- operations -------------------------------------------------------------------------

  private serial<A>(name: string, task: () => Promise<A>): Promise<A> {
    const previous = this.locks.get(name) ?? Promise.resolve()
    const next = previous.then(task, task)
    const settled = next.then(() => undefined, () => undefined)
    this.locks.set(name, settled)
    void settled.then(() => {
      if (this.locks.get(name) === settled) this.locks.delete(name)
    })
    return next
  }

  deploy(spec: WorkloadSpec, secrets: ReadonlyArray<ResolvedSecret>): Promise<{ workload: Workload; change: "created" | "updated" | "unchanged" }> {
    return this.serial(spec.name, async () => {
      const fingerprint = fingerprintOf(spec, secrets)
      const now = new Date().toISOString()
      const existing = this.slots.get(spec.name)
      if (existing !== undefined && existing.record.fingerprint === fingerprint) {
        return { workload: this.view(existing), change: "unchanged" as const }
      }
      if (existing === undefined) {
        const dir = join(this.root, spec.name)
        mkdirSync(dir, { recursive: true, mode: 0o700 })
        const record: RecordFile = {
          format: 1,
          spec: Schema.encodeSync(WorkloadSpec)(spec),
          fingerprint,
          revision: 1,
          createdAt: now,
          updatedAt: now,
          suspended: false,
          port: await freePort(this.options.host),
          restarts: 0,
          failures: 0,
          nextRunId: 1
        }
        const slot: Slot = { name: spec.name, dir, record, spec, alive: false, ready: false }
        try {
          this.writeSecrets(slot, secrets)
          this.prepareVolumes(slot)
          this.save(slot)
        } catch (error) {
          rmSync(dir, { recursive: true, force: true })
          throw error
        }
        this.slots.set(spec.name, slot)
        this.emit("added", slot)
        await this.startRun(slot)
        return { workload: this.view(slot), change: "created" as const }
      }
      const slot = existing
      this.clearTimers(slot)
      await this.stopRun(slot)
      Object.assign(slot.record, {
        spec: Schema.encodeSync(WorkloadSpec)(spec),
        fingerprint,
        revision: slot.record.revision + 1,
        updatedAt: now,
        restarts: 0,
        failures: 0,
        terminal: undefined,
        lastExit: undefined
      })
      slot.spec = spec
      this.writeSecrets(slot, secrets)
      this.prepareVolumes(slot)
      this.save(slot)
      this.emit("modified", slot)
      if (!slot.record.suspended) await this.startRun(slot)
      return { workload: this.view(slot), change: "updated" as const }
    })
  }

  suspend(name: string): Promise<Workload> {
    return this.serial(name, async () => {
      const slot = this.slot(name)
      if (slot.record.suspended) return this.view(slot)
      slot.record.suspended = true
      slot.record.updatedAt = new Date().toISOString()
      this.clearTimers(slot)
      this.save(slot)
      await this.stopRun(slot)
      this.emit("modified", slot)
      return this.view(slot)
    })
  }

  resume(name: string): Promise<Workload> {
    return this.serial(name, async () => {
      const slot = this.slot(name)
      if (!slot.record.suspended) return this.view(slot)
      Object.assign(slot.record, { suspended: false, terminal: undefined, failures: 0, updatedAt: new Date().toISOString() })
      this.save(slot)
      this.emit("modified", slot)
      await this.startRun(slot)
      return this.view(slot)
    })
  }

  remove(name: string): Promise<void> {
    return this.serial(name, async () => {
      const slot = this.slot(name)
      this.clearTimers(slot)
      slot.record.suspended = true
      await this.stopRun(slot)
      // Remove the record first: a crash mid-way leaves debris that open() sweeps, never a record
      // pointing at deleted files.
      rmSync(join(slot.dir, "record.json"), { force: true })
      rmSync(slot.dir, { recursive: true, force: true })
      this.slots.delete(name)
      this.emit("removed", slot)
    })
  }

  get(name: string): Workload {
    return this.view(this.slot(name))
  }

  list(): Array<Workload> {
    return [...this.slots.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((slot) => this.view(slot))
  }

  has(name: string): boolean {
    return this.slots.has(name)
  }

  endpoint(name: string) {
    const slot = this.slot(name)
    const status = this.status(slot)
    return {
      suspended: slot.record.suspended,
      url: `http://${this.options.host}:${slot.record.port}`,
      host: this.options.host,
      port: slot.record.port,
      ready: status.phase === "running" && status.ready
    }
  }

  subscribe(listener: (event: WorkloadEvent) => void, replay: (event: WorkloadEvent) => void): () => void {
    for (const workload of this.list()) replay({ type: "added", name: workload.spec.name, workload })
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  // ---- logs -------------------------------------------------------------------------------

  /** The log files of the current (or previous) run, oldest first, and whether that run is live. */
  logFiles(name: string, previous: boolean): { files: Array<string>; runId: number | undefined } {
    const slot = this.slot(name)
    const ids = this.runIds(slot)
    const current = slot.record.run?.id ?? ids.at(-1)
    const runId = previous ? ids.filter((id) => current === undefined || id < current).at(-1) : current
    if (runId === undefined) return { files: [], runId }
    const log = this.logFile(slot, runId)
    return { files: [`${log}.1`, log].filter((file) => existsSync(file)), runId }
  }

  runLive(name: string, runId: number): boolean {
    const slot = this.slots.get(name)
    return slot !== undefined && slot.record.run?.id === runId && slot.alive
  }

  // ---- internals --------------------------------------------------------------------------

  private slot(name: string): Slot {
    const slot = this.slots.get(name)
    if (slot === undefined) throw new NotFoundError(name)
    return slot
  }

  private runsDir(slot: Slot) {
    return join(slot.dir, "runs")
  }

  private logFile(slot: Slot, runId: number) {
    return join(this.runsDir(slot), `${runId}.log`)
  }

  private exitFile(slot: Slot, runId: number) {
    return join(this.runsDir(slot), `${runId}.exit`)
  }

  private runIds(slot: Slot): Array<number> {
    try {
      return [...new Set(readdirSync(this.runsDir(slot)).map((f) => /^(\d+)\.log/.exec(f)?.[1]).filter((x) => x !== undefined).map(Number))]
        .sort((a, b) => a - b)
    } catch {
      return []
    }
  }

  private save(slot: Slot) {
    writeAtomic(join(slot.dir, "record.json"), JSON.stringify(slot.record))
  }

  private writeSecrets(slot: Slot, secrets: ReadonlyArray<ResolvedSecret>) {
    const dir = join(slot.dir, "secrets")
    rmSync(dir, { recursive: true, force: true })
    rmSync(join(slot.dir, secretsFile), { force: true })
    if (secrets.length === 0) return
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const env: Record<string, string> = {}
    for (const { ref, value } of secrets) {
      if (ref.env !== undefined) env[ref.env] = value
      if (ref.file !== undefined) {
        const path = join(dir, ref.file)
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
        writeFileSync(path, value, { mode: 0o600 })
        chmodSync(path, 0o600)
      }
    }
    writeAtomic(join(slot.dir, secretsFile), JSON.stringify(env))
  }

  private prepareVolumes(slot: Slot) {
    for (const volume of slot.spec.volumes ?? []) {
      mkdirSync(join(slot.dir, "volumes", volume.name), { recursive: true, mode: 0o700 })
    }
  }

  private environment(slot: Slot, runId: number): Record<string, string> {
    const env: Record<string, string> = {}
    for (const key of ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER", "SHELL"]) {
      const value = process.env[key]
      if (value !== undefined) env[key] = value
    }
    Object.assign(env, slot.spec.env ?? {})
    try {
      Object.assign(env, JSON.parse(readFileSync(join(slot.dir, secretsFile), "utf8")) as Record<string, string>)
    } catch {
      // no secret env
    }
    for (const volume of slot.spec.volumes ?? []) env[volumeEnvName(volume.name)] = join(slot.dir, "volumes", volume.name)
    Object.assign(env, {
      PORT: String(slot.record.port),
      HOST: this.options.host,
      AQUIFER_WORKLOAD_NAME: slot.name,
      AQUIFER_SECRETS_DIR: join(slot.dir, "secrets"),
      [homeMarker]: this.options.home,
      [runMarker]: `${slot.name}/${runId}`
    })
    return env
  }

  private async startRun(slot: Slot): Promise<void> {
    if (this.closed || slot.record.suspended) return
    const command = slot.spec.command
    if (command === undefined) return
    slot.record.port = await freePort(this.options.host, slot.record.port)
    const runId = slot.record.nextRunId++
    mkdirSync(this.runsDir(slot), { recursive: true, mode: 0o700 })
    this.pruneRuns(slot, runId)
    const cwd = slot.spec.workingDir ?? slot.dir
    const startFailed = (message: string) => {
      writeFileSync(this.logFile(slot, runId), `aquifer: could not start ${command}: ${message}\n`, { flag: "a", mode: 0o600 })
      this.afterExit(slot, { id: runId, pid: 0, startedAt: new Date().toISOString() }, { reason: "StartError", message, at: new Date().toISOString() }, false)
    }
    if (!existsSync(cwd)) return startFailed(`the working directory ${cwd} does not exist`)
    let child: ChildProcess
    try {
      child = spawnRun({
        command,
        args: slot.spec.args ?? [],
        cwd,
        env: this.environment(slot, runId),
        logFile: this.logFile(slot, runId),
        exitFile: this.exitFile(slot, runId)
      })
    } catch (error) {
      return startFailed(error instanceof Error ? error.message : String(error))
    }
    if (child.pid === undefined) {
      child.once("error", () => undefined)
      return startFailed("the process could not be spawned")
    }
    const run: RunRef = { id: runId, pid: child.pid, startedAt: new Date().toISOString() }
    slot.child = child
    slot.alive = true
    slot.ready = false
    slot.record.run = run
    this.save(slot)
    child.once("error", (error) => {
      writeFileSync(this.logFile(slot, runId), `aquifer: could not start ${command}: ${error.message}\n`, { flag: "a" })
    })
    child.once("exit", (code, signal) => {
      if (slot.child === child) slot.child = undefined
      const status = code ?? (signal === null ? 1 : 128 + (signalNumber(signal) ?? 0))
      this.onRunEnded(slot, run, { ...exitFromStatus(status), at: new Date().toISOString() })
    })
    this.emit("modified", slot)
    this.probe(slot, runId)
  }

  private watchAdopted(slot: Slot, run: RunRef) {
    const check = () => {
      if (this.closed || slot.record.run?.id !== run.id) return
      if (groupAlive(run.pid)) {
        slot.adoptTimer = setTimeout(check, 500)
        slot.adoptTimer.unref()
        return
      }
      const status = readExitFile(this.exitFile(slot, run.id))
      this.onRunEnded(slot, run, status === undefined ? { reason: "Lost", at: new Date().toISOString() } : { ...exitFromStatus(status), at: new Date().toISOString() })
    }
    slot.adoptTimer = setTimeout(check, 500)
    slot.adoptTimer.unref()
  }

  private onRunEnded(slot: Slot, run: RunRef, exit: ExitInfo) {
    if (this.closed) return
    if (slot.stoppingRun === run.id || slot.record.run?.id !== run.id || this.slots.get(slot.name) !== slot) return
    slot.alive = false
    slot.ready = false
    slot.record.run = undefined
    if (slot.oomKilled === run.id) exit = { ...exit, reason: "OOMKilled" }
    void this.serial(slot.name, async () => {
      if (this.slots.get(slot.name) !== slot || slot.record.suspended) return
      this.afterExit(slot, run, exit, false)
    })
  }

  private afterExit(slot: Slot, run: RunRef, exit: ExitInfo, immediate: boolean) {
    if (this.closed) return
    slot.record.lastExit = exit
    const policy = slot.spec.restartPolicy ?? "always"
    const succeeded = exit.code === 0
    if (policy === "never" || (policy === "on-failure" && succeeded)) {
      slot.record.terminal = succeeded
        ? { reason: "Completed", message: "the process exited with code 0" }
        : { reason: exit.reason ?? "Error", message: describeExit(exit) }
      this.save(slot)
      this.emit("modified", slot)
      return
    }
    const lasted = Date.now() - Date.parse(run.startedAt)
    slot.record.failures = lasted >= this.options.backoffResetMs ? 0 : slot.record.failures + 1
    const delay = immediate ? 0 : Math.min(this.options.backoffMaxMs, this.options.backoffInitialMs * 2 ** Math.max(0, slot.record.failures - 1))
    slot.backoffUntil = Date.now() + delay
    this.save(slot)
    this.emit("modified", slot)
    slot.backoffTimer = setTimeout(() => {
      slot.backoffTimer = undefined
      void this.serial(slot.name, async () => {
        if (this.slots.get(slot.name) !== slot || slot.record.suspended || slot.record.run !== undefined || this.closed) return
        slot.backoffUntil = undefined
        slot.record.restarts++
        await this.startRun(slot)
      })
    }, delay)
    slot.backoffTimer.unref()
  }

  private async stopRun(slot: Slot): Promise<void> {
    const run = slot.record.run
    if (run === undefined) return
    slot.stoppingRun = run.id
    try {
      await stopGroup(run.pid, this.options.stopGraceMs)
      // Processes of the run that made process groups of their own are stopped too.
      const escaped = new Set(markedProcesses(this.options.home).filter((p) => p.name === slot.name && p.runId === run.id).map((p) => p.pgrp))
      for (const group of escaped) await stopGroup(group, this.options.stopGraceMs)
    } finally {
      slot.stoppingRun = undefined
    }
    slot.alive = false
    slot.ready = false
    slot.child = undefined
    slot.record.run = undefined
    this.save(slot)
  }

  private clearTimers(slot: Slot) {
    for (const timer of [slot.backoffTimer, slot.probeTimer, slot.adoptTimer]) if (timer !== undefined) clearTimeout(timer)
    slot.backoffTimer = slot.probeTimer = slot.adoptTimer = undefined
    slot.backoffUntil = undefined
  }

  private probe(slot: Slot, runId: number) {
    let delay = 100
    const attempt = async () => {
      if (this.closed || slot.record.run?.id !== runId || !slot.alive) return
      const path = slot.spec.readinessPath ?? "/"
      let ok = false
      try {
        const response = await fetch(`http://${this.options.host}:${slot.record.port}${path}`, {
          signal: AbortSignal.timeout(2000),
          redirect: "manual"
        })
        await response.body?.cancel()
        ok = response.status >= 200 && response.status < 400
      } catch {
        ok = false
      }
      if (slot.record.run?.id !== runId || !slot.alive) return
      if (ok) {
        slot.ready = true
        slot.record.failures = 0
        this.emit("modified", slot)
        return
      }
      delay = Math.min(1000, delay * 1.5)
      slot.probeTimer = setTimeout(() => void attempt(), delay)
      slot.probeTimer.unref()
    }
    slot.probeTimer = setTimeout(() => void attempt(), 50)
    slot.probeTimer.unref()
  }

  private pruneRuns(slot: Slot, current: number) {
    const keep = new Set(this.runIds(slot).filter((id) => id < current).slice(-(this.options.keepRuns - 1)))
    for (const file of readdirSync(this.runsDir(slot))) {
      const id = Number(/^(\d+)\./.exec(file)?.[1])
      if (Number.isFinite(id) && id < current && !keep.has(id)) unlinkSync(join(this.runsDir(slot), file))
    }
  }

  private tick() {
    const limits = new Map<number, [Slot, number]>()
    for (const slot of this.slots.values()) {
      const run = slot.record.run
      if (run === undefined) continue
      const log = this.logFile(slot, run.id)
      try {
        if (statSync(log).size > this.options.logMaxBytes) {
          copyFileSync(log, `${log}.1`)
          truncateSync(log, 0)
        }
      } catch {
        // rotated or removed meanwhile
      }
      const limit = slot.spec.resources?.limits?.memory
      if (limit !== undefined && slot.alive) limits.set(run.pid, [slot, parseMemory(limit) ?? Infinity])
    }
    const usage = groupRss(new Set(limits.keys()))
    for (const [pgid, [slot, limit]] of limits) {
      if ((usage.get(pgid) ?? 0) > limit && slot.record.run?.pid === pgid) {
        slot.oomKilled = slot.record.run.id
        try {
          process.kill(-pgid, "SIGKILL")
        } catch {
          // gone
        }
      }
    }
  }

  private status(slot: Slot): WorkloadStatus {
    const base = { restarts: slot.record.restarts, ...(slot.record.lastExit ? { lastExit: slot.record.lastExit } : {}) }
    if (slot.record.suspended) return { ...base, phase: "suspended", ready: false, reason: "Suspended", message: "compute released; volumes kept" }
    if (slot.record.terminal !== undefined) return { ...base, phase: "failed", ready: false, ...slot.record.terminal }
    if (slot.record.run !== undefined && slot.alive) {
      return slot.ready
        ? { ...base, phase: "running", ready: true }
        : { ...base, phase: "starting", ready: false, reason: "Probing", message: `waiting for ${slot.spec.readinessPath ?? "/"} to answer` }
    }
    if (slot.backoffUntil !== undefined && slot.record.lastExit !== undefined) {
      const seconds = Math.max(0, Math.ceil((slot.backoffUntil - Date.now()) / 1000))
      return { ...base, phase: "failed", ready: false, reason: "CrashLoopBackOff", message: `${describeExit(slot.record.lastExit)}; restarting in ${seconds}s` }
    }
    if (slot.spec.command === undefined) {
      return { ...base, phase: "failed", ready: false, reason: "NoCommand", message: "the local scheduler runs commands; this spec has only an image" }
    }
    return { ...base, phase: "pending", ready: false }
  }

  private view(slot: Slot): Workload {
    const memory = slot.spec.resources?.limits?.memory
    return {
      spec: slot.spec,
      status: this.status(slot),
      revision: slot.record.revision,
      createdAt: slot.record.createdAt,
      updatedAt: slot.record.updatedAt,
      enforcement: [
        { resource: "cpu", enforced: false, how: "not enforced: the local scheduler has no cgroup to confine cpu; the process may use every core" },
        memory !== undefined && hasProc
          ? { resource: "memory", enforced: true, how: "the process group's resident memory is sampled every second; above the limit the group is killed (reason OOMKilled)" }
          : { resource: "memory", enforced: false, how: memory === undefined ? "no memory limit was given" : "not enforced on this OS (no /proc)" },
        { resource: "gpu", enforced: false, how: "not isolated: a local process sees every GPU of the host" }
      ]
    }
  }

  private emit(type: WorkloadEvent["type"], slot: Slot) {
    if (this.listeners.size === 0) return
    const event: WorkloadEvent = { type, name: slot.name, workload: this.view(slot) }
    for (const listener of this.listeners) listener(event)
  }
}

const signalNumber = (signal: NodeJS.Signals): number | undefined => (constants.signals as Record<string, number>)[signal]

const describeExit = (exit: ExitInfo): string =>
  exit.reason === "OOMKilled"
    ? "killed for exceeding its memory limit"
    : exit.signal !== undefined
    ? `killed by ${exit.signal}`
    : exit.code !== undefined
    ? `exited with code ${exit.code}`
    : exit.message ?? "ended for an unknown reason"
