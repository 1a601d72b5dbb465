// The Drive's one error table for the S3 surface: each domain, BlobStore or credential error
// tag becomes one S3 error code and HTTP status.
import { S3Error, invalidArgument } from "./s3_error.ts"

interface Tagged {
  readonly _tag: string
  readonly message?: string
  readonly [field: string]: unknown
}

const text = (value: unknown): string => (typeof value === "string" ? value : "")

/** The S3 error for a failure of a use case (typed error of the domain, the blob port or core). */
export const s3ErrorOf = (error: Tagged): S3Error => {
  const message = error.message ?? ""
  switch (error._tag) {
    case "NoSuchBucket":
      return new S3Error("NoSuchBucket", 404, "The specified bucket does not exist", { BucketName: text(error.bucket) })
    case "BucketAlreadyExists":
      return error.ownedByCaller === true
        ? new S3Error("BucketAlreadyOwnedByYou", 409, "Your previous request to create the named bucket succeeded and you already own it.", {
          BucketName: text(error.bucket)
        })
        : new S3Error("BucketAlreadyExists", 409, "The requested bucket name is not available. Please select a different name and try again.", {
          BucketName: text(error.bucket)
        })
    case "BucketNotEmpty":
      return new S3Error("BucketNotEmpty", 409, "The bucket you tried to delete is not empty", { BucketName: text(error.bucket) })
    case "InvalidBucketName":
      return new S3Error("InvalidBucketName", 400, `The specified bucket is not valid: ${text(error.reason)}`, { BucketName: text(error.bucket).slice(0, 100) })
    case "InvalidObjectKey":
      return error.tooLong === true
        ? new S3Error("KeyTooLongError", 400, `Your key is too long: ${text(error.reason)}`)
        : invalidArgument(`Object name contains unsupported characters: ${text(error.reason)}`)
    case "NoSuchKey":
      return new S3Error("NoSuchKey", 404, "The specified key does not exist.", { Key: text(error.key) })
    case "NoSuchUpload":
      return new S3Error(
        "NoSuchUpload",
        404,
        "The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.",
        { UploadId: text(error.uploadId).slice(0, 200) }
      )
    case "QuotaExceeded":
      return new S3Error("QuotaExceeded", 403, message, { BucketName: text(error.bucket) })
    case "InvalidAccessKeyId":
      return new S3Error("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records.", {
        AWSAccessKeyId: text(error.accessKeyId)
      })
    case "ExpiredToken":
      return new S3Error("ExpiredToken", 400, "The provided token has expired.")
    case "InvalidToken":
      return error.revoked === true
        ? new S3Error("InvalidToken", 400, "The provided token has been revoked.")
        : new S3Error("InvalidToken", 400, "The provided token is malformed or otherwise invalid.")
    case "Forbidden":
    case "Unauthenticated":
      return new S3Error("AccessDenied", 403, "Access Denied")
    case "InvalidInput":
      switch (error.field) {
        case "copy-source":
          return new S3Error("InvalidRequest", 400, message)
        case "parts":
        case "keys":
          return new S3Error("MalformedXML", 400, message || "The XML you provided was not well-formed or did not validate against our published schema.")
        default:
          return invalidArgument(message)
      }
    case "LimitExceeded":
      return new S3Error("TooManyBuckets", 400, message)
    case "Unavailable":
    case "BlobStoreUnavailable":
      return new S3Error("ServiceUnavailable", 503, "Please reduce your request rate.")
    case "BlobNotFound":
      return error.uploadId === undefined
        ? new S3Error("NoSuchKey", 404, "The specified key does not exist.")
        : new S3Error("NoSuchUpload", 404, "The specified multipart upload does not exist.")
    case "BlobAlreadyExists":
      return new S3Error("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold", { Condition: "If-None-Match" })
    case "InvalidKey":
      return invalidArgument(`Object name contains unsupported characters: ${text(error.reason)}`)
    case "InvalidArgument": {
      const cause = error.cause
      if (cause instanceof S3Error) return cause
      if (error.field === "body") {
        return new S3Error("IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length HTTP header")
      }
      if (error.field === "metadata" && /at most/.test(message)) {
        return new S3Error("MetadataTooLarge", 400, "Your metadata headers exceed the maximum allowed metadata size.")
      }
      return invalidArgument(message)
    }
    case "InvalidRange":
      return new S3Error(
        "InvalidRange",
        416,
        "The requested range is not satisfiable",
        typeof error.size === "number" ? { ActualObjectSize: error.size } : {}
      )
    case "PreconditionFailed":
      switch (error.reason) {
        case "invalid-part":
          return new S3Error(
            "InvalidPart",
            400,
            "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
          )
        case "invalid-part-order":
          return new S3Error("InvalidPartOrder", 400, "The list of parts was not in ascending order. The parts list must be specified in order by part number.")
        case "part-too-small":
          return new S3Error("EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed object size.")
        default:
          return new S3Error("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold")
      }
    default:
      return new S3Error("InternalError", 500, "We encountered an internal error. Please try again.")
  }
}
