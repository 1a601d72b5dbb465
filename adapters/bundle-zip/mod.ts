/**
 * `@aquifer/bundle-zip`: the `BundleReader` port for zip bundles (`layer`), and
 * `extractBundle`, which unpacks a bundle with the same checks (used by the local launcher).
 * @module
 */
export { layer } from "./bundle_reader.ts"
export { extractBundle, ZipRefused } from "./extract.ts"
