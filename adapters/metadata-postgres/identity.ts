import { Layer } from "effect"
import { layerIssuerStateStore } from "./issuer_state.ts"
import { layerLocalAccountStore } from "./local_accounts.ts"
import { layerPendingSignInStore } from "./pending_sign_ins.ts"
import { layerPlatformTokenStore } from "./platform_tokens.ts"
import { layerSessionStore } from "./sessions.ts"
import { layerUserDirectory } from "./users.ts"

/** Every identity repository on the metadata database (migrations 0100-0101). */
export const layerIdentityRepositories = Layer.mergeAll(
  layerSessionStore,
  layerPendingSignInStore,
  layerPlatformTokenStore,
  layerUserDirectory,
  layerLocalAccountStore,
  layerIssuerStateStore
)
