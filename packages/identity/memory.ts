import { Effect, Layer } from "effect"
import { AlreadyExists, Conflict, newUserId, NotFound, type Principal } from "@aquifer/core"
import { IssuerRecord, IssuerStateStore } from "./issuer_state.ts"
import { LocalAccount, LocalAccountStore } from "./local_accounts.ts"
import { type PendingSignIn, PendingSignInStore } from "./pending_sign_ins.ts"
import { PlatformToken, PlatformTokenStore } from "./platform_tokens.ts"
import { Session, SessionStore } from "./sessions.ts"
import { User, UserDirectory } from "./users.ts"

const endOf = (session: Session): number =>
  Math.min(session.revokedAt?.getTime() ?? Infinity, session.idleExpiresAt.getTime(), session.absoluteExpiresAt.getTime())

/** Sessions in memory, for unit tests and single-process experiments. Passes the kit. */
export const layerSessionsMemory: Layer.Layer<SessionStore> = Layer.sync(SessionStore, () => {
  const rows = new Map<string, Session>()
  const replace = (session: Session, patch: Partial<Session>) => {
    const next = new Session({ ...session, ...patch })
    rows.set(session.id, next)
    return next
  }
  return SessionStore.of({
    create: (session) =>
      Effect.suspend(() => {
        if (rows.has(session.id) || [...rows.values()].some((row) => row.secretHash === session.secretHash)) {
          return Effect.fail(new AlreadyExists({ resource: "session", id: session.id }))
        }
        rows.set(session.id, session)
        return Effect.void
      }),
    get: (id) => Effect.sync(() => rows.get(id)),
    findBySecretHash: (hash) => Effect.sync(() => [...rows.values()].find((row) => row.secretHash === hash)),
    updateTokens: (id, expectedVersion, tokens) =>
      Effect.suspend((): Effect.Effect<Session, Conflict | NotFound> => {
        const row = rows.get(id)
        if (row === undefined) return Effect.fail(new NotFound({ resource: "session", id }))
        if (row.version !== expectedVersion || row.revokedAt !== undefined) {
          return Effect.fail(new Conflict({ message: `session ${id} changed since version ${expectedVersion}` }))
        }
        return Effect.succeed(replace(row, {
          principal: tokens.principal,
          accessToken: tokens.accessToken,
          accessTokenExpiresAt: tokens.accessTokenExpiresAt,
          refreshToken: tokens.refreshToken ?? row.refreshToken,
          idToken: tokens.idToken ?? row.idToken,
          version: row.version + 1
        }))
      }),
    touch: (id, lastSeenAt, idleExpiresAt) =>
      Effect.sync(() => {
        const row = rows.get(id)
        if (row !== undefined && row.revokedAt === undefined) replace(row, { lastSeenAt, idleExpiresAt })
      }),
    revoke: (id, at) =>
      Effect.sync(() => {
        const row = rows.get(id)
        if (row === undefined || row.revokedAt !== undefined) return false
        replace(row, { revokedAt: at })
        return true
      }),
    revokeAllOf: (key, at) =>
      Effect.sync(() => {
        let count = 0
        for (const row of rows.values()) {
          if (row.principal.key === key && row.revokedAt === undefined) {
            replace(row, { revokedAt: at })
            count++
          }
        }
        return count
      }),
    deleteEnded: (before) =>
      Effect.sync(() => {
        let count = 0
        for (const row of rows.values()) {
          if (endOf(row) < before.getTime()) {
            rows.delete(row.id)
            count++
          }
        }
        return count
      })
  })
})

/** Pending sign-ins in memory. Passes the kit. */
export const layerPendingSignInsMemory: Layer.Layer<PendingSignInStore> = Layer.sync(PendingSignInStore, () => {
  const rows = new Map<string, PendingSignIn>()
  return PendingSignInStore.of({
    put: (attempt) =>
      Effect.suspend(() => {
        if (rows.has(attempt.state)) return Effect.fail(new AlreadyExists({ resource: "sign-in", id: "state" }))
        rows.set(attempt.state, attempt)
        return Effect.void
      }),
    take: (state, bindingHash) =>
      Effect.sync(() => {
        const row = rows.get(state)
        if (row === undefined || row.bindingHash !== bindingHash) return undefined
        rows.delete(state)
        return row
      }),
    deleteExpired: (now) =>
      Effect.sync(() => {
        let count = 0
        for (const row of rows.values()) {
          if (row.expiresAt.getTime() <= now.getTime()) {
            rows.delete(row.state)
            count++
          }
        }
        return count
      })
  })
})

/** Platform tokens in memory. Passes the kit. */
export const layerPlatformTokensMemory: Layer.Layer<PlatformTokenStore> = Layer.sync(PlatformTokenStore, () => {
  const rows = new Map<string, PlatformToken>()
  const newestFirst = (a: PlatformToken, b: PlatformToken) =>
    b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
  return PlatformTokenStore.of({
    create: (token) =>
      Effect.suspend(() => {
        const clash = rows.has(token.id) || [...rows.values()].some((row) =>
          row.secretHash === token.secretHash ||
          (row.owner === token.owner && row.name === token.name && row.revokedAt === undefined)
        )
        if (clash) return Effect.fail(new AlreadyExists({ resource: "token", id: token.name }))
        rows.set(token.id, token)
        return Effect.void
      }),
    get: (id) => Effect.sync(() => rows.get(id)),
    findBySecretHash: (hash) => Effect.sync(() => [...rows.values()].find((row) => row.secretHash === hash)),
    list: (owner, options) =>
      Effect.sync(() =>
        [...rows.values()]
          .filter((row) => row.owner === owner && (options?.includeRevoked === true || row.revokedAt === undefined))
          .sort(newestFirst)
      ),
    revoke: (id, at) =>
      Effect.sync(() => {
        const row = rows.get(id)
        if (row === undefined || row.revokedAt !== undefined) return false
        rows.set(id, new PlatformToken({ ...row, revokedAt: at }))
        return true
      }),
    touch: (id, at) =>
      Effect.sync(() => {
        const row = rows.get(id)
        if (row !== undefined && row.revokedAt === undefined) rows.set(id, new PlatformToken({ ...row, lastUsedAt: at }))
      })
  })
})

