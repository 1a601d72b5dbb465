/**
 * The audit log conformance kit. Every implementation runs it in one line:
 *
 * ```ts
 * import { suite } from "@aquifer/audit/testing"
 * suite("postgres", myAuditLogLayer)
 * ```
 *
 * The layer is built once for the whole suite and may already hold events (a shared database):
 * each case works with actors and resources of its own, so cases never see each other's rows.
 * @module
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { randomId } from "@aquifer/core"
import { TestClock } from "effect/testing"
import { AuditLog, maxDetailsLength } from "./audit_log.ts"

export const suite = <E>(name: string, auditLayer: Layer.Layer<AuditLog, E>): void => {
  describe(`AuditLog conformance: ${name}`, () => {
    layer(auditLayer, { timeout: 120_000 })((it) => {
      const actor = () => `https://issuer.test#${randomId("u")}`

      it.effect("records an event and lists it back with every field intact", () =>
        Effect.gen(function*() {
          const audit = yield* AuditLog
          const who = actor()
          yield* TestClock.setTime(Date.UTC(2026, 11, 6, 12, 0, 0, 123))
          const recorded = yield* audit.record({
            actor: who,
            action: "app.import",
            resource: { kind: "app", id: "wine-quality" },
            requestId: "req-1",
            details: { version: "1.2.0", bytes: 4096, public: false, note: "ünïcødé ✓ 日本" }
          })
          assert.strictEqual(recorded.outcome, "success")
          assert.strictEqual(recorded.at.toISOString(), "2026-12-06T12:00:00.123Z")
          const page = yield* audit.list({ actor: who })
          assert.strictEqual(page.items.length, 1)
          assert.deepStrictEqual(page.items[0], recorded)
          assert.isUndefined(page.next)
        }))

      it.effect("lists newest first and filters by action, resource and time window", () =>
        Effect.gen(function*() {
          const audit = yield* AuditLog
          const who = actor()
          yield* TestClock.setTime(Date.UTC(2026, 0, 1))
          const first = yield* audit.record({ actor: who, action: "instance.launch", resource: { kind: "instance", id: "a" } })
          yield* TestClock.adjust(1000)
          const second = yield* audit.record({
            actor: who,
            action: "instance.stop",
            resource: { kind: "instance", id: "a" },
            outcome: "denied"
          })
          yield* TestClock.adjust(1000)
          const third = yield* audit.record({ actor: who, action: "instance.launch", resource: { kind: "instance", id: "b" } })

          const all = yield* audit.list({ actor: who })
          assert.deepStrictEqual(all.items.map((e) => e.id), [third.id, second.id, first.id])
          const launches = yield* audit.list({ actor: who, action: "instance.launch" })
          assert.deepStrictEqual(launches.items.map((e) => e.id), [third.id, first.id])
          const onA = yield* audit.list({ actor: who, resourceKind: "instance", resourceId: "a" })
          assert.deepStrictEqual(onA.items.map((e) => e.id), [second.id, first.id])
          assert.strictEqual(onA.items[0]!.outcome, "denied")
          const window = yield* audit.list({ actor: who, since: second.at, until: third.at })
          assert.deepStrictEqual(window.items.map((e) => e.id), [second.id])
        }))

      it.effect("walks every event exactly once across pages, even with equal timestamps", () =>
        Effect.gen(function*() {
          const audit = yield* AuditLog
          const who = actor()
          yield* TestClock.setTime(Date.UTC(2026, 5, 1))
          const ids = new Set<string>()
          for (let i = 0; i < 250; i++) {
            if (i % 3 === 0) yield* TestClock.adjust(1)
            const event = yield* audit.record({ actor: who, action: "object.put", resource: { kind: "object", id: `k${i}` } })
            ids.add(event.id)
          }
          const seen: Array<string> = []
          let cursor: string | undefined
          let pages = 0
          do {
            const page = yield* audit.list({ actor: who, limit: 40, cursor })
            seen.push(...page.items.map((e) => e.id))
            cursor = page.next
            pages++
          } while (cursor !== undefined && pages < 100)
          assert.strictEqual(pages, 7)
          assert.strictEqual(seen.length, 250)
          assert.deepStrictEqual(new Set(seen), ids)
        }))

      it.effect("keeps every event of concurrent writers", () =>
        Effect.gen(function*() {
          const audit = yield* AuditLog
          const who = actor()
          yield* Effect.forEach(
            Array.from({ length: 40 }, (_, i) => i),
            (i) => audit.record({ actor: who, action: "secret.read", resource: { kind: "secret", id: `s${i}` } }),
            { concurrency: 8 }
          )
          const page = yield* audit.list({ actor: who, limit: 100 })
          assert.strictEqual(page.items.length, 40)
        }))

      it.effect("refuses invalid events and forged cursors with InvalidInput, writing nothing", () =>
        Effect.gen(function*() {
          const audit = yield* AuditLog
          const who = actor()
          const bad = [
            { actor: who, action: "Not A Verb", resource: { kind: "app", id: "x" } },
            { actor: "", action: "app.import", resource: { kind: "app", id: "x" } },
            { actor: who, action: "app.import", resource: { kind: "app", id: "" } },
            { actor: who, action: "app.import", resource: { kind: "app", id: "x" }, outcome: "maybe" },
            { actor: who, action: "app.import", resource: { kind: "app", id: "x" }, details: { big: "x".repeat(maxDetailsLength) } },
            { actor: who, action: "app.import", resource: { kind: "app", id: "x" }, details: { nested: { no: 1 } } }
          ]
          for (const event of bad) {
            const error = yield* Effect.flip(audit.record(event as never))
            assert.strictEqual(error._tag, "InvalidInput", JSON.stringify(event).slice(0, 80))
          }
          assert.strictEqual((yield* audit.list({ actor: who })).items.length, 0)
          for (const cursor of ["garbage", "eyJ4IjoxfQ", "' OR 1=1 --"]) {
            const error = yield* Effect.flip(audit.list({ actor: who, cursor }))
            assert.strictEqual(error._tag, "InvalidInput")
          }
        }))

      it.effect("treats filter values as data, never as query syntax", () =>
        Effect.gen(function*() {
          const audit = yield* AuditLog
          const who = `${actor()}' OR '1'='1`
          yield* audit.record({ actor: who, action: "app.delete", resource: { kind: "app", id: "%" } })
          assert.strictEqual((yield* audit.list({ actor: who })).items.length, 1)
          assert.strictEqual((yield* audit.list({ actor: who, resourceId: "x%" })).items.length, 0)
          assert.strictEqual((yield* audit.list({ actor: "' OR '1'='1" })).items.length, 0)
        }))
    })
  })
}
