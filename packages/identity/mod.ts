/**
 * `@aquifer/identity`: one identity for every component. The `Identity` port (OIDC sign-in,
 * refresh, sign-out, bearer verification, service tokens), the authorization policy, the
 * repositories identity keeps in the metadata store (sessions, pending sign-ins, platform tokens,
 * the user directory, the embedded issuer's local accounts) with their in-memory layers, and the
 * use cases that resolve a request to a caller. `./testing` holds the conformance kits.
 * @module
 */
export * from "./authenticator.ts"
export * from "./identity.ts"
export * from "./issuer_state.ts"
export * from "./local_accounts.ts"
export * from "./manage_tokens.ts"
export * from "./pending_sign_ins.ts"
export * from "./platform_tokens.ts"
export * from "./policy.ts"
export * from "./return_to.ts"
export * from "./sessions.ts"
export * from "./users.ts"
export {
  layerIssuerStateMemory,
  layerLocalAccountsMemory,
  layerMemory,
  layerPendingSignInsMemory,
  layerPlatformTokensMemory,
  layerSessionsMemory,
  layerUsersMemory
} from "./memory.ts"
