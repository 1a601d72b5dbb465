import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { afterAll, assert, describe, it } from "vitest"
import { checkLayering } from "./layering.ts"

describe("layering", () => {
  it("the repository follows the dependency rule", () => {
    const violations = checkLayering(join(import.meta.dirname, ".."))
    assert.deepStrictEqual(violations, [], JSON.stringify(violations, null, 2))
  })

  const fixture = mkdtempSync(join(tmpdir(), "aquifer-layering-"))
  afterAll(() => rmSync(fixture, { recursive: true, force: true }))
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(fixture, path)), { recursive: true })
    writeFileSync(join(fixture, path), text)
  }

  it("catches every deliberate violation in a fixture tree", () => {
    for (const dir of ["packages/blob", "packages/core", "adapters/blob-s3", "adapters/blob-fs", "apps/aquifer"]) {
      write(`${dir}/package.json`, "{}")
    }
    write("packages/blob/ok.ts", `import { Effect } from "effect"\nimport type { Stream } from "effect/Stream"\nimport { Principal } from "@aquifer/core"\nimport { x } from "./_private.ts"\n`)
    write("packages/blob/bad_node.ts", `import { readFile } from "node:fs/promises"\n`)
    write("packages/blob/bad_sdk.ts", `import { S3Client } from "@aws-sdk/client-s3"\nimport postgres from "postgres"\nimport { Hono } from "hono"\n`)
    write("packages/blob/bad_adapter.ts", `export { layer } from "@aquifer/blob-s3"\nconst m = await import("../../adapters/blob-fs/mod.ts")\n`)
    write("packages/blob/bad_app.ts", `import { main } from "../../apps/aquifer/main.ts"\n`)
    write("adapters/blob-s3/bad.ts", `import { layer } from "@aquifer/blob-fs"\nimport { x } from "../blob-fs/x.ts"\nimport { y } from "@aquifer/aquifer"\n`)
    write("adapters/blob-s3/ok.ts", `import { S3Client } from "@aws-sdk/client-s3"\nimport { BlobStore } from "@aquifer/blob"\nimport { z } from "./_z.ts"\n`)

    const found = checkLayering(fixture).map((v) => `${v.file} ${v.specifier}`).sort()
    assert.deepStrictEqual(found, [
      "adapters/blob-s3/bad.ts ../blob-fs/x.ts",
      "adapters/blob-s3/bad.ts @aquifer/aquifer",
      "adapters/blob-s3/bad.ts @aquifer/blob-fs",
      "packages/blob/bad_adapter.ts ../../adapters/blob-fs/mod.ts",
      "packages/blob/bad_adapter.ts @aquifer/blob-s3",
      "packages/blob/bad_app.ts ../../apps/aquifer/main.ts",
      "packages/blob/bad_node.ts node:fs/promises",
      "packages/blob/bad_sdk.ts @aws-sdk/client-s3",
      "packages/blob/bad_sdk.ts hono",
      "packages/blob/bad_sdk.ts postgres"
    ])
  })
})
