import { Effect, Layer, Redacted } from "effect"
import { AlreadyExists } from "@aquifer/core"
import { PendingSignIn, PendingSignInStore } from "@aquifer/identity"
import { Database, orDieSql } from "./database.ts"
import { uniqueOr } from "./_unique.ts"

interface Row {
  readonly state: string
  readonly binding_hash: string
  readonly nonce: string
  readonly code_verifier: string
  readonly return_to: string
  readonly created_at: Date
  readonly expires_at: Date
}

/** Pending sign-ins in the metadata database (table `identity_sign_ins`, migration 0100). */
export const layerPendingSignInStore: Layer.Layer<PendingSignInStore, never, Database> = Layer.effect(
  PendingSignInStore,
  Effect.gen(function*() {
    const db = yield* Database
    return PendingSignInStore.of({
      put: (a) =>
        uniqueOr(
          db.use((sql) =>
            sql`insert into identity_sign_ins (state, binding_hash, nonce, code_verifier, return_to, created_at, expires_at)
              values (${a.state}, ${a.bindingHash}, ${a.nonce}, ${Redacted.value(a.codeVerifier)}, ${a.returnTo}, ${a.createdAt}, ${a.expiresAt})`
          ),
          () => new AlreadyExists({ resource: "sign-in", id: "state" })
        ).pipe(Effect.asVoid),
      // One statement: the row is handed out and gone atomically, so a raced or replayed state finds nothing.
      take: (state, bindingHash) =>
        orDieSql(db.use((sql) =>
          sql<Array<Row>>`delete from identity_sign_ins where state = ${state} and binding_hash = ${bindingHash} returning *`
        )).pipe(Effect.map((rows) => {
          const row = rows[0]
          return row === undefined ? undefined : new PendingSignIn({
            state: row.state,
            bindingHash: row.binding_hash,
            nonce: row.nonce,
            codeVerifier: Redacted.make(row.code_verifier),
            returnTo: row.return_to,
            createdAt: row.created_at,
            expiresAt: row.expires_at
          })
        })),
      deleteExpired: (now) =>
        orDieSql(db.use((sql) => sql`delete from identity_sign_ins where expires_at <= ${now}`)).pipe(Effect.map((r) => r.count))
    })
  })
)
