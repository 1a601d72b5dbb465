/**
 * `@aquifer/metadata-postgres`: Aquifer's metadata on PostgreSQL — a server (`DATABASE_URL`) or
 * embedded PGlite — through the `postgres` client, with versioned migrations and the SQL
 * implementations of the domains' repositories.
 *
 * Config: `DATABASE_URL`, `AQUIFER_HOME`, `AQUIFER_DB_POOL_MAX` (see docs/configuration.md).
 * @module
 */
export { Database, layer, layerConfig, orDieSql, parseDatabaseUrl, SqlError, type DatabaseOptions } from "./database.ts"
export { migrate, migrationsDir, readMigrations, type Migration } from "./migrate.ts"
export { layerAuditLog } from "./audit_log.ts"
/** Makes the embedded database's templates once per machine (see `_pglite.ts`). */
export const ensureTemplates = async (): Promise<void> => {
  const pglite = await import("./_pglite.ts")
  for (const migrated of [false, true]) {
    await pglite.ensureTemplateDir(migrated)
    await pglite.ensureSeed(migrated)
  }
}
export { layerIdentityRepositories } from "./identity.ts"
export { layerLocalAccountStore } from "./local_accounts.ts"
export { layerPendingSignInStore } from "./pending_sign_ins.ts"
export { layerPlatformTokenStore } from "./platform_tokens.ts"
export { layerSessionStore } from "./sessions.ts"
export { layerUserDirectory } from "./users.ts"
export { layerSecretStore } from "./secret_store.ts"
export { layerAppCatalog } from "./app_catalog.ts"
export { layerDriveRepositories } from "./drive.ts"
export { layerDriveAccessKeys } from "./drive_access_keys.ts"
export { layerDriveBuckets } from "./drive_buckets.ts"
export { layerDriveUploads } from "./drive_uploads.ts"
export { layerIssuerStateStore } from "./issuer_state.ts"
