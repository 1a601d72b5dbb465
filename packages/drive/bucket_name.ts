/**
 * Bucket names: the rules of S3 general-purpose buckets, so a name valid here is valid on AWS
 * and usable in a virtual-host name (`<bucket>.drive.example.com`).
 *
 * - 3 to 63 characters: lower-case letters, digits, `.` and `-`;
 * - starts and ends with a letter or digit; no `..`, `.-` or `-.`;
 * - not shaped like an IPv4 address (`192.168.5.4`);
 * - none of AWS's reserved prefixes (`xn--`, `sthree-`, `amzn-s3-demo-`) or suffixes
 *   (`-s3alias`, `--ol-s3`, `.mrap`, `--x-s3`, `--table-s3`).
 *
 * @example
 * ```ts
 * import { bucketNameProblem } from "@aquifer/drive"
 * bucketNameProblem("team-data")   // undefined: valid
 * bucketNameProblem("Team_Data")   // "only lower-case letters, digits, \".\" and \"-\" are allowed"
 * ```
 * @module
 */
import { Effect, Schema } from "effect"
import { InvalidBucketName } from "./errors.ts"

const reservedPrefixes = ["xn--", "sthree-", "amzn-s3-demo-"]
const reservedSuffixes = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]

/** Why `name` is not a valid bucket name, or `undefined`. */
export const bucketNameProblem = (name: unknown): string | undefined => {
  if (typeof name !== "string") return "a bucket name must be a string"
  if (name.length < 3 || name.length > 63) return "a bucket name has 3 to 63 characters"
  if (!/^[a-z0-9.-]+$/.test(name)) return "only lower-case letters, digits, \".\" and \"-\" are allowed"
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return "a bucket name starts and ends with a letter or digit"
  if (name.includes("..") || name.includes(".-") || name.includes("-.")) return "\"..\", \".-\" and \"-.\" are not allowed"
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return "a bucket name may not look like an IP address"
  if (reservedPrefixes.some((prefix) => name.startsWith(prefix))) return "the name starts with a reserved prefix"
  if (reservedSuffixes.some((suffix) => name.endsWith(suffix))) return "the name ends with a reserved suffix"
  return undefined
}

/** A valid bucket name. */
export const BucketName = Schema.String.check(Schema.makeFilter((name: string) => bucketNameProblem(name) ?? true)).pipe(
  Schema.brand("BucketName")
)
export type BucketName = typeof BucketName.Type

/** Succeeds with the branded name, or fails with `InvalidBucketName`. */
export const validateBucketName = (name: string): Effect.Effect<BucketName, InvalidBucketName> => {
  const reason = bucketNameProblem(name)
  return reason === undefined
    ? Effect.succeed(name as BucketName)
    : Effect.fail(new InvalidBucketName({ bucket: String(name), reason }))
}
