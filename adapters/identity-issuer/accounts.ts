import { randomUUID } from "node:crypto"
import { Effect, Redacted, Schema } from "effect"
import { InvalidInput, now, Role } from "@aquifer/core"
import { LocalAccount, LocalAccountStore, Username } from "@aquifer/identity"
import { hashPassword, oneTimePassword, passwordProblem } from "./_passwords.ts"

/** What an administrator gives to create an account of the embedded issuer. */
export const NewAccount = Schema.Struct({
  username: Username,
  name: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(200)),
  email: Schema.optional(Schema.String.check(Schema.isMaxLength(320), Schema.isPattern(/^[^\s@]+@[^\s@]+$/))),
  roles: Schema.Array(Role).check(Schema.isMinLength(1)),
  groups: Schema.optional(Schema.Array(Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(128))))
})

/**
 * Creates an account with a one-time password (returned once; the user chooses their own at
 * first sign-in). Fails with `InvalidInput` or `AlreadyExists` (username taken, any case).
 */
export const createAccount = Effect.fn("createAccount")(function*(input: unknown) {
  const request = yield* Schema.decodeUnknownEffect(NewAccount)(
    typeof input === "object" && input !== null && typeof (input as { username?: unknown }).username === "string"
      ? { ...input, username: (input as { username: string }).username.toLowerCase() }
      : input
  ).pipe(Effect.mapError((error) => new InvalidInput({ message: `invalid account: ${error.message}` })))
  const accounts = yield* LocalAccountStore
  const password = oneTimePassword()
  const at = yield* now
  const account = new LocalAccount({
    subject: randomUUID(),
    username: request.username,
    name: request.name,
    email: request.email,
    groups: request.groups ?? [],
    roles: request.roles,
    passwordHash: Redacted.make(yield* Effect.promise(() => hashPassword(password))),
    mustChangePassword: true,
    disabled: false,
    createdAt: at,
    updatedAt: at
  })
  yield* accounts.create(account)
  return { account, oneTimePassword: Redacted.make(password) }
})

/** Sets a password chosen by the user (checked for strength); for an admin reset, see {@link createAccount}'s one-time flow. */
export const setPassword = Effect.fn("setPassword")(function*(subject: string, password: Redacted.Redacted<string>) {
  const accounts = yield* LocalAccountStore
  const account = yield* accounts.get(subject)
  if (account === undefined) return yield* new InvalidInput({ message: "no such account" })
  const problem = passwordProblem(Redacted.value(password), account.username)
  if (problem !== undefined) return yield* new InvalidInput({ message: problem, field: "password" })
  const hash = yield* Effect.promise(() => hashPassword(Redacted.value(password)))
  yield* accounts.setPassword(subject, Redacted.make(hash), false, yield* now)
})

