#!/usr/bin/env node
// The all-in-one Aquifer server: `./aq start`. Settings come from the environment
// (docs/configuration.md); with none set it runs on embedded defaults under ~/.aquifer.
import { Effect } from "effect"
import { serverConfig } from "./config.ts"
import { makeLog } from "./logging.ts"
import { startServer } from "./server.ts"

const config = await Effect.runPromise(serverConfig).catch((error: unknown) => {
  process.stderr.write(`aquifer: invalid configuration: ${(error as Error).message ?? String(error)}\n`)
  process.exit(2)
})
const log = makeLog(config.logLevel)

const server = await startServer({ config, log }).catch((error: unknown) => {
  log.fatal({ err: { message: (error as Error).message } }, "could not start")
  log.flush()
  process.exit(1)
})
log.info({ url: server.url, home: config.home, publicUrl: config.publicUrl ?? server.url }, `Aquifer is listening on ${server.url}`)

let signals = 0
const stop = (signal: NodeJS.Signals) => {
  if (++signals > 1) {
    log.warn({ signal }, "second signal: exiting now")
    log.flush()
    process.exit(130)
  }
  log.info({ signal, graceMs: config.shutdownGraceMillis }, "shutting down: finishing in-flight requests")
  server.shutdown().then(
    () => {
      log.info("stopped")
      log.flush(() => process.exit(0))
    },
    (error: unknown) => {
      log.error({ err: { message: (error as Error).message } }, "shutdown failed")
      log.flush(() => process.exit(1))
    }
  )
}
process.on("SIGTERM", stop)
process.on("SIGINT", stop)
