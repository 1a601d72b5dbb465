import { appstoreProblems } from "@aquifer/appstore"
import { coreProblems, type Problem, problemContentType, problemFromError, type ProblemMapping } from "@aquifer/core"

/**
 * The app's one error table: every domain error tag the HTTP surface can meet, mapped to one
 * RFC 9457 problem type (`urn:aquifer:problem:<slug>`) and status. Tags not listed become the
 * internal problem. docs/problems.md lists them for clients.
 */
export const problemTable: { readonly [tag: string]: ProblemMapping } = {
  ...coreProblems,
  ...appstoreProblems,
  MissingSecret: { slug: "missing-secret", title: "A required secret is missing", status: 422 },
  SecretCipherError: { slug: "secret-unreadable", title: "Secret cannot be read", status: 503 },
  RouteNotFound: { slug: "route-not-found", title: "No such route", status: 404 },
  MethodNotAllowed: { slug: "method-not-allowed", title: "Method not allowed", status: 405 },
  PayloadTooLarge: { slug: "payload-too-large", title: "Payload too large", status: 413 },
  NotReady: { slug: "not-ready", title: "Not ready", status: 503 },
  SignInFailed: { slug: "sign-in-failed", title: "Sign-in failed", status: 400 }
}

export const problemOf = (error: { readonly _tag: string; readonly message?: string }): Problem =>
  problemFromError(error, problemTable)

/** A problem+json response. */
export const problemResponse = (problem: Problem, requestId?: string): Response =>
  new Response(JSON.stringify(requestId === undefined ? problem : { ...problem, requestId }), {
    status: problem.status,
    headers: { "content-type": problemContentType, "cache-control": "no-store" }
  })
