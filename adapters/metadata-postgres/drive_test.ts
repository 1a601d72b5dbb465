import { suite } from "@aquifer/drive/testing"
import { Layer } from "effect"
import { describe } from "vitest"
import { layerDriveRepositories } from "./mod.ts"
import { pgliteTestLayer, postgresTestLayer, serverAvailable } from "./testing.ts"

suite("PGlite", layerDriveRepositories.pipe(Layer.provide(pgliteTestLayer())))

describe.skipIf(!serverAvailable)("on the PostgreSQL server (skipped only when none answers, never in CI)", () => {
  suite("PostgreSQL server", layerDriveRepositories.pipe(Layer.provide(postgresTestLayer())))
})
