import { Effect } from "effect"
import type { Unavailable } from "@aquifer/core"
import type { SqlError } from "./database.ts"

/** Maps a unique violation (SQLSTATE 23505) to `onDuplicate`; any other SQL failure is a defect. */
export const uniqueOr = <A, E, R>(
  effect: Effect.Effect<A, Unavailable | SqlError, R>,
  onDuplicate: () => E
): Effect.Effect<A, E | Unavailable, R> =>
  Effect.catchTag(effect, "SqlError", (error) => error.code === "23505" ? Effect.fail(onDuplicate()) : Effect.die(error))
