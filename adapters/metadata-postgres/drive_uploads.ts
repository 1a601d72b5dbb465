import { AlreadyExists } from "@aquifer/core"
import { CompletedUpload, MultipartUpload, UploadRepository } from "@aquifer/drive"
import { Effect, Layer } from "effect"
import { Database, orDieSql } from "./database.ts"

interface Row {
  readonly bucket: string
  readonly upload_id: string
  readonly key: string
  readonly initiator: string
  readonly created_at: Date
}

interface CompletedRow extends Row {
  readonly completed_at: Date
  readonly etag: string
  readonly size: string | number
  readonly parts_digest: string
}

const fromRow = (row: Row) =>
  new MultipartUpload({
    uploadId: row.upload_id,
    bucket: row.bucket as MultipartUpload["bucket"],
    key: row.key,
    initiator: row.initiator,
    createdAt: row.created_at
  })

const fromCompletedRow = (row: CompletedRow) =>
  new CompletedUpload({
    uploadId: row.upload_id,
    bucket: row.bucket as CompletedUpload["bucket"],
    key: row.key,
    initiator: row.initiator,
    createdAt: row.created_at,
    completedAt: row.completed_at,
    etag: row.etag,
    size: Number(row.size),
    partsDigest: row.parts_digest
  })

/**
 * The Drive's multipart uploads in the metadata database (table `drive_uploads`, migrations 0400
 * and 0401): in progress while `completed_at` is null, then completed until forgotten.
 */
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
            where bucket = ${bucket} and upload_id = ${uploadId} and completed_at is null`
        )).pipe(Effect.map((rows) => (rows[0] === undefined ? undefined : fromRow(rows[0])))),
      remove: (bucket, uploadId) =>
        orDieSql(db.use((sql) => sql`delete from drive_uploads where bucket = ${bucket} and upload_id = ${uploadId} returning upload_id`)).pipe(
          Effect.map((rows) => rows.length > 0)
        ),
      markCompleted: (bucket, uploadId, completion) =>
        orDieSql(db.use((sql) =>
          sql`update drive_uploads
            set completed_at = ${completion.completedAt}, etag = ${completion.etag}, size = ${completion.size},
              parts_digest = ${completion.partsDigest}
            where bucket = ${bucket} and upload_id = ${uploadId} and completed_at is null
            returning upload_id`
        )).pipe(Effect.map((rows) => rows.length > 0)),
      getCompleted: (bucket, uploadId) =>
        orDieSql(db.use((sql) =>
          sql<Array<CompletedRow>>`select bucket, upload_id, key, initiator, created_at, completed_at, etag, size, parts_digest
            from drive_uploads where bucket = ${bucket} and upload_id = ${uploadId} and completed_at is not null`
        )).pipe(Effect.map((rows) => (rows[0] === undefined ? undefined : fromCompletedRow(rows[0])))),
      forgetCompleted: (before) =>
        orDieSql(db.use((sql) => sql`delete from drive_uploads where completed_at < ${before} returning upload_id`)).pipe(
          Effect.map((rows) => rows.length)
        ),
      list: (bucket, options) =>
        orDieSql(db.use((sql) => {
          const { keyMarker, uploadIdMarker } = options
          return sql<Array<Row>>`select bucket, upload_id, key, initiator, created_at from drive_uploads
            where bucket = ${bucket} and completed_at is null
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
          sql<Array<Row & { readonly completed_at: Date | null }>>`delete from drive_uploads where bucket = ${bucket}
            returning bucket, upload_id, key, initiator, created_at, completed_at`
        )).pipe(Effect.map((rows) => rows.filter((row) => row.completed_at === null).map(fromRow)))
    })
  })
)
