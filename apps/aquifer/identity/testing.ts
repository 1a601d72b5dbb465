/**
 * Identity for the app's tests: a real embedded issuer with a known administrator, users made on
 * demand, and a browser that signs in through the real sign-in page. Any domain's route test can
 * use it to act as an admin, a full user or a visitor.
 *
 * ```ts
 * const server = await startTestServer()
 * const alice = await addTestUser(server.runtime, { username: "alice", roles: ["full"] })
 * const session = await signInAs(server.url, "alice", alice)
 * await session.browser.request(`${server.url}/api/v1/me`)
 * ```
 */
import { Effect, type ManagedRuntime, Redacted } from "effect"
import type { Role } from "@aquifer/core"
import type { LocalAccountStore } from "@aquifer/identity"
import { createAccount, setPassword } from "@aquifer/identity-issuer"
import { Browser } from "../../../scripts/testing/browser.ts"
import { identityLayer, type IdentityOptions } from "./layer.ts"

export { Browser }

/** The administrator every test server starts with. */
export const testAdmin = { username: "admin", password: "test-Root-passphrase-1" } as const

/** Identity for a test server listening on `port` of 127.0.0.1, with the embedded issuer. */
export const identityTestLayer = (port: number, overrides: Partial<IdentityOptions> = {}) =>
  identityLayer({
    publicUrl: `http://127.0.0.1:${port}`,
    internalUrl: `http://127.0.0.1:${port}`,
    ...overrides,
    issuer: { admin: { username: testAdmin.username, password: Redacted.make(testAdmin.password) }, ...overrides.issuer }
  })

/** Creates an account at the embedded issuer; returns its password. */
export const addTestUser = (
  runtime: ManagedRuntime.ManagedRuntime<LocalAccountStore, unknown>,
  input: { readonly username: string; readonly roles: ReadonlyArray<Role>; readonly email?: string; readonly groups?: ReadonlyArray<string>; readonly name?: string }
): Promise<string> => {
  const password = `Correct-Horse-${crypto.randomUUID().slice(0, 8)}`
  return runtime.runPromise(Effect.gen(function*() {
    const { account } = yield* createAccount({ name: input.username, ...input })
    yield* setPassword(account.subject, Redacted.make(password))
    return password
  }))
}

/** Waits until the embedded issuer answers (it loads its keys from the database after start). */
export const issuerReady = async (origin: string, timeoutMs = 30_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const response = await fetch(`${origin}/oidc/.well-known/openid-configuration`).catch(() => undefined)
    await response?.body?.cancel()
    if (response?.status === 200) return
    if (Date.now() > deadline) throw new Error(`the embedded issuer at ${origin}/oidc did not get ready in ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * Signs in through `/auth/login` and the issuer's real sign-in page. Returns the browser (its
 * jar holds the session cookie) and where the platform finally sent it.
 */
export const signInAs = async (origin: string, username: string, password: string, returnTo = "/after-sign-in") => {
  await issuerReady(origin)
  const browser = new Browser()
  const start = `${origin}/auth/login?returnTo=${encodeURIComponent(returnTo)}`
  // Stop at the first redirect that leaves the sign-in machinery: where the platform sends us.
  const landed = await browser.drive(start, (url) => {
    const path = new URL(url).pathname
    return !path.startsWith("/oidc") && !path.startsWith("/auth/")
  }, (fields) => fields.includes("username") ? { username, password } : undefined)
  return { browser, landed }
}
