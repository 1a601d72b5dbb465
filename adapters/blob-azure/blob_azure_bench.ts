// `./aq bench blob`: a 1 GiB object streamed through the Azure adapter's put and get against
// Azurite (its blob service in a child process, persisting to this disk), beside a plain file copy.
import { BlobStore } from "@aquifer/blob"
import { BlobServiceClient } from "@azure/storage-blob"
import { Effect, ManagedRuntime, Redacted } from "effect"
import { spawn } from "node:child_process"
import { createRequire } from "node:module"
import { join } from "node:path"
import { freePort, waitForHttp } from "../../scripts/testing/ports.ts"
import { log, MiB, ratio, standardRounds, table, workDir } from "../../scripts/testing/blob_bench.ts"
import { layer } from "./mod.ts"

// The well-known development account of Azurite (not importing _azurite.ts, which loads Azurite here).
const account = {
  name: "devstoreaccount1",
  key: "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
}
const size = Number(process.env.AQUIFER_BENCH_BLOB_BYTES ?? 1024 * MiB)
const count = 3
const work = workDir("blob-azure-bench")
const port = await freePort()
const main = createRequire(import.meta.url).resolve("azurite/dist/src/blob/main.js")
const server = spawn(process.execPath, [
  main,
  "--blobHost", "127.0.0.1",
  "--blobPort", String(port),
  "--location", join(work.dir, "azurite"),
  "--silent",
  "--disableTelemetry",
  "--skipApiVersionCheck",
  "--loose"
], { stdio: "ignore" })
const exited = new Promise((resolve) => server.once("exit", resolve))
const connectionString = `DefaultEndpointsProtocol=http;AccountName=${account.name};AccountKey=${account.key};BlobEndpoint=http://127.0.0.1:${port}/${account.name};`
const runtime = ManagedRuntime.make(layer({ container: "bench", connectionString: Redacted.make(connectionString) }))

try {
  await waitForHttp(`http://127.0.0.1:${port}/`, 30_000)
  await BlobServiceClient.fromConnectionString(connectionString).getContainerClient("bench").createIfNotExists()
  const store = await runtime.runPromise(BlobStore)
  const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)
  log(`blob-azure bench: writing a ${size / MiB} MiB source file`)
  const { rows, idle } = await standardRounds({
    store: {
      delete: (key) => run(store.delete(key)),
      put: (key, body, options) => run(store.put(key, body, options)),
      get: (key) => run(store.get(key))
    },
    dir: work.dir,
    size,
    count,
    labels: { known: "azure `put`, known length (one streamed Put Blob)", unknown: "azure `put`, unknown length (8 MiB blocks, 2 in flight, one Put Block List)", get: "azure `get` (→ file, fsync)" }
  })
  const [copyRow, known, unknown, got] = rows
  process.stdout.write(`## Blob storage: Azure adapter against Azurite, ${size / MiB} MiB object

${table(size, rows)}

Azurite (3.37.0, in its own process, persisting to this disk) stands in for Azure Blob Storage, so
these figures measure the adapter plus Azurite's own cost, not what Azure would give. This run: put
${ratio(copyRow!, known!)} (known length) and ${ratio(copyRow!, unknown!)} (unknown), get ${ratio(copyRow!, got!)} of the plain copy's best time; the peak RSS
column is this process only (at rest, before the rounds: ${Math.round(idle / MiB)} MB with Node, its TypeScript loader,
effect and the SDK); an unknown-length put holds at most three 8 MiB blocks, recycled. ${count} interleaved rounds, each after a \`sync\`, on a disk shared with other work.
`)
} finally {
  await runtime.dispose()
  server.kill("SIGTERM")
  await exited
  work.remove()
}
