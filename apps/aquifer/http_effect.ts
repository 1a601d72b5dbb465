import { Cause, Effect, type ManagedRuntime } from "effect"
import type { Context } from "hono"
import { describeCause } from "./logging.ts"
import { problemOf, problemResponse } from "./problems.ts"

/** The bridge from a Hono handler to the app's runtime, shared by every route. */
export interface Runner<R> {
  /**
   * Runs `effect` with the request id in every log line, turning a typed failure into its
   * problem response and anything unexpected into a bare 500 (cause logged, never sent).
   */
  readonly run: <A, E extends { readonly _tag: string }>(
    c: Context,
    effect: Effect.Effect<A, E, R>,
    respond: (value: A) => Response | Promise<Response>,
    options?: { readonly quiet?: boolean }
  ) => Promise<Response>
}

export const makeRunner = <R>(runtime: ManagedRuntime.ManagedRuntime<R, unknown>): Runner<R> => ({
  run: async (c, effect, respond, options) => {
    const requestId = c.get("requestId") as string
    const exit = await runtime.runPromiseExit(effect.pipe(Effect.annotateLogs({ requestId })))
    if (exit._tag === "Success") return respond(exit.value)
    const failure = exit.cause.reasons.find(Cause.isFailReason)
    if (failure !== undefined) {
      const problem = problemOf(failure.error as { readonly _tag: string; readonly message?: string })
      if (problem.status >= 500 && options?.quiet !== true) {
        runtime.runFork(Effect.logError(`request failed: ${problem.detail ?? problem.title}`).pipe(Effect.annotateLogs({ requestId })))
      }
      return problemResponse(problem, requestId)
    }
    runtime.runFork(
      Effect.logError("unexpected failure").pipe(Effect.annotateLogs({ requestId, cause: describeCause(exit.cause) }))
    )
    return problemResponse(problemOf({ _tag: "Internal" }), requestId)
  }
})
