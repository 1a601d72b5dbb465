/**
 * The error vocabulary every domain shares. Ports declare their own closed error sets
 * (e.g. `BlobNotFound`); these are the cross-cutting ones a use case raises when it is not
 * about a backend: bad input, missing rights, a record that is not there or changed under us.
 *
 * Apps map each tag to exactly one RFC 9457 problem type in one table per app (see
 * `problem.ts`), so a client can rely on `type` and `status` whatever the domain.
 * @module
 */
import { Schema } from "effect"

/** The input was malformed or violates a rule. `field` names what was wrong, when known. */
export class InvalidInput extends Schema.TaggedError<InvalidInput>()("InvalidInput", {
  message: Schema.String,
  field: Schema.optional(Schema.String)
}) {}

/** No credentials, or credentials that do not verify. Clients should sign in again. */
export class Unauthenticated extends Schema.TaggedError<Unauthenticated>()("Unauthenticated", {
  message: Schema.String
}) {}

/** The principal is known but may not do this. Never says whether the resource exists. */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", {
  message: Schema.String
}) {}

/** The resource does not exist, or the principal may not know that it does. */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  resource: Schema.String,
  id: Schema.String
}) {
  override get message(): string {
    return `${this.resource} ${this.id} was not found`
  }
}

/** A resource with this identity already exists. */
export class AlreadyExists extends Schema.TaggedError<AlreadyExists>()("AlreadyExists", {
  resource: Schema.String,
  id: Schema.String
}) {
  override get message(): string {
    return `${this.resource} ${this.id} already exists`
  }
}

/** An optimistic-concurrency or state conflict: re-read and try again, or give up. */
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", {
  message: Schema.String
}) {}

/** A quota or limit would be exceeded (instances per user, bytes per bucket…). */
export class LimitExceeded extends Schema.TaggedError<LimitExceeded>()("LimitExceeded", {
  message: Schema.String
}) {}

/** A backend the use case needs is not reachable now; retrying later may succeed. */
export class Unavailable extends Schema.TaggedError<Unavailable>()("Unavailable", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

/** The shared errors, as one union, for exhaustive mapping. */
export type CoreError =
  | InvalidInput
  | Unauthenticated
  | Forbidden
  | NotFound
  | AlreadyExists
  | Conflict
  | LimitExceeded
  | Unavailable

/**
 * True when `test` holds for `error` or anything it wraps — its `cause`, or the `errors` of an
 * aggregate — up to `depth` levels down. SDKs wrap a refused connection several times over;
 * adapters use this to recognise one however deep it is.
 */
export const someCause = (
  error: unknown,
  test: (shape: { readonly code?: unknown; readonly name?: unknown }) => boolean,
  depth = 4
): boolean => {
  if (typeof error !== "object" || error === null || depth < 0) return false
  const shape = error as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown }
  if (test(shape)) return true
  if (Array.isArray(shape.errors) && shape.errors.some((inner) => someCause(inner, test, depth - 1))) return true
  return someCause(shape.cause, test, depth - 1)
}
