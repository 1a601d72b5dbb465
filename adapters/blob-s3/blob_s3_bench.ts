// `./aq bench blob`: a 1 GiB object streamed through the S3 adapter's put and get against s3rver
// (run in a child process, so its memory is not ours), beside a plain file copy on the same disk.
import { BlobStore } from "@aquifer/blob"
import { Effect, ManagedRuntime, Redacted } from "effect"
import { spawn } from "node:child_process"
import { join } from "node:path"
import { freePort, waitForHttp } from "../../scripts/testing/ports.ts"
import { log, MiB, ratio, standardRounds, table, workDir } from "../../scripts/testing/blob_bench.ts"
import { layer } from "./mod.ts"

const size = Number(process.env.AQUIFER_BENCH_BLOB_BYTES ?? 1024 * MiB)
const count = 3
const work = workDir("blob-s3-bench")
const port = await freePort()
const server = spawn(process.execPath, [
  "-e",
  `const S3rver = require("s3rver");
   new S3rver({ address: "127.0.0.1", port: ${port}, silent: true, directory: ${JSON.stringify(join(work.dir, "s3rver"))}, configureBuckets: [{ name: "bench", configs: [] }] }).run()`
], { cwd: import.meta.dirname, stdio: "ignore" })
const exited = new Promise((resolve) => server.once("exit", resolve))
const runtime = ManagedRuntime.make(layer({
  bucket: "bench",
  endpoint: `http://127.0.0.1:${port}`,
  forcePathStyle: true,
  checksums: "when_required",
  credentials: { accessKeyId: "S3RVER", secretAccessKey: Redacted.make("S3RVER") }
}))

try {
  await waitForHttp(`http://127.0.0.1:${port}/`, 30_000)
  const store = await runtime.runPromise(BlobStore)
  const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)
  log(`blob-s3 bench: writing a ${size / MiB} MiB source file`)
  const { rows, idle } = await standardRounds({
    store: {
      delete: (key) => run(store.delete(key)),
      put: (key, body, options) => run(store.put(key, body, options)),
      get: (key) => run(store.get(key))
    },
    dir: work.dir,
    size,
    count,
    labels: { known: "s3 `put`, known length (one streamed PutObject)", unknown: "s3 `put`, unknown length (multipart, 8 MiB parts, 2 in flight)", get: "s3 `get` (→ file, fsync)" }
  })
  const [copyRow, known, unknown, got] = rows
  process.stdout.write(`## Blob storage: S3 adapter against s3rver, ${size / MiB} MiB object

${table(size, rows)}

s3rver (3.7.1, on this disk, in its own process; path style, checksums only when required) stands
in for S3, so these figures measure the adapter plus s3rver's own cost (it hashes every byte with
MD5 and copies parts again on completion), not what S3 would give. This run: put ${ratio(copyRow!, known!)} (known
length) and ${ratio(copyRow!, unknown!)} (unknown), get ${ratio(copyRow!, got!)} of the plain copy's best time; the peak RSS column is this
process only (at rest, before the rounds: ${Math.round(idle / MiB)} MB with Node, its TypeScript loader, effect and the
SDK); an unknown-length put holds at most three 8 MiB parts, recycled. ${count} interleaved rounds, each after a \`sync\`, on a disk shared with other work.
`)
} finally {
  await runtime.dispose()
  server.kill("SIGTERM")
  await exited
  work.remove()
}
