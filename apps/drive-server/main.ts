#!/usr/bin/env -S node --max-semi-space-size=1
// The Drive as its own service (the distributed shape): `node --max-semi-space-size=1
// apps/drive-server/main.ts` (docs/drive.md, "Running the Drive service", says why the flag).
// S3 API at the root of AQUIFER_DRIVE_HOST:AQUIFER_DRIVE_PORT, STS on the same endpoint, the web
// UI's JSON API under /_drive/api. Settings: docs/configuration.md, `## Drive`.
import { layerNoWebIdentity, layerWebIdentityFromIdentity } from "@aquifer/drive"
import { layerConfig as oidcFromEnv } from "@aquifer/identity-oidc"
import { layerConfig as databaseFromEnv } from "@aquifer/metadata-postgres"
import { Config, Effect, Layer, Option, Schema } from "effect"
import { blobLayerFromEnv, resolvedDriveConfig } from "./env.ts"
import { driveLayer } from "./layers.ts"
import { startDriveServer } from "./server.ts"

const fail = (message: string): never => {
  process.stderr.write(`aquifer-drive: ${message}\n`)
  process.exit(2)
}

const settings = await Effect.runPromise(Effect.gen(function*() {
  const host = yield* Config.String("AQUIFER_DRIVE_HOST").pipe(Config.withDefault("127.0.0.1"))
  const port = yield* Config.schema(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 65535 })), "AQUIFER_DRIVE_PORT").pipe(Config.withDefault(9000))
  const issuer = yield* Config.option(Config.String("AQUIFER_OIDC_ISSUER"))
  const drive = yield* resolvedDriveConfig
  return { host, port, oidc: Option.isSome(issuer) && issuer.value.trim() !== "", drive }
})).catch((error: unknown) => fail(`invalid configuration: ${(error as Error).message ?? String(error)}`))

if (settings.drive.keyFromFile) {
  process.stderr.write("aquifer-drive: AQUIFER_DRIVE_KEY is not set; using the key in $AQUIFER_HOME/drive.key (run one replica only)\n")
}

const running = await startDriveServer({
  layer: driveLayer({
    blobs: blobLayerFromEnv,
    database: databaseFromEnv,
    verifier: settings.oidc ? layerWebIdentityFromIdentity.pipe(Layer.provide(oidcFromEnv())) : layerNoWebIdentity,
    serverKey: settings.drive.serverKeyBytes,
    settings: settings.drive.settings
  }),
  host: settings.host,
  port: settings.port,
  s3: { region: settings.drive.region, virtualHostDomain: settings.drive.virtualHostDomain, etagsAreMd5: settings.drive.etagsAreMd5 }
}).catch((error: unknown) => fail(`could not start: ${(error as Error).message ?? String(error)}`))

process.stdout.write(`${JSON.stringify({ level: "info", msg: `Aquifer Drive is listening on ${running.url}`, url: running.url, sts: settings.oidc })}\n`)

let signals = 0
const stop = () => {
  if (++signals > 1) process.exit(130)
  running.shutdown().then(() => process.exit(0), () => process.exit(1))
}
process.on("SIGTERM", stop)
process.on("SIGINT", stop)
