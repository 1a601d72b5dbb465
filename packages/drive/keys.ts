/**
 * Credentials for S3 clients: long-lived access keys a user creates, lists and revokes, and
 * temporary ones from STS `AssumeRoleWithWebIdentity` (MinIO's model: an OIDC access token in,
 * an access key, secret, session token and expiry out). `resolveAccessKey` turns the access key
 * id (and session token) of a signed request into the secret to verify the signature with and
 * the principal the request acts as.
 *
 * Temporary credentials are not stored, so they are revoked all at once per user:
 * `revokeTemporaryCredentials` records the time at or before which that user's session tokens no
 * longer count, and `resolveAccessKey` looks it up (one lookup by key) for every request signed
 * with temporary credentials.
 * @module
 */
import { Forbidden, InvalidInput, NotFound, now, nowMillis, type Principal } from "@aquifer/core"
import { can, type Caller } from "@aquifer/identity"
import { Effect } from "effect"
import { DriveCredentials, newAccessKeyId, newSecretAccessKey, type TemporaryCredentials } from "./credentials.ts"
import { ExpiredToken, InvalidAccessKeyId, InvalidToken } from "./errors.ts"
import { AccessKey, type AccessKeyInfo, maxAccessKeysPerUser } from "./model.ts"
import { AccessKeyRepository } from "./repositories.ts"
import { DriveSettings } from "./settings.ts"
import { WebIdentityVerifier } from "./web_identity.ts"

const infoOf = (key: AccessKey): AccessKeyInfo => ({ id: key.id, description: key.description, createdAt: key.createdAt })

/** A new long-lived key acting as the caller; the secret is returned this once and never again. */
export const createAccessKey = Effect.fn("Drive.createAccessKey")(function*(caller: Caller, description = "") {
  if (!can(caller, "create", { kind: "token" })) return yield* new Forbidden({ message: "you may not create access keys" })
  if (caller.scopes !== undefined) {
    return yield* new Forbidden({ message: "access keys are created with a full session, not a platform token" })
  }
  if (description.length > 256) return yield* new InvalidInput({ message: "a description has at most 256 characters", field: "description" })
  const repo = yield* AccessKeyRepository
  const existing = yield* repo.listByPrincipal(caller.principal.key)
  if (existing.length >= maxAccessKeysPerUser) {
    return yield* new InvalidInput({ message: `a user holds at most ${maxAccessKeysPerUser} access keys; revoke one first`, field: "description" })
  }
  const credentials = yield* DriveCredentials
  const id = newAccessKeyId("AQK")
  const secret = newSecretAccessKey()
  const key = new AccessKey({
    id,
    principal: caller.principal,
    description,
    createdAt: yield* now,
    sealedSecret: yield* credentials.seal(id, secret)
  })
  yield* repo.insert(key).pipe(Effect.catchTag("AlreadyExists", (error) => Effect.die(error)))
  return { ...infoOf(key), secretAccessKey: secret }
})

/** The caller's long-lived keys (never their secrets). */
export const listAccessKeys = Effect.fn("Drive.listAccessKeys")(function*(caller: Caller) {
  const repo = yield* AccessKeyRepository
  return (yield* repo.listByPrincipal(caller.principal.key)).map(infoOf)
})

/** Revokes a key of the caller's (or any key, for an admin); `NotFound` otherwise. */
export const revokeAccessKey = Effect.fn("Drive.revokeAccessKey")(function*(caller: Caller, id: string) {
  const repo = yield* AccessKeyRepository
  const key = yield* repo.get(id)
  if (key === undefined || !can(caller, "revoke", { kind: "token", id, owner: key.principal.key })) {
    return yield* new NotFound({ resource: "access-key", id })
  }
  yield* repo.remove(id)
})

/** What a signed request's credentials resolve to. */
export interface ResolvedKey {
  readonly secretAccessKey: string
  readonly principal: Principal
  /** Temporary credentials only. */
  readonly expiresAt?: Date | undefined
}

/**
 * The secret and principal of an access key id: long-lived (`AQK…`, from the repository) or
 * temporary (`AQT…`, from its session token). `InvalidAccessKeyId` for an unknown or revoked
 * key; `InvalidToken` for a temporary key without its own session token (or a long-lived one
 * with a token), and (`revoked`) for a session token issued at or before its user revoked their
 * temporary credentials; `ExpiredToken` once a temporary key expired.
 */
