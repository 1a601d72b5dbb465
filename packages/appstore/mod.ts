/**
 * `@aquifer/appstore`: the App Store domain. `app.toml` decoding, bundles (`BundleReader`),
 * the catalog of apps, versions, tags and aliases (`AppCatalog`, with `layerMemory`), app
 * instances as Scheduler workloads (`AppLauncher` builds their runnable part), and the use
 * cases. `./testing` holds the `AppCatalog` conformance kit.
 * @module
 */
export * from "./bundle.ts"
export * from "./catalog.ts"
export * from "./errors.ts"
export * from "./manifest.ts"
export * from "./memory.ts"
export * from "./semver.ts"
export * from "./instances.ts"
export * from "./launcher.ts"
export * from "./settings.ts"
export * from "./store.ts"
