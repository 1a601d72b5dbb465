/**
 * RFC 9457 problem details. The `type` of every problem Aquifer returns is a stable URN,
 * `urn:aquifer:problem:<slug>`; clients branch on it (and on `status`), never on `title` or
 * `detail`. `docs/problems.md` lists every slug.
 *
 * @example
 * ```ts
 * import { NotFound, problemFromError } from "@aquifer/core"
 * problemFromError(new NotFound({ resource: "app", id: "x" }))
 * // { type: "urn:aquifer:problem:not-found", title: "Not found", status: 404, detail: "app x was not found" }
 * ```
 * @module
 */
import type { CoreError } from "./errors.ts"

/** An RFC 9457 problem, as serialised with content type `application/problem+json`. */
export interface Problem {
  readonly type: string
  readonly title: string
  readonly status: number
  readonly detail?: string | undefined
  readonly instance?: string | undefined
  readonly [extension: string]: unknown
}

export const problemContentType = "application/problem+json"

/** The stable type URN for a problem slug. */
export const problemType = (slug: string): string => `urn:aquifer:problem:${slug}`

/** One row of an app's error table: the tag's problem slug, title and HTTP status. */
export interface ProblemMapping {
  readonly slug: string
  readonly title: string
  readonly status: number
}

/** The mapping of the shared errors; apps extend it with their domains' tags. */
export const coreProblems: { readonly [Tag in CoreError["_tag"]]: ProblemMapping } = {
  InvalidInput: { slug: "invalid-input", title: "Invalid input", status: 400 },
  Unauthenticated: { slug: "unauthenticated", title: "Authentication required", status: 401 },
  Forbidden: { slug: "forbidden", title: "Forbidden", status: 403 },
  NotFound: { slug: "not-found", title: "Not found", status: 404 },
  AlreadyExists: { slug: "already-exists", title: "Already exists", status: 409 },
  Conflict: { slug: "conflict", title: "Conflict", status: 409 },
  LimitExceeded: { slug: "limit-exceeded", title: "Limit exceeded", status: 429 },
  Unavailable: { slug: "unavailable", title: "Service unavailable", status: 503 }
}

/** The problem for anything that is not a known error: no detail, never a stack trace. */
export const internalProblem: Problem = {
  type: problemType("internal"),
  title: "Internal error",
  status: 500
}

/**
 * Builds the problem for a tagged error from a mapping table. Unknown tags become the
 * internal problem: what a client sees of an unexpected failure is only that it happened.
 */
export const problemFromError = (
  error: { readonly _tag: string; readonly message?: string; readonly field?: string | undefined },
  table: { readonly [tag: string]: ProblemMapping } = coreProblems
): Problem => {
  const mapping = Object.hasOwn(table, error._tag) ? table[error._tag] : undefined
  if (mapping === undefined) return internalProblem
  const problem: { -readonly [K in keyof Problem]: Problem[K] } = {
    type: problemType(mapping.slug),
    title: mapping.title,
    status: mapping.status
  }
  if (error.message) problem.detail = error.message
  if (error.field) problem.field = error.field
  return problem
}
