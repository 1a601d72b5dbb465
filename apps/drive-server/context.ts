// What every S3 operation handler gets: the parsed request, the caller, and a way to run a
// use case that turns its typed failures into S3 errors.
import type { BlobStore } from "@aquifer/blob"
import type {
  AccessKeyRepository,
  BucketRepository,
  DriveCredentials,
  UploadRepository,
  WebIdentityVerifier
} from "@aquifer/drive"
import type { Caller } from "@aquifer/identity"
import { Cause, type Effect, Exit, type ManagedRuntime } from "effect"
import type { Verification } from "./payload.ts"
import { S3Error } from "./s3_error.ts"
import { s3ErrorOf } from "./s3_errors.ts"

/** Every service the Drive's use cases need. */
export type DriveServices =
  | BlobStore
  | BucketRepository
  | AccessKeyRepository
  | UploadRepository
  | DriveCredentials
  | WebIdentityVerifier

export type DriveRuntime = ManagedRuntime.ManagedRuntime<DriveServices, unknown>

export interface S3Request {
  readonly method: string
  readonly rawPath: string
  readonly query: ReadonlyArray<[string, string]>
  readonly headers: Headers
  readonly host: string
  /** The raw body, read at most once. */
  readonly body: AsyncIterable<Uint8Array> | null
  readonly bucket: string | undefined
  readonly key: string | undefined
  readonly requestId: string
}

export interface S3Context {
  readonly request: S3Request
  readonly caller: Caller
  readonly verification: Verification | undefined
  readonly region: string
  /** The value of a query parameter (the first one of that name). */
  readonly param: (name: string) => string | undefined
  readonly has: (name: string) => boolean
  /** Runs a use case; a typed failure throws its S3Error. */
  readonly run: <A, E extends { readonly _tag: string }>(effect: Effect.Effect<A, E, DriveServices>) => Promise<A>
  /** The ETag as clients see it (quoted), and back. */
  readonly presentEtag: (etag: string) => string
  readonly acceptEtag: (etag: string) => string
  readonly now: () => number
}

/** Runs `effect` on `runtime`: success, an S3Error for a typed failure, or InternalError (logged). */
export const runWith = async <A, E extends { readonly _tag: string }>(
  runtime: DriveRuntime,
  effect: Effect.Effect<A, E, DriveServices>,
  onDefect: (cause: Cause.Cause<unknown>) => void
): Promise<A> => {
  const exit = await runtime.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) return exit.value
  const failure = exit.cause.reasons.find(Cause.isFailReason)
  if (failure !== undefined) throw s3ErrorOf(failure.error as unknown as { _tag: string })
  onDefect(exit.cause)
  throw new S3Error("InternalError", 500, "We encountered an internal error. Please try again.")
}
