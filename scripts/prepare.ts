// Run by ./aq after each install: one-time, per-machine preparation that keeps starts fast.
// Today: the embedded database's templates, so a new data directory skips initdb (and the
// shipped migrations), and so do the tests' in-memory databases.
import { ensureTemplates } from "../adapters/metadata-postgres/mod.ts"

const started = Date.now()
await ensureTemplates()
process.stderr.write(`aq: embedded database templates ready (${Date.now() - started} ms)\n`)
