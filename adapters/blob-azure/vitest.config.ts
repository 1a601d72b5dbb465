// Its own config only to give the workers --expose-gc: the conformance kit's large-object case
// measures live memory, and collecting garbage first keeps that measure honest.
import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    name: "blob-azure",
    include: ["**/*_test.ts"],
    exclude: ["**/node_modules/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    execArgv: ["--expose-gc"]
  }
})
