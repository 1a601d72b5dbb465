import { homedir } from "node:os"
import { join } from "node:path"
import { Config, Duration, Effect, Schema } from "effect"

/** The all-in-one server's own settings; adapters read theirs in their `layerConfig`. */
export interface ServerConfig {
  readonly host: string
  readonly port: number
  readonly publicUrl: string | undefined
  readonly home: string
  readonly logLevel: "trace" | "debug" | "info" | "warn" | "error" | "fatal"
  readonly shutdownGraceMillis: number
}

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
  const grace = yield* Config.Duration("AQUIFER_SHUTDOWN_GRACE").pipe(Config.withDefault(Duration.seconds(10)))
  return {
    host,
    port,
    publicUrl: publicUrl._tag === "Some" ? publicUrl.value.toString().replace(/\/$/, "") : undefined,
    home,
    logLevel,
    shutdownGraceMillis: Duration.toMillis(grace)
  }
})
