import { storeSuite } from "@aquifer/secrets/testing"
import { Layer } from "effect"
import { describe } from "vitest"
import { layerSecretStore } from "./secret_store.ts"
import { pgliteTestLayer, postgresTestLayer, serverAvailable } from "./testing.ts"

storeSuite("PGlite", layerSecretStore.pipe(Layer.provide(pgliteTestLayer())))

describe.skipIf(!serverAvailable)("on the PostgreSQL server (skipped only when none answers, never in CI)", () => {
  storeSuite("PostgreSQL server", layerSecretStore.pipe(Layer.provide(postgresTestLayer())))
})
