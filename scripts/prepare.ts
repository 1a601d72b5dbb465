// Run by ./aq after each install: one-time, per-machine preparation that keeps starts fast.
// Today: the embedded database's template, so a new data directory skips initdb.
import { ensureSeed } from "../adapters/metadata-postgres/mod.ts"

const started = Date.now()
const seed = await ensureSeed()
process.stderr.write(`aq: embedded database template ready (${seed.split("/").pop()}, ${Date.now() - started} ms)\n`)
