// The Drive's settings from the environment (docs/configuration.md, `## Drive`).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { randomBytes } from "node:crypto"
import { dirname } from "node:path"
import { defaultDriveSettings, type DriveSettingsShape, parseServerKey, Quota } from "@aquifer/drive"
import { Config, Effect, Option, Redacted, Schema } from "effect"

export interface DriveConfig {
  readonly region: string
  readonly virtualHostDomain: string | undefined
  readonly etagsAreMd5: boolean
  readonly settings: DriveSettingsShape
  /** The 32-byte server key, if configured. */
  readonly serverKey: Redacted.Redacted<Uint8Array> | undefined
}

const seconds = (name: string, fallback: number) =>
  Config.schema(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 7 * 86_400 })), name).pipe(Config.withDefault(fallback))

const count = (name: string) => Config.option(Config.schema(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)), name))

/** A setting that is present but unusable (its value is never echoed). */
export class InvalidDriveConfig extends Error {
  override readonly name = "InvalidDriveConfig"
}

export const driveConfig: Effect.Effect<DriveConfig, Config.ConfigError | InvalidDriveConfig> = Effect.gen(function*() {
  const region = yield* Config.schema(Schema.String.check(Schema.isPattern(/^[a-z0-9-]{1,32}$/)), "AQUIFER_DRIVE_REGION").pipe(
    Config.withDefault("us-east-1")
  )
  const domain = yield* Config.option(Config.String("AQUIFER_DRIVE_DOMAIN"))
  const etagsAreMd5 = yield* Config.Boolean("AQUIFER_DRIVE_ETAG_MD5").pipe(Config.withDefault(false))
  const maxBytes = yield* count("AQUIFER_DRIVE_HOME_QUOTA_BYTES")
  const maxObjects = yield* count("AQUIFER_DRIVE_HOME_QUOTA_OBJECTS")
  const minDuration = yield* seconds("AQUIFER_DRIVE_STS_MIN_DURATION", defaultDriveSettings.sts.minDurationSeconds)
  const maxDuration = yield* seconds("AQUIFER_DRIVE_STS_MAX_DURATION", defaultDriveSettings.sts.maxDurationSeconds)
  const defaultDuration = yield* seconds("AQUIFER_DRIVE_STS_DEFAULT_DURATION", defaultDriveSettings.sts.defaultDurationSeconds)
  const keyText = yield* Config.option(Config.Redacted("AQUIFER_DRIVE_KEY"))
  let serverKey: Redacted.Redacted<Uint8Array> | undefined
  if (Option.isSome(keyText) && Redacted.value(keyText.value).trim() !== "") {
    const parsed = parseServerKey(Redacted.value(keyText.value))
    if (parsed === undefined) {
      return yield* Effect.fail(new InvalidDriveConfig("AQUIFER_DRIVE_KEY must be 32 bytes, written as 64 hex digits or base64"))
    }
    serverKey = Redacted.make(parsed)
  }
  return {
    region,
    virtualHostDomain: Option.getOrUndefined(domain)?.toLowerCase().replace(/^\.+|\.+$/g, ""),
    etagsAreMd5,
    settings: {
      homeQuota: new Quota({
        ...(Option.isSome(maxBytes) ? { maxBytes: maxBytes.value } : {}),
        ...(Option.isSome(maxObjects) ? { maxObjects: maxObjects.value } : {})
      }),
      sts: {
        minDurationSeconds: minDuration,
        maxDurationSeconds: Math.max(minDuration, maxDuration),
        defaultDurationSeconds: Math.min(Math.max(defaultDuration, minDuration), Math.max(minDuration, maxDuration))
      }
    },
    serverKey
  }
})

/**
 * The server key for a single-node install: the configured one, or one kept in `file` (created
 * with mode 0600 on first start). Replicas must share a configured key instead.
 */
export const serverKeyFromFile = (file: string): Uint8Array => {
  if (existsSync(file)) {
    const parsed = parseServerKey(readFileSync(file, "utf8"))
    if (parsed === undefined) throw new Error(`${file} does not hold a Drive server key (64 hex digits)`)
    return parsed
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  const key = randomBytes(32)
  writeFileSync(file, `${key.toString("hex")}\n`, { mode: 0o600, flag: "wx" })
  return new Uint8Array(key)
}
