/**
 * `@aquifer/identity-oidc`: the `Identity` port over any OpenID Provider — Keycloak, another
 * issuer, or the one the all-in-one embeds. Discovery and the authorization code + PKCE,
 * refresh, revocation, RP-initiated logout and client credentials flows go through
 * `oauth4webapi`; access tokens are verified with `jose` against the issuer's JWKS (pinned
 * algorithms, exact issuer, audience, trusted clients, `exp`/`nbf` with a small skew).
 *
 * Config: `AQUIFER_OIDC_ISSUER`, `AQUIFER_OIDC_CLIENT_ID`, `AQUIFER_OIDC_CLIENT_SECRET`,
 * `AQUIFER_OIDC_PROFILE` (`generic` | `keycloak`), `AQUIFER_OIDC_AUDIENCE`,
 * `AQUIFER_OIDC_TRUSTED_CLIENTS`, `AQUIFER_OIDC_ALGORITHMS`, `AQUIFER_OIDC_SCOPES`,
 * `AQUIFER_OIDC_RESOURCE`, `AQUIFER_OIDC_ROLES_CLAIM`, `AQUIFER_OIDC_GROUPS_CLAIM`,
 * `AQUIFER_OIDC_ADMIN_ROLES`, `AQUIFER_OIDC_FULL_ROLES`, `AQUIFER_OIDC_DEFAULT_ROLE`,
 * `AQUIFER_OIDC_INTERNAL_URL`, `AQUIFER_OIDC_ALLOW_HTTP`, `AQUIFER_OIDC_CLOCK_SKEW_SECONDS`
 * (docs/configuration.md, docs/identity.md).
 * @module
 */
export { checkOptions, defaultAlgorithms, layer, make, type OidcOptions, profileClaims } from "./oidc_identity.ts"
export { layerConfig, optionsFromConfig } from "./config.ts"
export type { ClaimMapping } from "./_claims.ts"
