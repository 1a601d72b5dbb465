/**
 * `@aquifer/audit`: the audit log port, its in-memory implementation, and (in `./testing`)
 * the conformance kit every implementation passes.
 * @module
 */
export * from "./audit_log.ts"
export { layerMemory } from "./memory.ts"
/** Cursor helpers shared by SQL implementations, so cursors are interchangeable. */
export { cursorOf, readCursor, stamp } from "./_shared.ts"
