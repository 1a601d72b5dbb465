import { suite } from "@aquifer/appstore/testing"
import { Layer } from "effect"
import { describe } from "vitest"
import { layerAppCatalog } from "./app_catalog.ts"
import { pgliteTestLayer, postgresTestLayer, serverAvailable } from "./testing.ts"

suite("PGlite", layerAppCatalog.pipe(Layer.provide(pgliteTestLayer())))

describe.skipIf(!serverAvailable)("on the PostgreSQL server (skipped only when none answers, never in CI)", () => {
  suite("PostgreSQL server", layerAppCatalog.pipe(Layer.provide(postgresTestLayer())))
})
