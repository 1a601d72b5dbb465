// Drive throughput and memory, side by side in one run: 1 GiB PUT and GET with the AWS SDK
// (defaults: checksums on) through the Drive (blob-fs, embedded PGlite, its own process) vs a
// plain file copy on the same disk vs the same through s3rver (its own process); then the peak
// RSS of a fresh Drive process while it takes and serves a 5 GiB object.
import { spawn, type ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { open } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Readable, Writable } from "node:stream"
import { pipeline } from "node:stream/promises"
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3"
import type { Credentials } from "./_test_support.ts"

const GiB = 1024 ** 3
const MiB = 1024 ** 2
const rounds = 5
/** How the Drive service is run (docs/drive.md, "Running the Drive service"). */
const driveFlags = ["--max-semi-space-size=1"]
const log = (text: string) => process.stderr.write(`drive bench: ${text}\n`)
const work = mkdtempSync(join(tmpdir(), "aquifer-drive-bench-"))
const children: Array<ChildProcess> = []

const startChild = async (
  script: string,
  args: Array<string>,
  env: Record<string, string> = {},
  flags: Array<string> = []
): Promise<{ child: ChildProcess; info: Record<string, unknown> }> => {
  const child = spawn(process.execPath, [...flags, join(import.meta.dirname, "testdata", script), ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] })
  children.push(child)
  const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let buffer = ""
    child.stdout!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString()
      const line = buffer.split("\n").find((l) => l.startsWith("{\"url\""))
      if (line !== undefined) resolve(JSON.parse(line) as Record<string, unknown>)
    })
    child.on("exit", (code) => reject(new Error(`${script} exited (${code})`)))
  })
  return { child, info }
}

const stop = async (child: ChildProcess) => {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once("exit", resolve))
  child.kill("SIGTERM")
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
  await exited
  clearTimeout(timer)
}

/** Writes `size` pseudo-random bytes (not compressible, cheap to make) to `path`. */
const makeFile = async (path: string, size: number) => {
  const block = randomBytes(4 * MiB)
  let left = size
  await pipeline(Readable.from((function*() {
    while (left > 0) {
      const n = Math.min(left, block.length)
      left -= n
      yield block.subarray(0, n)
    }
  })()), createWriteStream(path))
}

const fsync = async (path: string) => {
  const handle = await open(path, "r+")
  await handle.sync()
  await handle.close()
}

const timed = async (what: string, work: () => Promise<void>): Promise<number> => {
  const started = performance.now()
  await work()
  const seconds = (performance.now() - started) / 1000
  log(`${what}: ${seconds.toFixed(2)} s`)
  return seconds
}

const client = (url: string, credentials: Credentials | undefined, defaults: boolean) =>
  new S3Client({
    endpoint: url,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: credentials ?? { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    ...(defaults ? {} : { requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" })
  })

const putFile = (s3: S3Client, bucket: string, key: string, path: string) =>
  s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(path, { highWaterMark: MiB }), ContentLength: statSync(path).size })).then(() => undefined)

const getFile = async (s3: S3Client, bucket: string, key: string, path: string) => {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  await pipeline(got.Body as Readable, createWriteStream(path))
  await fsync(path)
}

const rss = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? "0") * 1024
}

/** The largest resident set of `pid` seen every 50 ms while `work` runs. */
const sampled = async <A>(pid: number, work: () => Promise<A>): Promise<{ value: A; peak: number }> => {
  let peak = rss(pid)
  const timer = setInterval(() => {
    peak = Math.max(peak, rss(pid))
  }, 50)
  try {
    const value = await work()
    return { value, peak: Math.max(peak, rss(pid)) }
  } finally {
    clearInterval(timer)
  }
}

const cpuSeconds = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return (Number(fields[11]) + Number(fields[12])) / 100
}

interface Run {
  readonly seconds: number
  readonly serverCpu: number
}

