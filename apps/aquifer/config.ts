import { homedir } from "node:os"
import { join } from "node:path"
import { parseDuration } from "@aquifer/core"
import { Config, ConfigProvider, Effect, Schema } from "effect"

/** The all-in-one server's own settings; adapters read theirs in their `layerConfig`. */
export interface ServerConfig {
  readonly host: string
  readonly port: number
  readonly publicUrl: string | undefined
  readonly home: string
  readonly logLevel: "trace" | "debug" | "info" | "warn" | "error" | "fatal"
  readonly shutdownGraceMillis: number
}

/** A positive duration like `500ms`, `90s`, `15m`, `2h`, `1d`, in milliseconds. */
export const durationConfig = (name: string, fallback: string): Effect.Effect<number, Config.ConfigError> =>
  Effect.gen(function*() {
    const text = yield* Config.String(name).pipe(Config.withDefault(fallback))
    const millis = parseDuration(text)
    if (millis === undefined || millis <= 0) {
      return yield* Effect.fail(
        new Config.ConfigError(
          new ConfigProvider.SourceError({ message: `${name} must be a duration like 90s, 15m, 2h or 1d, not ${JSON.stringify(text)}` })
        )
      )
    }
    return millis
  })

export const serverConfig: Effect.Effect<ServerConfig, Config.ConfigError> = Effect.gen(function*() {
  const host = yield* Config.String("AQUIFER_HOST").pipe(Config.withDefault("127.0.0.1"))
  const port = yield* Config.schema(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 65535 })), "AQUIFER_PORT").pipe(
    Config.withDefault(8080)
  )
  const publicUrl = yield* Config.option(Config.URL("AQUIFER_PUBLIC_URL"))
  const home = yield* Config.String("AQUIFER_HOME").pipe(Config.withDefault(join(homedir(), ".aquifer")))
  const logLevel = yield* Config.Literals(["trace", "debug", "info", "warn", "error", "fatal"], "AQUIFER_LOG_LEVEL").pipe(
    Config.withDefault("info" as const)
  )
  const grace = yield* durationConfig("AQUIFER_SHUTDOWN_GRACE", "10s")
  return {
    host,
    port,
    publicUrl: publicUrl._tag === "Some" ? publicUrl.value.toString().replace(/\/$/, "") : undefined,
    home,
    logLevel,
    shutdownGraceMillis: grace
  }
})
