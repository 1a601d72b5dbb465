/**
 * `@aquifer/blob`: the `BlobStore` port — streamed objects with byte ranges, listing, copy,
 * conditional writes and multipart uploads — its closed error set, the key rules every adapter
 * and the Drive share, listing and range helpers for adapters, and the in-memory store
 * (`layerMemory`). The conformance kit is `@aquifer/blob/testing`.
 * @module
 */
export * from "./blob_store.ts"
export * from "./body.ts"
export * from "./errors.ts"
export * from "./key.ts"
export * from "./listing.ts"
export * from "./memory.ts"
export * from "./range.ts"
