/**
 * `@aquifer/drive`: a per-user object store. Buckets (a home bucket per user, shared buckets
 * with read or read-write members, quotas), objects in the `BlobStore`, multipart uploads,
 * long-lived access keys and STS temporary credentials — the domain the S3 surface
 * (`apps/drive-server`) and the web UI's JSON API both call. Repository ports with in-memory
 * layers here; SQL ones in `adapters/metadata-postgres`; the conformance kit in `./testing`.
 * @module
 */
export * from "./access.ts"
export * from "./bucket_name.ts"
export * from "./buckets.ts"
export * from "./credentials.ts"
export * from "./errors.ts"
export * from "./keys.ts"
export * from "./layout.ts"
export * from "./memory.ts"
export * from "./model.ts"
export * from "./multipart.ts"
export * from "./objects.ts"
export * from "./preconditions.ts"
export * from "./repositories.ts"
export * from "./settings.ts"
export * from "./web_identity.ts"
