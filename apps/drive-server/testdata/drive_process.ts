// A Drive server in a process of its own, for tests that kill it: blob-fs and an on-disk PGlite
// under the folder given as argument, the server key from DRIVE_TEST_KEY. On first start it
// creates an access key (kept in <folder>/key.json). Prints one JSON line: { url, key }.
// DRIVE_TEST_DATABASE=postgres uses a fresh database on the PostgreSQL test server instead of
// PGlite (dropped when the process ends); DRIVE_TEST_MEMORY=1 logs memory use every second.
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { layer as blobFs } from "@aquifer/blob-fs"
import { Principal } from "@aquifer/core"
import { createAccessKey, layerNoWebIdentity, parseServerKey } from "@aquifer/drive"
import { layer as databaseLayer } from "@aquifer/metadata-postgres"
import { postgresTestLayer } from "@aquifer/metadata-postgres/testing"
import { driveLayer } from "../layers.ts"
import { startDriveServer } from "../server.ts"

const root = process.argv[2]!
const drive = await startDriveServer({
  layer: driveLayer({
    blobs: blobFs({ root: join(root, "blobs") }),
    database: process.env.DRIVE_TEST_DATABASE === "postgres" ? postgresTestLayer() : databaseLayer({ dataDir: join(root, "pglite") }),
    verifier: layerNoWebIdentity,
    serverKey: parseServerKey(process.env.DRIVE_TEST_KEY!)!
  }),
  s3: { region: "us-east-1" }
})
const keyFile = join(root, process.env.DRIVE_TEST_DATABASE === "postgres" ? `key-${process.pid}.json` : "key.json")
if (!existsSync(keyFile)) {
  const principal = Principal.make({ issuer: "https://issuer.test", subject: "kim", name: "kim", groups: [], roles: ["full"] })
  const created = await drive.runtime.runPromise(createAccessKey({ principal }, "crash test"))
  writeFileSync(keyFile, JSON.stringify({ accessKeyId: created.id, secretAccessKey: created.secretAccessKey }))
}
process.stdout.write(`${JSON.stringify({ url: drive.url, key: JSON.parse(readFileSync(keyFile, "utf8")) })}\n`)
process.on("SIGTERM", () => void drive.shutdown().then(() => process.exit(0)))
if (process.env.DRIVE_TEST_MEMORY === "1") {
  setInterval(() => {
    const m = process.memoryUsage()
    process.stderr.write(`memory: rss ${(m.rss / 1e6).toFixed(0)} heap ${(m.heapUsed / 1e6).toFixed(0)} external ${(m.external / 1e6).toFixed(0)} arrayBuffers ${(m.arrayBuffers / 1e6).toFixed(0)}\n`)
  }, 1000).unref()
}
