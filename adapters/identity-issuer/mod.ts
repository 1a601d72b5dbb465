/**
 * `@aquifer/identity-issuer`: the OpenID Provider the all-in-one runs for itself — `oidc-provider`
 * mounted under `/oidc` of the platform's own origin, with its own sign-in page, accounts with
 * scrypt-hashed passwords in the metadata store, a first administrator whose one-time password
 * is printed once, and its keys and state kept in the metadata store across restarts. The
 * platform talks to it through `@aquifer/identity-oidc`, as to any issuer.
 *
 * Config: `AQUIFER_ADMIN_USERNAME`, `AQUIFER_ADMIN_PASSWORD` (docs/configuration.md, docs/identity.md).
 * @module
 */
export { EmbeddedIssuer, type EmbeddedIssuerOptions, layer, make, resourceIndicator } from "./embedded_issuer.ts"
export { layerConfig } from "./config.ts"
export { createAccount, NewAccount, setPassword } from "./accounts.ts"
