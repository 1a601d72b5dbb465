/**
 * `@aquifer/drive-server`: the Drive's HTTP surfaces — the S3 REST API (SigV4, XML, every
 * bucket, object and multipart operation, STS `AssumeRoleWithWebIdentity` on the service root)
 * and the web UI's JSON API — as handlers the all-in-one mounts, and as a service of its own
 * (`main.ts`). See docs/drive.md.
 * @module
 */
export { type DriveRuntime, type DriveServices } from "./context.ts"
export { driveConfig, type DriveConfig, InvalidDriveConfig, serverKeyFromFile } from "./config.ts"
export { blobLayerFromEnv, blobStoreKind, resolvedDriveConfig } from "./env.ts"
export { driveProblems, type JsonApiOptions, makeJsonApi } from "./json_api.ts"
export { driveLayer, type DriveLayerOptions, driveServicesLayer } from "./layers.ts"
export { makeS3App, makeS3Handler, rawOf, type RawRequest, type S3Options } from "./s3_app.ts"
export { withPooledBodies } from "./pooled_response.ts"
export { makeDriveApp, type RunningDrive, startDriveServer } from "./server.ts"
