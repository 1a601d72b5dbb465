/**
 * Time, always through Effect's `Clock`, so tests can move it with `TestClock` and no domain
 * code reads the wall clock directly.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { now } from "@aquifer/core"
 * const program = Effect.map(now, (date) => date.toISOString())
 * ```
 * @module
 */
import { Clock, Effect } from "effect"

/** The current time as a `Date`. */
export const now: Effect.Effect<Date> = Effect.map(Clock.currentTimeMillis, (millis) => new Date(millis))

/** The current time in epoch milliseconds. */
export const nowMillis: Effect.Effect<number> = Clock.currentTimeMillis

/** True when `deadline` (epoch ms) has passed. */
export const isPast = (deadline: number): Effect.Effect<boolean> =>
  Effect.map(Clock.currentTimeMillis, (millis) => millis >= deadline)

/** Parses a duration like `90s`, `15m`, `1h`, `2d` into milliseconds; `-1` means "never". */
export const parseDuration = (text: string): number | undefined => {
  const trimmed = text.trim()
  if (trimmed === "-1") return -1
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(trimmed)
  if (match === null) return undefined
  const value = Number(match[1])
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "ms" | "s" | "m" | "h" | "d"]
  return value * unit
}
