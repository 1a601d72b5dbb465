// The S3 adapter against s3rver, with the settings s3rver needs (path style, checksums only when
// required). s3rver writes objects in place and keeps no multipart state beyond parts, so the
// atomicity, conditional-write, part-listing and pagination cases are off here (its listings are
// in file-system order); moto_test.ts runs them all.
import { suite } from "@aquifer/blob/testing"
import { afterAll, beforeAll } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { memoryUsage, type Server, startS3rver } from "./_servers.ts"
import { layer } from "./mod.ts"

let server: Server | undefined
beforeAll(async () => {
  server = await startS3rver("kit")
})
afterAll(async () => {
  await server?.close()
})

suite(
  "blob-s3 on s3rver",
  Layer.unwrap(Effect.sync(() =>
    layer({
      bucket: "kit",
      endpoint: server!.endpoint,
      forcePathStyle: true,
      checksums: "when_required",
      credentials: { accessKeyId: "S3RVER", secretAccessKey: Redacted.make("S3RVER") }
    })
  )),
  { atomicWrites: false, conditionalWrites: false, multipartListing: false, enforcesMinPartSize: false, faithfulListing: false, allKeyShapes: false, memoryUsage }
)
