import { suite } from "@aquifer/audit/testing"
import { Layer } from "effect"
import { describe } from "vitest"
import { layerAuditLog } from "./audit_log.ts"
import { pgliteTestLayer, postgresTestLayer, serverAvailable } from "./testing.ts"

suite("PGlite", layerAuditLog.pipe(Layer.provide(pgliteTestLayer())))

describe.skipIf(!serverAvailable)("on the PostgreSQL server (skipped only when none answers, never in CI)", () => {
  suite("PostgreSQL server", layerAuditLog.pipe(Layer.provide(postgresTestLayer())))
})
