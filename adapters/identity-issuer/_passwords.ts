import { randomBytes, scrypt, timingSafeEqual } from "node:crypto"

// scrypt with N = 2^15, r = 8, p = 1: ~32 MiB and tens of milliseconds per attempt.
const N = 32768
const r = 8
const p = 1
const keyLength = 64
const maxmem = 96 * 1024 * 1024

const derive = (password: string, salt: Buffer, cost: { N: number; r: number; p: number }) =>
  new Promise<Buffer>((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, keyLength, { ...cost, maxmem }, (error, key) => error ? reject(error) : resolve(key))
  )

/** `scrypt$N$r$p$salt$hash` (base64url), self-describing so the cost can be raised later. */
export const hashPassword = async (password: string): Promise<string> => {
  const salt = randomBytes(16)
  const key = await derive(password, salt, { N, r, p })
  return `scrypt$${N}$${r}$${p}$${salt.toString("base64url")}$${key.toString("base64url")}`
}

const dummy = `scrypt$${N}$${r}$${p}$${Buffer.alloc(16).toString("base64url")}$${Buffer.alloc(keyLength).toString("base64url")}`

/**
 * Whether `password` matches `stored`. An absent or unreadable hash still costs one derivation,
 * so the time taken does not tell whether a username exists.
 */
export const verifyPassword = async (password: string, stored: string | undefined): Promise<boolean> => {
  const parts = (stored ?? dummy).split("$")
  const valid = parts.length === 6 && parts[0] === "scrypt"
  const [, n, rr, pp, salt, hash] = valid ? parts : dummy.split("$")
  const cost = { N: Number(n), r: Number(rr), p: Number(pp) }
  if (!(cost.N >= 1024 && cost.N <= 1_048_576 && cost.r >= 1 && cost.r <= 32 && cost.p >= 1 && cost.p <= 16)) return false
  const expected = Buffer.from(hash!, "base64url")
  const key = await derive(password, Buffer.from(salt!, "base64url"), cost)
  return stored !== undefined && valid && expected.length === key.length && timingSafeEqual(expected, key)
}

/** Why a new password is refused, or undefined. */
export const passwordProblem = (password: string, username: string): string | undefined => {
  if (password.length < 12) return "Use at least 12 characters."
  if (password.length > 256) return "Use at most 256 characters."
  if (password.toLowerCase().includes(username.toLowerCase())) return "Do not include your username."
  if (new Set(password).size < 5) return "Use more different characters."
  return undefined
}

/** A one-time password: 20 characters from an alphabet without look-alikes. */
export const oneTimePassword = (): string => {
  const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
  const bytes = randomBytes(20)
  return Array.from(bytes, (byte) => alphabet[byte % alphabet.length]).join("")
}