export const resolveAccessKey = Effect.fn("Drive.resolveAccessKey")(function*(accessKeyId: string, sessionToken: string | undefined) {
  const credentials = yield* DriveCredentials
  if (accessKeyId.startsWith("AQT")) {
    if (sessionToken === undefined || sessionToken === "") return yield* new InvalidToken()
    const session = yield* credentials.openSession(accessKeyId, sessionToken)
    if ((yield* nowMillis) >= session.expiresAt.getTime()) return yield* new ExpiredToken()
    const notBefore = yield* (yield* AccessKeyRepository).sessionsNotBefore(session.principal.key)
    if (notBefore !== undefined && session.issuedAt.getTime() <= notBefore.getTime()) return yield* new InvalidToken({ revoked: true })
    return { secretAccessKey: session.secretAccessKey, principal: session.principal, expiresAt: session.expiresAt } satisfies ResolvedKey
  }
  if (!/^AQK[A-Z2-7]{17}$/.test(accessKeyId)) return yield* new InvalidAccessKeyId({ accessKeyId: accessKeyId.slice(0, 64) })
  if (sessionToken !== undefined && sessionToken !== "") return yield* new InvalidToken()
  const key = yield* (yield* AccessKeyRepository).get(accessKeyId)
  if (key === undefined) return yield* new InvalidAccessKeyId({ accessKeyId })
  const secretAccessKey = yield* credentials.unseal(key.id, key.sealedSecret).pipe(
    Effect.catchTag("InvalidToken", () => Effect.fail(new InvalidAccessKeyId({ accessKeyId })))
  )
  return { secretAccessKey, principal: key.principal } satisfies ResolvedKey
})

/**
 * STS `AssumeRoleWithWebIdentity`: verifies the OIDC access token and returns temporary
 * credentials acting as its principal for `durationSeconds` (within the configured bounds;
 * the configured default when absent). `Unauthenticated` for a token that does not verify;
 * `InvalidInput` (field `DurationSeconds`) for a duration out of bounds.
 */
export const assumeRoleWithWebIdentity = Effect.fn("Drive.assumeRoleWithWebIdentity")(function*(input: {
  readonly webIdentityToken: string
  readonly durationSeconds?: number | undefined
}) {
  const { sts } = yield* DriveSettings
  const duration = input.durationSeconds ?? sts.defaultDurationSeconds
  if (!Number.isInteger(duration) || duration < sts.minDurationSeconds || duration > sts.maxDurationSeconds) {
    return yield* new InvalidInput({
      message: `DurationSeconds must be an integer from ${sts.minDurationSeconds} to ${sts.maxDurationSeconds}`,
      field: "DurationSeconds"
    })
  }
  const principal = yield* (yield* WebIdentityVerifier).verify(input.webIdentityToken)
  const issuedAt = yield* nowMillis
  const credentials: TemporaryCredentials = yield* (yield* DriveCredentials).issueSession(
    principal,
    new Date(issuedAt),
    new Date(issuedAt + duration * 1000)
  )
  return { credentials, principal }
})

/**
 * Revokes every temporary credential of the caller's issued until now, before they expire: from
 * now on a request signed with one is refused (`InvalidToken`, `revoked`), while credentials
 * issued afterwards, the caller's long-lived access keys and other users' credentials keep
 * working. Any signed-in caller may do it, for themselves only. Returns the time at or before
 * which the caller's temporary credentials no longer count.
 */
export const revokeTemporaryCredentials = Effect.fn("Drive.revokeTemporaryCredentials")(function*(caller: Caller) {
  return yield* (yield* AccessKeyRepository).revokeSessions(caller.principal.key, yield* now)
})

/** The time at or before which the caller's temporary credentials were revoked, if ever. */
export const temporaryCredentialsNotBefore = Effect.fn("Drive.temporaryCredentialsNotBefore")(function*(caller: Caller) {
  return yield* (yield* AccessKeyRepository).sessionsNotBefore(caller.principal.key)
})
