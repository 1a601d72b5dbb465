import { AuditLog } from "@aquifer/audit"
import { Database, layerAuditLog, layerConfig as databaseFromEnv } from "@aquifer/metadata-postgres"
import { Layer } from "effect"
import { appStoreLayerFromEnv, type AppStoreServices } from "./appstore/layer.ts"
import { driveLayerFromEnv } from "./drive/layer.ts"
import { identityLayerFromEnv, type IdentityServices } from "./identity/layer.ts"

/**
 * Every service the all-in-one server runs, each adapter chosen from the environment
 * (docs/configuration.md). Later domains add their Layers here. The Drive's services are found by
 * its mount at run time (a server built without them answers 404 under /drive).
 */
export const platformLayer = Layer.mergeAll(
  layerAuditLog,
  identityLayerFromEnv,
  appStoreLayerFromEnv.pipe(Layer.provide(layerAuditLog)),
  driveLayerFromEnv.pipe(Layer.provide(identityLayerFromEnv))
).pipe(
  Layer.provideMerge(databaseFromEnv)
)

export type Platform = AuditLog | Database | IdentityServices | AppStoreServices
