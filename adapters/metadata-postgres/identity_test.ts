import { suite } from "@aquifer/identity/testing"
import { Layer } from "effect"
import { describe } from "vitest"
import { layerIdentityRepositories } from "./identity.ts"
import { pgliteTestLayer, postgresTestLayer, serverAvailable } from "./testing.ts"

suite("PGlite", layerIdentityRepositories.pipe(Layer.provide(pgliteTestLayer())))

describe.skipIf(!serverAvailable)("on the PostgreSQL server (skipped only when none answers, never in CI)", () => {
  suite("PostgreSQL server", layerIdentityRepositories.pipe(Layer.provide(postgresTestLayer())))
})
