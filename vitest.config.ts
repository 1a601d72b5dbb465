// One vitest invocation runs every workspace folder as its own project. A folder may add a
// `vitest.config.ts` of its own (for setup files or longer timeouts); otherwise it gets the
// defaults below. Tests are `*_test.ts` files beside the code they test.
import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { defineConfig } from "vitest/config"

const layers = ["packages", "adapters", "apps"] as const

const projects = layers.flatMap((layer) =>
  existsSync(layer)
    ? readdirSync(layer, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(join(layer, entry.name, "package.json")))
      .map((entry) => {
        const root = join(layer, entry.name)
        return existsSync(join(root, "vitest.config.ts"))
          ? root
          : {
            test: {
              name: entry.name,
              root,
              include: ["**/*_test.ts"],
              exclude: ["**/node_modules/**"],
              testTimeout: 30_000,
              hookTimeout: 60_000
            }
          }
      })
    : []
)

export default defineConfig({
  test: {
    projects: [
      ...projects,
      { test: { name: "repo", root: ".", include: ["scripts/**/*_test.ts"], testTimeout: 30_000 } }
    ]
  }
})
