import { AlreadyExists } from "@aquifer/core"
import { MultipartUpload, UploadRepository } from "@aquifer/drive"
import { Effect, Layer } from "effect"
import { Database, orDieSql } from "./database.ts"

interface Row {
  readonly bucket: string
  readonly upload_id: string
  readonly key: string
  readonly initiator: string
  readonly created_at: Date
}

const fromRow = (row: Row) =>
  new MultipartUpload({
    uploadId: row.upload_id,
    bucket: row.bucket as MultipartUpload["bucket"],
    key: row.key,
    initiator: row.initiator,
    createdAt: row.created_at
  })

/** The Drive's multipart uploads in progress in the metadata database (table `drive_uploads`, migration 0400). */
export const layerDriveUploads: Layer.Layer<UploadRepository, never, Database> = Layer.effect(
  UploadRepository,
  Effect.gen(function*() {
    const db = yield* Database
    return UploadRepository.of({
      insert: (upload) =>
        db.use((sql) =>
          sql`insert into drive_uploads (bucket, upload_id, key, initiator, created_at)
            values (${upload.bucket}, ${upload.uploadId}, ${upload.key}, ${upload.initiator}, ${upload.createdAt})`
        ).pipe(
          Effect.asVoid,
          Effect.catchTag("SqlError", (error) =>
            error.code === "23505" ? Effect.fail(new AlreadyExists({ resource: "upload", id: upload.uploadId })) : Effect.die(error))
        ),
      get: (bucket, uploadId) =>
        orDieSql(db.use((sql) =>
          sql<Array<Row>>`select bucket, upload_id, key, initiator, created_at from drive_uploads
            where bucket = ${bucket} and upload_id = ${uploadId}`
        )).pipe(Effect.map((rows) => (rows[0] === undefined ? undefined : fromRow(rows[0])))),
      remove: (bucket, uploadId) =>
        orDieSql(db.use((sql) => sql`delete from drive_uploads where bucket = ${bucket} and upload_id = ${uploadId} returning upload_id`)).pipe(
          Effect.map((rows) => rows.length > 0)
        ),
      list: (bucket, options) =>
        orDieSql(db.use((sql) => {
          const { keyMarker, uploadIdMarker } = options
          return sql<Array<Row>>`select bucket, upload_id, key, initiator, created_at from drive_uploads
            where bucket = ${bucket}
              ${options.prefix === undefined || options.prefix === "" ? sql`` : sql`and starts_with(key, ${options.prefix})`}
              ${
            keyMarker === undefined
              ? sql``
              : uploadIdMarker === undefined
              ? sql`and key > ${keyMarker}`
              : sql`and (key > ${keyMarker} or (key = ${keyMarker} and upload_id > ${uploadIdMarker}))`
          }
            order by key, upload_id
            limit ${options.limit + 1}`
        })).pipe(
          Effect.map((rows) => ({ uploads: rows.slice(0, options.limit).map(fromRow), truncated: rows.length > options.limit }))
        ),
      removeBucket: (bucket) =>
        orDieSql(db.use((sql) =>
          sql<Array<Row>>`delete from drive_uploads where bucket = ${bucket} returning bucket, upload_id, key, initiator, created_at`
        )).pipe(Effect.map((rows) => rows.map(fromRow)))
    })
  })
)
