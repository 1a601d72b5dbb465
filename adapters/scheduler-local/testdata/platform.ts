// Test fixture: a platform process that owns a local scheduler over the data directory given as
// argv[2], deploys the kit's server as argv[3], prints "READY" and then waits to be killed.
import { Scheduler, WorkloadSpec } from "@aquifer/scheduler"
import { Effect, Layer } from "effect"
import { layer } from "../local_scheduler.ts"

const [home, name] = process.argv.slice(2) as [string, string]
const program = Effect.gen(function*() {
  const scheduler = yield* Scheduler
  yield* scheduler.deploy(WorkloadSpec.make({
    name,
    owner: "test",
    kind: "app",
    command: process.execPath,
    args: [new URL("./server.mjs", import.meta.url).pathname],
    port: 8080,
    readinessPath: "/healthz",
    restartPolicy: "always"
  }))
  while (!(yield* scheduler.status(name)).ready) yield* Effect.sleep("100 millis")
  console.log("READY")
  return yield* Effect.never
})
Effect.runFork(Effect.provide(program, Layer.fresh(layer({ home, backoffInitialMs: 100 }))))
