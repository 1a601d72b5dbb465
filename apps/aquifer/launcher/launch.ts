#!/usr/bin/env node
// The local app launcher: the program an App Store instance runs as on the local scheduler.
// It unpacks the bundle into the instance's `app` volume (with the bundle reader's checks),
// prepares a Python virtualenv cached by requirements hash, writes the app's literal files,
// links its secret files, then starts the app per AppMode and stays as its supervisor.
// Exit codes: 78 dependencies could not be installed, 79 unsupported here, 80 start failed.
import { extractBundle } from "@aquifer/bundle-zip"
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { dirname, join, relative, resolve, sep } from "node:path"
import { setTimeout as sleep } from "node:timers/promises"

export interface LaunchSpec {
  readonly bundle: string
  readonly venvs: string
  readonly requirementsHash: string
  readonly mode: "wave" | "python"
  readonly module: string
  readonly appArgs: ReadonlyArray<string>
  readonly entryPoint: ReadonlyArray<string>
  readonly files: ReadonlyArray<{ readonly path: string; readonly value: string }>
  readonly python: string
  readonly basePath: string
}

export const exitCodes = { dependencies: 78, unsupported: 79, startFailed: 80 } as const

const say = (line: string) => process.stdout.write(`aquifer-launcher: ${line}\n`)

const fail = (code: number, message: string): never => {
  say(message)
  process.exit(code)
}

const inside = (root: string, path: string) => {
  const full = resolve(root, path.replace(/^\/+/, ""))
  if (!full.startsWith(root + sep)) fail(exitCodes.unsupported, `refusing to write outside the app folder: ${path}`)
  return full
}

// What pip printed, read for a one-line diagnosis people can act on.
const diagnose = (output: string): string => {
  if (/(Failed to establish a new connection|Name or service not known|Temporary failure in name resolution|Network is unreachable|Connection refused|ConnectTimeoutError|Max retries exceeded)/i.test(output)) {
    return "the Python package index could not be reached; check the network or pip's index settings (PIP_INDEX_URL)"
  }
  const missing = /No matching distribution found for ([^\s]+)/.exec(output)
  if (missing !== null) return `no release of ${missing[1]} matches; check its name and version in requirements.txt`
  const build = /Failed building wheel for ([^\s]+)|error: subprocess-exited-with-error[\s\S]*?×[^\n]*\n[^\n]*\b([A-Za-z0-9_.-]+)\b/.exec(output)
  if (build !== null) return `the package ${build[1] ?? build[2]} failed to build; see the lines above`
  return "pip failed; see the lines above"
}

// pip says nothing about an index it could not reach when it does not retry: ask the index.
const unreachableIndex = async (python: string): Promise<string | undefined> => {
  let index = process.env.PIP_INDEX_URL
  if (index === undefined || index === "") {
    const configured = spawnSync(python, ["-m", "pip", "config", "get", "global.index-url"], { encoding: "utf8", timeout: 10_000 })
    index = configured.status === 0 && configured.stdout.trim() !== "" ? configured.stdout.trim() : "https://pypi.org/simple/"
  }
  const reachable = await fetch(index, { method: "GET", signal: AbortSignal.timeout(5000), redirect: "manual" }).then(
    async (response) => (await response.body?.cancel(), true),
    () => false
  )
  return reachable ? undefined : index.replace(/\/\/[^/@]*@/, "//***@")
}

const run = (command: string, args: ReadonlyArray<string>, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
  new Promise<{ code: number; output: string }>((done) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    const keep = (chunk: Buffer) => {
      process.stdout.write(chunk)
      output = (output + chunk.toString("utf8")).slice(-64_000)
    }
    child.stdout.on("data", keep)
    child.stderr.on("data", keep)
    child.on("error", (error) => done({ code: 127, output: `${output}\n${error.message}` }))
    child.on("exit", (code, signal) => done({ code: code ?? (signal === null ? 1 : 128), output }))
  })

const freePort = () =>
  new Promise<number>((done, reject) => {
    const server = createServer()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => done(port))
    })
  })

const waitForPort = async (host: string, port: number, child: ChildProcess, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false
    const ok = await fetch(`http://${host}:${port}/`, { signal: AbortSignal.timeout(1000) }).then((r) => (r.body?.cancel(), true), () => false)
    if (ok) return true
    await sleep(100)
  }
  return false
}

// A lock whose holder died (the instance was stopped mid-install) must not block the next one.
const stale = (lock: string): boolean => {
  try {
    const pid = Number(readFileSync(join(lock, "pid"), "utf8"))
    process.kill(pid, 0)
    return false
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EPERM") return false
    try {
      return Date.now() - statSync(lock).mtimeMs > 5_000
    } catch {
      return false
    }
  }
}

