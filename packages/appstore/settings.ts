/**
 * The App Store's settings, read once from configuration by the app that wires it
 * (see docs/configuration.md, "App Store and router").
 * @module
 */
import { Context, type Redacted } from "effect"
import { type BundleLimits, defaultBundleLimits } from "./bundle.ts"

/** OIDC client settings handed to apps that set `EnableOIDC`, so `waved` signs users in itself. */
export interface AppOidcSettings {
  readonly providerUrl: string
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  /** Where the issuer's end-session endpoint is, when it has one. */
  readonly endSessionUrl?: string | undefined
}

export interface AppStoreConfig {
  /** The URL users reach the platform at, without a trailing slash (`H2O_CLOUD_ENVIRONMENT`). */
  readonly publicUrl: string
  /** Instances (running or suspended) one user may have at once. */
  readonly maxInstancesPerUser: number
  /** The same for principals holding only the visitor role. */
  readonly maxInstancesPerVisitor: number
  readonly bundleLimits: BundleLimits
  readonly oidc?: AppOidcSettings | undefined
}

export class AppStoreSettings extends Context.Service<AppStoreSettings, AppStoreConfig>()("@aquifer/appstore/AppStoreSettings") {}

export const defaultAppStoreConfig: AppStoreConfig = {
  publicUrl: "http://127.0.0.1:8080",
  maxInstancesPerUser: 10,
  maxInstancesPerVisitor: 2,
  bundleLimits: defaultBundleLimits
}
