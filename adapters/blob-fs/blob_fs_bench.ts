// `./aq bench blob`: a 1 GiB object streamed through the fs adapter's put and get, beside a plain
// streamed file copy on the same disk (both fsynced), with the peak RSS of each.
import { BlobStore } from "@aquifer/blob"
import { execFileSync } from "node:child_process"
import { Effect, ManagedRuntime } from "effect"
import { copyFile, rm, stat } from "node:fs/promises"
import { join } from "node:path"
import { bodyToFile, idleRss, log, makeSource, MiB, plainCopy, ratio, readSource, rounds, table, workDir } from "../../scripts/testing/blob_bench.ts"
import { layer } from "./mod.ts"

const size = Number(process.env.AQUIFER_BENCH_BLOB_BYTES ?? 1024 * MiB)
const count = 5
const work = workDir("blob-fs-bench")
const source = join(work.dir, "source.bin")
const runtime = ManagedRuntime.make(layer({ root: join(work.dir, "store") }))
const store = await runtime.runPromise(BlobStore)
const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)

try {
  log(`blob-fs bench: writing a ${size / MiB} MiB source file`)
  await makeSource(source, size)
  const copy = join(work.dir, "copy.bin")
  const out = join(work.dir, "out.bin")

  // Rounds interleave the paths, each measured after a global sync and with its target removed
  // beforehand, so neither the disk's write-back nor freeing the previous file lands on a clock.
  const paths: Array<readonly [string, () => Promise<() => Promise<unknown>>]> = [
    ["plain copy (read stream → write stream, fsync)", async () => {
      await rm(copy, { force: true })
      return () => plainCopy(source, copy)
    }],
    ["`fs.copyFile` (in-kernel copy, fsync not included)", async () => {
      await rm(copy, { force: true })
      return () => copyFile(source, copy)
    }],
    ["fs `put`, known length (file → store)", async () => {
      await run(store.delete("bench/known"))
      return () => run(store.put("bench/known", readSource(source), { contentLength: size }))
    }],
    ["fs `put`, unknown length (file → store)", async () => {
      await run(store.delete("bench/unknown"))
      return () => run(store.put("bench/unknown", readSource(source)))
    }],
    ["fs `get` (store → file, fsync)", async () => {
      await rm(out, { force: true })
      return async () => bodyToFile((await run(store.get("bench/known"))).body, out)
    }]
  ]
  const idle = idleRss()
  const rows = await rounds(count, paths, () => execFileSync("sync"))
  if ((await stat(out)).size !== size) throw new Error("the object read back has the wrong size")

  const [copyRow, , known, unknown, got] = rows
  process.stdout.write(`## Blob storage: fs adapter, ${size / MiB} MiB object

${table(size, rows)}

Put streams the body into a temp file (batched \`writev\`, one write in flight while the next batch
fills), fsyncs it and renames it into place; get streams the file in 1 MiB reads. Target: at least
80 % of the plain copy, and a peak RSS under 200 MB whatever the size. This run: put
${ratio(copyRow!, known!)} (known length) and ${ratio(copyRow!, unknown!)} (unknown length), get ${ratio(copyRow!, got!)} of the plain copy's best time;
peak RSS at most ${Math.round(Math.max(known!.peakRss, unknown!.peakRss, got!.peakRss) / MiB)} MB for the whole process, which sat at ${Math.round(idle / MiB)} MB at rest (Node, its
TypeScript loader, effect) before the rounds.
${count} interleaved rounds, each path after a \`sync\` and with its target removed beforehand. The
disk is shared with other work on this machine and its write-back varies by a factor of three
between rounds, so compare the best and median columns, not single runs.
`)
} finally {
  await runtime.dispose()
  work.remove()
}