/** The user directory in memory. Passes the kit. */
export const layerUsersMemory: Layer.Layer<UserDirectory> = Layer.sync(UserDirectory, () => {
  const rows = new Map<string, User>()
  return UserDirectory.of({
    record: (principal: Principal, at: Date) =>
      Effect.sync(() => {
        const existing = rows.get(principal.key)
        const user = new User({
          id: existing?.id ?? newUserId(),
          issuer: principal.issuer,
          subject: principal.subject,
          name: principal.name,
          email: principal.email,
          groups: principal.groups,
          roles: principal.roles,
          createdAt: existing?.createdAt ?? at,
          lastSeenAt: at
        })
        rows.set(principal.key, user)
        return user
      }),
    get: (key) => Effect.sync(() => rows.get(key))
  })
})

/** Local accounts of the embedded issuer in memory. Passes the kit. */
export const layerLocalAccountsMemory: Layer.Layer<LocalAccountStore> = Layer.sync(LocalAccountStore, () => {
  const rows = new Map<string, LocalAccount>()
  const byUsername = (username: string) => [...rows.values()].find((row) => row.username === username.toLowerCase())
  return LocalAccountStore.of({
    create: (account) =>
      Effect.suspend(() => {
        if (rows.has(account.subject) || byUsername(account.username) !== undefined) {
          return Effect.fail(new AlreadyExists({ resource: "account", id: account.username }))
        }
        rows.set(account.subject, new LocalAccount({ ...account, username: account.username.toLowerCase() }))
        return Effect.void
      }),
    get: (subject) => Effect.sync(() => rows.get(subject)),
    findByUsername: (username) => Effect.sync(() => byUsername(username)),
    setPassword: (subject, passwordHash, mustChangePassword, at) =>
      Effect.suspend(() => {
        const row = rows.get(subject)
        if (row === undefined) return Effect.fail(new NotFound({ resource: "account", id: subject }))
        rows.set(subject, new LocalAccount({ ...row, passwordHash, mustChangePassword, updatedAt: at }))
        return Effect.void
      }),
    count: () => Effect.sync(() => rows.size)
  })
})

/** The embedded issuer's state in memory. Passes the kit. */
export const layerIssuerStateMemory: Layer.Layer<IssuerStateStore> = Layer.sync(IssuerStateStore, () => {
  const rows = new Map<string, IssuerRecord>()
  const key = (kind: string, id: string) => `${kind}\u0000${id}`
  const live = (row: IssuerRecord | undefined, now: Date) =>
    row !== undefined && (row.expiresAt === undefined || row.expiresAt.getTime() > now.getTime()) ? row : undefined
  const findBy = (kind: string, now: Date, match: (row: IssuerRecord) => boolean) =>
    Effect.sync(() => {
      for (const row of rows.values()) if (row.kind === kind && match(row) && live(row, now)) return row
      return undefined
    })
  return IssuerStateStore.of({
    put: (record) => Effect.sync(() => void rows.set(key(record.kind, record.id), record)),
    get: (kind, id, now) => Effect.sync(() => live(rows.get(key(kind, id)), now)),
    findByUid: (kind, uid, now) => findBy(kind, now, (row) => row.uid === uid),
    findByUserCode: (kind, userCode, now) => findBy(kind, now, (row) => row.userCode === userCode),
    consume: (kind, id, at) =>
      Effect.sync(() => {
        const row = live(rows.get(key(kind, id)), at)
        if (row === undefined || row.consumedAt !== undefined) return false
        rows.set(key(kind, id), new IssuerRecord({ ...row, consumedAt: at }))
        return true
      }),
    delete: (kind, id) => Effect.sync(() => void rows.delete(key(kind, id))),
    deleteGrant: (grantId) =>
      Effect.sync(() => {
        let count = 0
        for (const [k, row] of rows) {
          if (row.grantId === grantId) {
            rows.delete(k)
            count++
          }
        }
        return count
      }),
    deleteExpired: (now) =>
      Effect.sync(() => {
        let count = 0
        for (const [k, row] of rows) {
          if (row.expiresAt !== undefined && row.expiresAt.getTime() <= now.getTime()) {
            rows.delete(k)
            count++
          }
        }
        return count
      })
  })
})

/** Every identity repository in memory. */
export const layerMemory: Layer.Layer<
  SessionStore | PendingSignInStore | PlatformTokenStore | UserDirectory | LocalAccountStore | IssuerStateStore
> = Layer.mergeAll(
  layerSessionsMemory,
  layerPendingSignInsMemory,
  layerPlatformTokensMemory,
  layerUsersMemory,
  layerLocalAccountsMemory,
  layerIssuerStateMemory
)
