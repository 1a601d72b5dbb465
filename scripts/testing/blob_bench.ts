// Shared by the blob adapters' benchmarks: a source file, the plain-copy baseline, an RSS sampler,
// interleaved rounds, the table.
import { randomFillSync } from "node:crypto"
import { execFileSync } from "node:child_process"
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs"
import { open } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"

export const MiB = 1024 * 1024
export const log = (text: string) => process.stderr.write(`${text}\n`)

export const workDir = (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), `aquifer-${name}-`))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A file of `size` bytes of random data (16 MiB of it repeated), fsynced. */
export const makeSource = async (path: string, size: number) => {
  const block = randomFillSync(Buffer.alloc(16 * MiB))
  const handle = await open(path, "w")
  for (let written = 0; written < size; written += block.byteLength) {
    await handle.write(block, 0, Math.min(block.byteLength, size - written))
  }
  await handle.sync()
  await handle.close()
}

const fsync = async (path: string) => {
  const handle = await open(path, "r+")
  await handle.sync()
  await handle.close()
}

/** The baseline: a plain streamed file copy on the same disk, fsynced like the store's writes. */
export const plainCopy = async (from: string, to: string) => {
  await pipeline(createReadStream(from, { highWaterMark: MiB }), createWriteStream(to))
  await fsync(to)
}

export const readSource = (path: string) => createReadStream(path, { highWaterMark: MiB })

/** Streams a store's body into a file, fsynced (the same work as the copy's write side). */
export const bodyToFile = async (body: ReadableStream<Uint8Array>, to: string) => {
  await pipeline(Readable.fromWeb(body as import("node:stream/web").ReadableStream<Uint8Array>), createWriteStream(to))
  await fsync(to)
}

/** Runs `task`, returning its duration and the peak RSS sampled every 5 ms meanwhile. */
export const measure = async (task: () => Promise<unknown>) => {
  ;(globalThis as { gc?: () => void }).gc?.()
  let peak = process.memoryUsage.rss()
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
  }, 5)
  const started = performance.now()
  try {
    await task()
  } finally {
    clearInterval(timer)
  }
  const seconds = (performance.now() - started) / 1000
  peak = Math.max(peak, process.memoryUsage.rss())
  return { seconds, peakRss: peak }
}

export interface Row {
  readonly path: string
  /** Every round's duration in seconds. */
  readonly times: ReadonlyArray<number>
  readonly peakRss: number
}

const bestOf = (times: ReadonlyArray<number>) => Math.min(...times)
const medianOf = (times: ReadonlyArray<number>) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!

/** One Markdown table: best and median time, throughput and ratio to the baseline (the first row), peak RSS. */
export const table = (size: number, rows: ReadonlyArray<Row>) => {
  const base = rows[0]!
  const lines = [
    "| path | best | median | throughput (best) | vs plain copy (best / median) | peak RSS |",
    "|---|---:|---:|---:|---:|---:|",
    ...rows.map((row) => {
      const rate = size / bestOf(row.times)
      const ratio = (pick: (times: ReadonlyArray<number>) => number) => `${((pick(base.times) / pick(row.times)) * 100).toFixed(0)} %`
      return `| ${row.path} | ${bestOf(row.times).toFixed(2)} s | ${medianOf(row.times).toFixed(2)} s | ${(rate / MiB).toFixed(0)} MiB/s | ${ratio(bestOf)} / ${ratio(medianOf)} | ${(row.peakRss / MiB).toFixed(0)} MB |`
    })
  ]
  return lines.join("\n")
}

/** The process's RSS at rest (after a collection), to read the peaks against. */
export const idleRss = () => {
  ;(globalThis as { gc?: () => void }).gc?.()
  return process.memoryUsage.rss()
}

/** Runs `rounds` interleaved rounds of every path, each after a global `sync`. */
export const rounds = async (
  count: number,
  paths: ReadonlyArray<readonly [string, () => Promise<() => Promise<unknown>>]>,
  sync: () => void
): Promise<Array<Row>> => {
  const results = new Map<string, { times: Array<number>; peakRss: number }>()
  for (let round = 0; round < count; round++) {
    for (const [path, prepare] of paths) {
      const task = await prepare()
      sync()
      const result = await measure(task)
      log(`round ${round + 1}: ${path}: ${result.seconds.toFixed(2)} s, ${(result.peakRss / MiB).toFixed(0)} MB`)
      const entry = results.get(path) ?? { times: [], peakRss: 0 }
      entry.times.push(result.seconds)
      entry.peakRss = Math.max(entry.peakRss, result.peakRss)
      results.set(path, entry)
    }
  }
  return paths.map(([path]) => ({ path, ...results.get(path)! }))
}

export const ratio = (base: Row, row: Row) => `${((Math.min(...base.times) / Math.min(...row.times)) * 100).toFixed(0)} %`

/** What the standard rounds need of a BlobStore, with its effects already run to promises. */
export interface BenchStore {
  readonly delete: (key: string) => Promise<unknown>
  readonly put: (key: string, body: AsyncIterable<Uint8Array>, options?: { readonly contentLength: number }) => Promise<unknown>
  readonly get: (key: string) => Promise<{ readonly body: ReadableStream<Uint8Array> }>
}

/**
 * The four paths every blob adapter's benchmark compares, in interleaved rounds after a `sync`:
 * a plain copy, `put` with a known and an unknown length, and `get` to a file. Checks the object
 * read back has the right size.
 */
export const standardRounds = async (options: {
  readonly store: BenchStore
  readonly dir: string
  readonly size: number
  readonly count: number
  readonly labels: { readonly known: string; readonly unknown: string; readonly get: string }
}) => {
  const { store, dir, size, count, labels } = options
  const source = join(dir, "source.bin")
  await makeSource(source, size)
  const copy = join(dir, "copy.bin")
  const out = join(dir, "out.bin")
  const idle = idleRss()
  const rows = await rounds(count, [
    ["plain copy (read stream → write stream, fsync)", async () => {
      rmSync(copy, { force: true })
      return () => plainCopy(source, copy)
    }],
    [labels.known, async () => {
      await store.delete("bench/known")
      return () => store.put("bench/known", readSource(source), { contentLength: size })
    }],
    [labels.unknown, async () => {
      await store.delete("bench/unknown")
      return () => store.put("bench/unknown", readSource(source))
    }],
    [labels.get, async () => {
      rmSync(out, { force: true })
      return async () => bodyToFile((await store.get("bench/known")).body, out)
    }]
  ], () => execFileSync("sync"))
  if (statSync(out).size !== size) throw new Error("the object read back has the wrong size")
  return { rows, idle }
}