const median = (values: Array<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

try {
  const source = join(work, "source.bin")
  log("making a 1 GiB file")
  await makeFile(source, GiB)
  await fsync(source)

  const key = randomBytes(32).toString("hex")
  mkdirSync(join(work, "drive"))
  mkdirSync(join(work, "s3rver"))
  const drive = await startChild("drive_process.ts", [join(work, "drive")], { DRIVE_TEST_KEY: key }, driveFlags)
  const s3rver = await startChild("s3rver_process.ts", [join(work, "s3rver")])
  const driveS3 = client(drive.info.url as string, drive.info.key as Credentials, true)
  const s3rverS3 = client(s3rver.info.url as string, undefined, false)
  await driveS3.send(new CreateBucketCommand({ Bucket: "bench" }))
  const names = ["copy", "drivePut", "driveGetFile", "driveGetSink", "s3rverPut", "s3rverGetFile", "s3rverGetSink"] as const
  const runs = Object.fromEntries(names.map((name) => [name, [] as Array<Run>])) as Record<(typeof names)[number], Array<Run>>
  const download = join(work, "download.bin")
  const measure = async (name: (typeof names)[number], round: number, pid: number | undefined, work: () => Promise<void>) => {
    const before = pid === undefined ? 0 : cpuSeconds(pid)
    const seconds = await timed(`${name} (round ${round})`, work)
    if (round > 0) runs[name].push({ seconds, serverCpu: pid === undefined ? 0 : cpuSeconds(pid) - before })
  }
  const sink = () => new Writable({ write: (_chunk, _encoding, done) => done() })
  const toSink = async (s3: S3Client, bucket: string, key: string) => {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
    await pipeline(got.Body as Readable, sink())
  }
  // Round 0 warms both servers and the client up (JIT, connections, the page cache) and is not counted.
  for (let round = 0; round <= rounds; round++) {
    log(round === 0 ? "warm-up round" : `round ${round} of ${rounds}`)
    await measure("copy", round, undefined, async () => {
      await pipeline(createReadStream(source, { highWaterMark: MiB }), createWriteStream(join(work, "copy.bin")))
      await fsync(join(work, "copy.bin"))
    })
    rmSync(join(work, "copy.bin"))
    const drivePid = drive.child.pid!
    const s3rverPid = s3rver.child.pid!
    await measure("drivePut", round, drivePid, () => putFile(driveS3, "bench", `one-gib-${round}.bin`, source))
    await measure("driveGetFile", round, drivePid, () => getFile(driveS3, "bench", `one-gib-${round}.bin`, download))
    rmSync(download)
    await measure("driveGetSink", round, drivePid, () => toSink(driveS3, "bench", `one-gib-${round}.bin`))
    await measure("s3rverPut", round, s3rverPid, () => putFile(s3rverS3, "bench", `one-gib-${round}.bin`, source))
    await measure("s3rverGetFile", round, s3rverPid, () => getFile(s3rverS3, "bench", `one-gib-${round}.bin`, download))
    rmSync(download)
    await measure("s3rverGetSink", round, s3rverPid, () => toSink(s3rverS3, "bench", `one-gib-${round}.bin`))
  }
  const med = (name: (typeof names)[number]) => median(runs[name].map((r) => r.seconds))
  const cpu = (name: (typeof names)[number]) => median(runs[name].map((r) => r.serverCpu))
  const spread = (name: (typeof names)[number]) => runs[name].map((r) => r.seconds.toFixed(2)).join(" / ")
  /** The median over rounds of `slow / fast` within each round (pairs measured minutes apart). */
  const pairedRatio = (slow: (typeof names)[number], fast: (typeof names)[number]) =>
    median(runs[slow].map((r, i) => r.seconds / runs[fast][i]!.seconds))
  driveS3.destroy()
  s3rverS3.destroy()
  await stop(drive.child)
  await stop(s3rver.child)
  rmSync(join(work, "s3rver"), { recursive: true, force: true })
  rmSync(join(work, "drive"), { recursive: true, force: true })
  rmSync(source)

  const bigPhase = async (database: "pglite" | "postgres", flags: Array<string>) => {
    const shape = flags.length === 0 ? "Node's defaults" : flags.join(" ")
    log(`5 GiB through a fresh Drive process (${database}, ${shape})`)
    const folder = join(work, `big-${database}`)
    mkdirSync(folder)
    const fresh = await startChild("drive_process.ts", [folder], { DRIVE_TEST_KEY: key, DRIVE_TEST_DATABASE: database }, flags)
    const pid = fresh.child.pid!
    const s3 = client(fresh.info.url as string, fresh.info.key as Credentials, true)
    await s3.send(new CreateBucketCommand({ Bucket: "bench" }))
    await s3.send(new PutObjectCommand({ Bucket: "bench", Key: "warm-up", Body: "x" }))
    const idle = rss(pid)
    const big = 5 * GiB
    const block = randomBytes(4 * MiB)
    const body = Readable.from((function*() {
      for (let sent = 0; sent < big; sent += block.length) yield block.subarray(0, Math.min(block.length, big - sent))
    })())
    const put = await sampled(pid, () =>
      timed(`Drive PUT 5 GiB (${database})`, () =>
        s3.send(new PutObjectCommand({ Bucket: "bench", Key: "five-gib.bin", Body: body, ContentLength: big })).then(() => undefined)))
    let received = 0
    const get = await sampled(pid, () =>
      timed(`Drive GET 5 GiB (${database})`, async () => {
        const got = await s3.send(new GetObjectCommand({ Bucket: "bench", Key: "five-gib.bin" }))
        await pipeline(got.Body as Readable, new Writable({
          write(chunk: Buffer, _encoding, done) {
            received += chunk.length
            done()
          }
        }))
      }))
    if (received !== big) throw new Error(`GET returned ${received} bytes, not ${big}`)
    s3.destroy()
    await stop(fresh.child)
    rmSync(folder, { recursive: true, force: true })
    return { database, shape, idle, put: put.value, putPeak: put.peak, get: get.value, getPeak: get.peak, big }
  }
  const bigRuns = []
  for (const [database, flags] of [["postgres", driveFlags], ["postgres", []], ["pglite", driveFlags]] as const) {
    try {
      bigRuns.push(await bigPhase(database, [...flags]))
    } catch (error) {
      log(`the 5 GiB phase on ${database} could not run: ${(error as Error).message}`)
    }
  }

  const mibps = (bytes: number, seconds: number) => (bytes / MiB / seconds).toFixed(0)
  const mb = (bytes: number) => (bytes / 1e6).toFixed(0)
  const delta = (bytes: number) => `${bytes < 0 ? "−" : "+"}${mb(Math.abs(bytes))}`
  const pct = (value: number) => `${(value * 100).toFixed(0)} %`
  const row = (label: string, name: (typeof names)[number], vsCopy: string, vsS3rver: string) =>
    `| ${label} | ${med(name).toFixed(2)} s (${mibps(GiB, med(name))} MiB/s) | ${Math.min(...runs[name].map((r) => r.seconds)).toFixed(2)} s | ${vsCopy} | ${vsS3rver} | ${name === "copy" ? "—" : `${cpu(name).toFixed(2)} s`} |`
  console.log(`## Drive: S3 throughput and memory

1 GiB through the AWS SDK for JavaScript with its defaults (CRC32 checksums computed by
\`node:zlib\`, aws-chunked uploads with a checksum trailer) against the Drive (blob-fs, embedded
PGlite, its own process, run as docs/drive.md says: \`${driveFlags.join(" ")}\`), against s3rver
3.7.1 (its own process; the SDK set to send checksums only when required, which s3rver needs),
and a plain stream copy of the same file on the same disk (read + write + fsync, the work a store
must do). A PUT uploads the file (the Drive fsyncs before it answers). A GET is measured twice:
into a local file, fsynced (a copy again, the client now doing the writing), and into a sink that
drops the bytes (the server's own speed, the client's receiving included). One warm-up round,
then ${rounds} interleaved rounds; the table gives medians. This VM's disk and page cache vary by a
factor of two from minute to minute, so ratios are medians of the ratio within each round.
"Server CPU" is the serving process's user + system time for that transfer (median), from
/proc: it does not depend on what else the machine is doing.

| path | median | best | vs plain copy (median of per-round ratios) | vs s3rver, same operation | server CPU |
|---|---|---|---|---|---|
${row("plain copy", "copy", "100 %", "—")}
${row("Drive PUT", "drivePut", pct(pairedRatio("copy", "drivePut")), `${pairedRatio("s3rverPut", "drivePut").toFixed(2)}×`)}
${row("Drive GET into a file", "driveGetFile", pct(pairedRatio("copy", "driveGetFile")), `${pairedRatio("s3rverGetFile", "driveGetFile").toFixed(2)}×`)}
${row("Drive GET into a sink", "driveGetSink", pct(pairedRatio("copy", "driveGetSink")), `${pairedRatio("s3rverGetSink", "driveGetSink").toFixed(2)}×`)}
${row("s3rver PUT", "s3rverPut", pct(pairedRatio("copy", "s3rverPut")), "1×")}
${row("s3rver GET into a file", "s3rverGetFile", pct(pairedRatio("copy", "s3rverGetFile")), "1×")}
${row("s3rver GET into a sink", "s3rverGetSink", pct(pairedRatio("copy", "s3rverGetSink")), "1×")}

Server CPU per GiB, Drive vs s3rver: PUT ${(cpu("s3rverPut") / cpu("drivePut")).toFixed(2)}× less, GET ${(cpu("s3rverGetSink") / cpu("driveGetSink")).toFixed(2)}× less.

All runs (s): ${names.map((name) => `${name} ${spread(name)}`).join("; ")}.

| 5 GiB object, fresh Drive process | metadata | Node flags | time | throughput | RSS of the Drive process (peak, sampled every 50 ms) | above idle |
|---|---|---|---|---|---|---|
${bigRuns.map((r) => [
    `| idle, after one small PUT | ${r.database} | ${r.shape} | — | — | ${mb(r.idle)} MB | — |`,
    `| PUT 5 GiB (SDK defaults) | ${r.database} | ${r.shape} | ${r.put.toFixed(1)} s | ${mibps(r.big, r.put)} MiB/s | ${mb(r.putPeak)} MB | ${delta(r.putPeak - r.idle)} MB |`,
    `| GET 5 GiB into a sink | ${r.database} | ${r.shape} | ${r.get.toFixed(1)} s | ${mibps(r.big, r.get)} MiB/s | ${mb(r.getPeak)} MB | ${delta(r.getPeak - r.idle)} MB |`
  ].join("\n")).join("\n")}

"postgres" is the Drive as its own service in the distributed shape (metadata on a PostgreSQL
server); "pglite" embeds the database in the same process, as the all-in-one does (PGlite's
WebAssembly heap is most of that idle figure). A GET reads the file straight into three reused
256 KiB buffers (BYOB reads, written to the socket and recycled on its write callback), so it
allocates nothing per chunk; \`--max-semi-space-size=1\` keeps V8's young generation at 1 MB,
where Node's default lets it grow to 3 × 16 MB under a stream of short-lived objects (and a PUT
is faster with the small one too). The idle figure is mostly code: Node with type stripping
(~60 MB), the \`effect\` barrel (~45 MB), the XML, crypto and HTTP stacks.

Targets: Drive ≥ 80 % of the plain copy, ≥ 2× s3rver, peak RSS under 200 MB.`)
} finally {
  for (const child of children) await stop(child).catch(() => undefined)
  rmSync(work, { recursive: true, force: true })
}
