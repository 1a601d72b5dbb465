import { Config, ConfigProvider, Effect, Layer, Option, Redacted } from "effect"
import type { IssuerStateStore, LocalAccountStore } from "@aquifer/identity"
import { EmbeddedIssuer, type EmbeddedIssuerOptions, make } from "./embedded_issuer.ts"
import { passwordProblem } from "./_passwords.ts"

/**
 * The embedded issuer for the platform reached at `publicUrl`, with the first administrator from
 * `AQUIFER_ADMIN_USERNAME` (default `admin`) and `AQUIFER_ADMIN_PASSWORD` (unset: a one-time
 * password is printed once at first start).
 */
export const layerConfig = (
  publicUrl: string,
  overrides: Partial<EmbeddedIssuerOptions> = {}
): Layer.Layer<EmbeddedIssuer, Config.ConfigError, IssuerStateStore | LocalAccountStore> =>
  Layer.effect(
    EmbeddedIssuer,
    Effect.gen(function*() {
      const username = yield* Config.String("AQUIFER_ADMIN_USERNAME").pipe(Config.withDefault("admin"))
      const password = yield* Config.option(Config.Redacted("AQUIFER_ADMIN_PASSWORD"))
      const problem = Option.isSome(password) ? passwordProblem(Redacted.value(password.value), username) : undefined
      if (problem !== undefined) {
        return yield* Effect.fail(new Config.ConfigError(new ConfigProvider.SourceError({ message: `AQUIFER_ADMIN_PASSWORD is refused: ${problem}` })))
      }
      return yield* make({ publicUrl, admin: { username, password: Option.getOrUndefined(password) }, ...overrides })
    })
  )