const prepareVenv = async (spec: LaunchSpec, appDir: string): Promise<string | undefined> => {
  const requirements = existsSync(join(appDir, "requirements.txt")) ? readFileSync(join(appDir, "requirements.txt"), "utf8") : ""
  const wanted = requirements.split("\n").map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"))
  if (spec.mode === "python" && wanted.length === 0) return undefined
  if (spec.mode === "wave" && !wanted.some((line) => /^h2o[-_]wave\b/i.test(line))) wanted.push("h2o-wave")
  mkdirSync(spec.venvs, { recursive: true, mode: 0o700 })
  const venv = join(spec.venvs, spec.requirementsHash)
  const ready = join(venv, ".aquifer-ready")
  if (existsSync(ready)) {
    say(`using the cached environment for requirements ${spec.requirementsHash.slice(0, 12)}`)
    return venv
  }
  const lock = `${venv}.lock`
  for (;;) {
    try {
      mkdirSync(lock)
      writeFileSync(join(lock, "pid"), String(process.pid))
      break
    } catch {
      if (stale(lock)) rmSync(lock, { recursive: true, force: true })
      if (existsSync(ready)) return venv
      await sleep(500)
    }
  }
  try {
    if (existsSync(ready)) return venv
    rmSync(venv, { recursive: true, force: true })
    say(`creating a Python environment (${spec.python} -m venv)`)
    const made = await run(spec.python, ["-m", "venv", venv])
    if (made.code !== 0) fail(exitCodes.dependencies, `could not create a virtualenv with ${spec.python} (exit ${made.code}); is python3-venv installed?`)
    const file = join(venv, ".aquifer-requirements.txt")
    writeFileSync(file, `${wanted.join("\n")}\n`)
    say(`installing ${wanted.length} requirement(s): ${wanted.join(" ").slice(0, 300)}`)
    const pip = await run(join(venv, "bin", "python"), ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--progress-bar", "off", "-r", file], { cwd: appDir })
    if (pip.code !== 0) {
      rmSync(venv, { recursive: true, force: true })
      const offline = /No matching distribution found/.test(pip.output) ? await unreachableIndex(spec.python) : undefined
      fail(exitCodes.dependencies, `installing requirements.txt failed (pip exit ${pip.code}): ${
        offline === undefined ? diagnose(pip.output) : `the Python package index could not be reached (${offline}); check the network or pip's index settings (PIP_INDEX_URL)`
      }`)
    }
    writeFileSync(ready, new Date().toISOString())
    return venv
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}

const installPackages = async (appDir: string) => {
  const file = join(appDir, "packages.txt")
  if (!existsSync(file)) return
  const packages = readFileSync(file, "utf8").split("\n").map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"))
  if (packages.length === 0) return
  if (packages.some((name) => !/^[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+:~-]+)?$/.test(name))) {
    fail(exitCodes.unsupported, "packages.txt holds something that is not a Debian package name")
  }
  const missing = packages.filter((name) => spawnSync("dpkg-query", ["-W", "-f=${Status}", name.split("=")[0]!], { encoding: "utf8" }).stdout?.includes("install ok installed") !== true)
  if (missing.length === 0) return say(`packages.txt: ${packages.join(" ")} already installed`)
  if (process.getuid?.() !== 0 || spawnSync("apt-get", ["--version"]).status !== 0) {
    return say(`packages.txt asks for ${missing.join(" ")}, which this launcher cannot install here (it needs apt-get as root): install them on the host if the app needs them`)
  }
  say(`installing OS packages: ${missing.join(" ")}`)
  const apt = await run("apt-get", ["install", "-y", "--no-install-recommends", ...missing], { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } })
  if (apt.code !== 0) fail(exitCodes.dependencies, `installing packages.txt failed (apt-get exit ${apt.code})`)
}

const linkSecretFiles = (appDir: string) => {
  const secrets = process.env.AQUIFER_SECRETS_DIR
  if (secrets === undefined || !existsSync(secrets)) return
  const walk = (dir: string): Array<string> =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]))
  for (const file of walk(secrets)) {
    const target = inside(appDir, relative(secrets, file))
    mkdirSync(dirname(target), { recursive: true })
    rmSync(target, { force: true })
    symlinkSync(file, target)
  }
}

const supervise = (children: ReadonlyArray<ChildProcess>) => {
  const stop = (signal: NodeJS.Signals) => {
    for (const child of children) if (child.exitCode === null) child.kill(signal)
  }
  process.on("SIGTERM", () => stop("SIGTERM"))
  process.on("SIGINT", () => stop("SIGINT"))
  for (const child of children) {
    child.on("exit", (code, signal) => {
      say(`${child.spawnfile} ended (${signal ?? `exit ${code}`}); stopping the instance`)
      stop("SIGTERM")
      setTimeout(() => process.exit(code ?? 1), 200).unref()
    })
  }
}

export const main = async (spec: LaunchSpec) => {
  const volume = process.env.AQUIFER_VOLUME_APP
  if (volume === undefined) fail(exitCodes.unsupported, "AQUIFER_VOLUME_APP is not set: the launcher needs its app volume")
  const appDir = resolve(volume!, "src")
  if (!existsSync(appDir)) {
    say(`unpacking the bundle into ${appDir}`)
    await extractBundle(readFileSync(spec.bundle), appDir).catch((error: Error) => fail(exitCodes.unsupported, `the bundle cannot be unpacked: ${error.message}`))
  }
  for (const file of spec.files) {
    const target = inside(appDir, file.path)
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, file.value)
  }
  linkSecretFiles(appDir)
  await installPackages(appDir)
  const venv = await prepareVenv(spec, appDir)
  const python = venv === undefined ? spec.python : join(venv, "bin", "python")
  const host = process.env.HOST ?? "127.0.0.1"
  const port = process.env.PORT ?? "8080"
  const env = { ...process.env, PYTHONUNBUFFERED: "1", ...(venv === undefined ? {} : { VIRTUAL_ENV: venv, PATH: `${join(venv, "bin")}:${process.env.PATH ?? ""}` }) }
  if (spec.mode === "python") {
    const [command, ...args] = spec.entryPoint.length > 0 ? [...spec.entryPoint, ...spec.appArgs] : [python, "-m", spec.module, ...spec.appArgs]
    say(`starting ${command} ${args.join(" ")} on ${host}:${port}`)
    const app = spawn(command!, args, { cwd: appDir, env, stdio: "inherit" })
    app.on("error", (error) => fail(exitCodes.startFailed, `could not start ${command}: ${error.message}`))
    return supervise([app])
  }
  const waved = join(venv!, "waved")
  if (!existsSync(waved)) fail(exitCodes.startFailed, `h2o-wave installed no waved server at ${waved}; use an h2o-wave release whose wheel carries it for this platform`)
  const appPort = await freePort()
  const keyId = randomBytes(12).toString("hex")
  const keySecret = randomBytes(24).toString("hex")
  const waveEnv = {
    ...env,
    H2O_WAVE_LISTEN: `${host}:${port}`,
    H2O_WAVE_ADDRESS: `http://${host}:${port}`,
    H2O_WAVE_APP_ADDRESS: `http://127.0.0.1:${appPort}`,
    H2O_WAVE_ACCESS_KEY_ID: keyId,
    H2O_WAVE_ACCESS_KEY_SECRET: keySecret,
    H2O_WAVE_DATA_DIR: join(volume!, "wave-data"),
    H2O_WAVE_NO_LOG: "true",
    H2O_WAVE_BASE_URL: process.env.H2O_WAVE_BASE_URL ?? spec.basePath
  }
  say(`starting waved on ${host}:${port} (base URL ${waveEnv.H2O_WAVE_BASE_URL})`)
  const server = spawn(waved, ["-access-key-id", keyId, "-access-key-secret", keySecret], { cwd: venv!, env: waveEnv, stdio: "inherit" })
  server.on("error", (error) => fail(exitCodes.startFailed, `could not start waved: ${error.message}`))
  if (!(await waitForPort(host, Number(port), server, 60_000))) fail(exitCodes.startFailed, "waved did not start listening within 60 s")
  say(`starting the Wave app ${spec.module} on 127.0.0.1:${appPort}`)
  const app = spawn(join(venv!, "bin", "wave"), ["run", "--no-reload", "--no-autostart", spec.module, ...spec.appArgs], { cwd: appDir, env: waveEnv, stdio: "inherit" })
  app.on("error", (error) => fail(exitCodes.startFailed, `could not start the app: ${error.message}`))
  supervise([server, app])
}

if (import.meta.main) {
  let spec: LaunchSpec
  try {
    spec = JSON.parse(process.argv[2] ?? "") as LaunchSpec
  } catch {
    fail(exitCodes.unsupported, "usage: launch.ts '<launch spec as JSON>'")
  }
  main(spec!).catch((error: unknown) => fail(exitCodes.startFailed, `unexpected failure: ${(error as Error).stack ?? String(error)}`))
}
