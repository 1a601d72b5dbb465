// Azurite's blob service, started in this process by tests (its package has no public API: a
// deep import of BlobServer starts in milliseconds and sends no telemetry), on 127.0.0.1, and
// stopped after. It persists to a temp folder rather than to memory: in memory its copy of the
// objects would count against the kit's measure of what the adapter holds.
import { mkdtempSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort } from "../../scripts/testing/ports.ts"

interface AzuriteServer {
  start(): Promise<void>
  close(): Promise<void>
}

const require = createRequire(import.meta.url)
const { default: BlobServer } = require("azurite/dist/src/blob/BlobServer.js") as { default: new (configuration: unknown) => AzuriteServer }
const { default: BlobConfiguration } = require("azurite/dist/src/blob/BlobConfiguration.js") as { default: new (...args: Array<unknown>) => unknown }

/** The well-known development account every Azurite accepts. */
export const account = {
  name: "devstoreaccount1",
  key: "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
}

export interface Azurite {
  readonly url: string
  readonly connectionString: string
  readonly close: () => Promise<void>
}

export const startAzurite = async (): Promise<Azurite> => {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), "aquifer-azurite-"))
  const configuration = new BlobConfiguration(
    "127.0.0.1",
    port,
    undefined,
    join(dir, "blob.json"),
    join(dir, "extent.json"),
    [{ locationId: "Default", locationPath: join(dir, "data"), maxConcurrency: 10 }],
    false, // access log
    undefined,
    false, // debug log
    undefined,
    true, // loose
    true // skip the API version check
  )
  const server = new BlobServer(configuration)
  await server.start()
  const url = `http://127.0.0.1:${port}/${account.name}`
  return {
    url,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${account.name};AccountKey=${account.key};BlobEndpoint=${url};`,
    close: async () => {
      await server.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
