import { Cause, Layer, Logger } from "effect"
import pino from "pino"

/**
 * One JSON object per line on stdout, for the access log and for every Effect log alike.
 * Credentials never reach a line: the usual header and field names are redacted.
 */
export const makeLog = (level: string, destination?: pino.DestinationStream) =>
  pino(
    {
      level,
      base: { service: "aquifer" },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: "msg",
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ["authorization", "cookie", "password", "secret", "token", "*.authorization", "*.cookie", "*.password", "*.token"],
        censor: "[redacted]"
      }
    },
    destination ?? pino.destination({ dest: 1, sync: false })
  )

export type Log = ReturnType<typeof makeLog>

const levels = { Trace: "trace", Debug: "debug", Info: "info", Warn: "warn", Warning: "warn", Error: "error", Fatal: "fatal" } as const

/** Routes Effect's logs (with their annotations, e.g. `requestId`) into the JSON log. */
export const effectLogger = (log: Log) =>
  Logger.layer([
    Logger.map(Logger.formatStructured, (entry) => {
      const level = levels[entry.level.charAt(0) + entry.level.slice(1).toLowerCase() as keyof typeof levels] ?? "info"
      const fields: Record<string, unknown> = { ...entry.annotations }
      if (entry.cause !== undefined) fields.cause = entry.cause
      log[level](fields, typeof entry.message === "string" ? entry.message : JSON.stringify(entry.message))
    })
  ])

/** A short, single-line description of a failure cause, for error logs. */
export const describeCause = (cause: Cause.Cause<unknown>): string => Cause.pretty(cause).split("\n").slice(0, 12).join("\n")

export const loggerLayer = (log: Log): Layer.Layer<never> => effectLogger(log)
