import type { Effect } from "effect"
import { IssuerRecord, type IssuerStateStore } from "@aquifer/identity"
import type { Adapter, AdapterPayload } from "oidc-provider"

export type Run = <A, E>(effect: Effect.Effect<A, E, IssuerStateStore>) => Promise<A>

/** oidc-provider's storage interface over the `IssuerStateStore` repository, one instance per model name. */
export const storageAdapter = (store: IssuerStateStore["Service"], run: Run) =>
  class StoreAdapter implements Adapter {
    readonly name: string
    constructor(name: string) {
      this.name = name
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      await run(store.put(new IssuerRecord({
        kind: this.name,
        id,
        payload: payload as Record<string, unknown>,
        grantId: payload.grantId,
        uid: payload.uid,
        userCode: payload.userCode,
        expiresAt: expiresIn ? new Date(Date.now() + expiresIn * 1000) : undefined
      })))
    }

    private found(record: IssuerRecord | undefined): AdapterPayload | undefined {
      if (record === undefined) return undefined
      const payload = record.payload as AdapterPayload
      return record.consumedAt === undefined ? payload : { ...payload, consumed: Math.floor(record.consumedAt.getTime() / 1000) }
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return this.found(await run(store.get(this.name, id, new Date())))
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.found(await run(store.findByUid(this.name, uid, new Date())))
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.found(await run(store.findByUserCode(this.name, userCode, new Date())))
    }

    async consume(id: string): Promise<void> {
      await run(store.consume(this.name, id, new Date()))
    }

    async destroy(id: string): Promise<void> {
      await run(store.delete(this.name, id))
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await run(store.deleteGrant(grantId))
    }
  }
