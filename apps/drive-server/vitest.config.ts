// Its own config only to name the project (`drive-server`) and give servers room to start.
import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    name: "drive-server",
    include: ["**/*_test.ts"],
    exclude: ["**/node_modules/**"],
    testTimeout: 120_000,
    hookTimeout: 120_000
  }
})
