/**
 * `@aquifer/core`: what every Aquifer domain shares. Branded ids, the `Principal`, cursor
 * pagination, the shared error vocabulary and its RFC 9457 mapping, and time via `Clock`.
 * @module
 */
export * from "./clock.ts"
export * from "./digest.ts"
export * from "./errors.ts"
export * from "./ids.ts"
export * from "./pagination.ts"
export * from "./principal.ts"
export * from "./problem.ts"
