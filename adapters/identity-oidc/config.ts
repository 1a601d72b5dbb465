import { Config, ConfigProvider, Effect, Layer, Option } from "effect"
import type { Role } from "@aquifer/core"
import { Identity } from "@aquifer/identity"
import { checkOptions, make, type OidcOptions } from "./oidc_identity.ts"

const list = (text: string): Array<string> => text.split(",").map((item) => item.trim()).filter((item) => item !== "")
const optionalList = (name: string) => Config.option(Config.String(name)).pipe(Config.map((value) => Option.map(value, list)))

/**
 * Reads the adapter's options from the environment (docs/configuration.md, "Identity").
 * `overrides` take precedence (the all-in-one passes its embedded issuer here). Fails with a
 * `ConfigError` naming the problem when the options cannot work.
 */
export const optionsFromConfig = (overrides: Partial<OidcOptions> = {}) =>
  Effect.gen(function*() {
    const issuer = overrides.issuer ?? (yield* Config.String("AQUIFER_OIDC_ISSUER"))
    const clientId = overrides.clientId ?? (yield* Config.String("AQUIFER_OIDC_CLIENT_ID").pipe(Config.withDefault("aquifer")))
    const profile = yield* Config.Literals(["generic", "keycloak"], "AQUIFER_OIDC_PROFILE").pipe(Config.withDefault("generic" as const))
    const rolesClaims = yield* optionalList("AQUIFER_OIDC_ROLES_CLAIM")
    const groupsClaim = yield* Config.option(Config.String("AQUIFER_OIDC_GROUPS_CLAIM"))
    const adminRoles = yield* optionalList("AQUIFER_OIDC_ADMIN_ROLES")
    const fullRoles = yield* optionalList("AQUIFER_OIDC_FULL_ROLES")
    const defaultRole = yield* Config.option(Config.Literals(["admin", "full", "visitor"], "AQUIFER_OIDC_DEFAULT_ROLE"))
    const trusted = yield* optionalList("AQUIFER_OIDC_TRUSTED_CLIENTS")
    const options: OidcOptions = {
      issuer,
      clientId,
      clientSecret: Option.getOrUndefined(yield* Config.option(Config.Redacted("AQUIFER_OIDC_CLIENT_SECRET"))),
      audience: Option.getOrUndefined(yield* optionalList("AQUIFER_OIDC_AUDIENCE")),
      trustedClients: Option.map(trusted, (names) => names.includes("*") ? "*" as const : names).pipe(Option.getOrUndefined),
      profile,
      algorithms: Option.getOrUndefined(yield* optionalList("AQUIFER_OIDC_ALGORITHMS")),
      scope: Option.getOrUndefined(yield* Config.option(Config.String("AQUIFER_OIDC_SCOPES"))),
      resource: Option.getOrUndefined(yield* Config.option(Config.String("AQUIFER_OIDC_RESOURCE"))),
      internalUrl: Option.getOrUndefined(yield* Config.option(Config.String("AQUIFER_OIDC_INTERNAL_URL"))),
      allowInsecureRequests: yield* Config.Boolean("AQUIFER_OIDC_ALLOW_HTTP").pipe(Config.withDefault(false)),
      clockSkewSeconds: yield* Config.Int("AQUIFER_OIDC_CLOCK_SKEW_SECONDS").pipe(Config.withDefault(30)),
      claims: {
        ...(Option.isSome(rolesClaims) ? { rolesClaims: rolesClaims.value } : {}),
        ...(Option.isSome(groupsClaim) ? { groupsClaim: groupsClaim.value } : {}),
        ...(Option.isSome(adminRoles) ? { adminRoles: adminRoles.value } : {}),
        ...(Option.isSome(fullRoles) ? { fullRoles: fullRoles.value } : {}),
        ...(Option.isSome(defaultRole) ? { defaultRole: defaultRole.value as Role } : {})
      },
      ...overrides
    }
    const problem = checkOptions(options)
    if (problem !== undefined) {
      return yield* Effect.fail(new Config.ConfigError(new ConfigProvider.SourceError({ message: problem })))
    }
    return options
  })

/** The Identity port over the OIDC issuer named by `AQUIFER_OIDC_*`. */
export const layerConfig = (overrides: Partial<OidcOptions> = {}): Layer.Layer<Identity, Config.ConfigError> =>
  Layer.effect(Identity, Effect.flatMap(optionsFromConfig(overrides), make))
