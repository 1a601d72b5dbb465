// Its own config only to give the workers --expose-gc (the conformance kit's large-object case
// measures live memory) and room for starting moto.
import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    name: "blob-s3",
    include: ["**/*_test.ts"],
    exclude: ["**/node_modules/**"],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    execArgv: ["--expose-gc"]
  }
})
