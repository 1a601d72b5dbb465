/**
 * The port STS needs from identity: turning an OIDC access token (the "web identity token")
 * into the `Principal` it stands for. The platform wires it to its `Identity` adapter's
 * bearer verification, so exactly the tokens the rest of Aquifer accepts are accepted here.
 * @module
 */
import { type Principal, Unauthenticated, type Unavailable } from "@aquifer/core"
import { Identity } from "@aquifer/identity"
import { Context, Effect, Layer } from "effect"

export class WebIdentityVerifier extends Context.Service<WebIdentityVerifier, {
  /**
   * The principal of a valid, unexpired access token of a trusted issuer; `Unauthenticated`
   * for anything else (malformed, expired, wrong audience or issuer, bad signature);
   * `Unavailable` when the issuer cannot be reached to verify it.
   */
  verify(token: string): Effect.Effect<Principal, Unauthenticated | Unavailable>
}>()("@aquifer/drive/WebIdentityVerifier") {}

/** The verifier backed by the platform's `Identity` port: exactly its access tokens are accepted. */
export const layerWebIdentityFromIdentity: Layer.Layer<WebIdentityVerifier, never, Identity> = Layer.effect(
  WebIdentityVerifier,
  Effect.gen(function*() {
    const identity = yield* Identity
    return WebIdentityVerifier.of({
      verify: (token) => Effect.map(identity.verifyAccessToken(token), (verified) => verified.principal)
    })
  })
)

/** A verifier that accepts no token: STS answers `InvalidIdentityToken` (no identity provider configured). */
export const layerNoWebIdentity: Layer.Layer<WebIdentityVerifier> = Layer.succeed(
  WebIdentityVerifier,
  WebIdentityVerifier.of({
    verify: () => Effect.fail(new Unauthenticated({ message: "no identity provider is configured for the Drive" }))
  })
)
