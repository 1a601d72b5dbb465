import { homedir } from "node:os"
import { join } from "node:path"
import { Config, Context, Data, Deferred, Effect, Layer, Option, Redacted, Ref } from "effect"
import { Unavailable } from "@aquifer/core"
import postgres from "postgres"
import type { Sql } from "postgres"
import { migrate, readMigrations, type Migration } from "./migrate.ts"

/** A query failed for a reason other than the database being unreachable. */
export class SqlError extends Data.TaggedError("SqlError")<{
  /** The SQLSTATE code (e.g. `23505` for a unique violation), when the server sent one. */
  readonly code: string | undefined
  readonly message: string
  readonly cause: unknown
}> {
  static from(cause: unknown): SqlError {
    const code = (cause as { code?: unknown })?.code
    return new SqlError({ code: typeof code === "string" ? code : undefined, message: reasonOf(cause), cause })
  }
}

type State =
  | { readonly _tag: "starting"; readonly reason: string }
  | { readonly _tag: "ready" }
  | { readonly _tag: "failed"; readonly reason: string }

/**
 * The metadata database: a `postgres` client pointed at a PostgreSQL server (`DATABASE_URL`)
 * or at embedded PGlite. Starting never fails: connection and migration run in the background
 * with back-off, `readiness` says whether the schema is usable, and `use` waits a little for
 * a database that is still starting before failing with `Unavailable`.
 */
export class Database extends Context.Service<Database, {
  readonly kind: "postgres" | "pglite"
  /** Runs `query` with the client once migrations are applied. */
  use<A>(query: (sql: Sql) => Promise<A>): Effect.Effect<A, Unavailable | SqlError>
  /** Succeeds when the schema is migrated and the database answers `select 1` within 2 s. */
  readonly readiness: Effect.Effect<void, Unavailable>
}>()("@aquifer/metadata-postgres/Database") {}

export interface DatabaseOptions {
  /** A `postgres://` URL; absent: embedded PGlite. */
  readonly url?: Redacted.Redacted<string> | undefined
  /** Embedded only: where PGlite keeps its data; absent: in memory (tests). */
  readonly dataDir?: string | undefined
  /** Pool size against a server (PGlite always uses one connection). */
  readonly maxConnections?: number | undefined
  /** Migrations to apply; default: the ones shipped with this adapter. */
  readonly migrations?: ReadonlyArray<Migration> | undefined
  /** How long `use` waits for a starting database before failing. */
  readonly startWaitMillis?: number | undefined
}

const unreachableCodes = new Set([
  "ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOENT",
  "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT", "57P01", "57P02", "57P03", "3D000", "28P01", "28000"
])

const isUnreachable = (error: unknown): boolean => {
  const code = (error as { code?: unknown })?.code
  return typeof code === "string" && (unreachableCodes.has(code) || code.startsWith("08") || code.startsWith("53"))
}

/** A one-line reason, with any credentials of a URL removed. */
const reasonOf = (error: unknown): string => {
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: unknown })?.code
  const text = typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message
  return text.replace(/\/\/[^@/\s]*@/g, "//***@").split("\n")[0]!.slice(0, 300)
}

/** Validates a database URL without ever echoing it (it may hold a password). */
export const parseDatabaseUrl = (url: string): string | undefined => {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return "DATABASE_URL is not a valid URL (expected postgres://user:password@host:port/database)"
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    return `DATABASE_URL must use the postgres:// scheme, not ${parsed.protocol}//`
  }
  if (parsed.hostname === "") return "DATABASE_URL has no host"
  return undefined
}

export const make = Effect.fnUntraced(function*(options: DatabaseOptions) {
  const kind = options.url === undefined ? "pglite" as const : "postgres" as const
  const where = kind === "pglite" ? `embedded PGlite (${options.dataDir ?? "in memory"})` : "PostgreSQL server"
  const state = yield* Ref.make<State>({ _tag: "starting", reason: `connecting to ${where}` })
  const firstReady = yield* Deferred.make<void>()
  let client: Sql | undefined
  let closeEmbedded: (() => Promise<void>) | undefined

  const fail = (reason: string) =>
    Ref.set(state, { _tag: "failed", reason }).pipe(
      Effect.andThen(Effect.logError(`metadata database unavailable: ${reason}`).pipe(
        Effect.annotateLogs({ component: "metadata", database: kind })
      ))
    )

  const connect = Effect.tryPromise({
    try: async () => {
      if (client === undefined) {
        if (options.url === undefined) {
          // Loaded only when embedded: PGlite costs ~40 MB of memory a server deployment does not need.
          const { startEmbedded } = await import("./_pglite.ts")
          // A template with the shipped migrations applied serves only the default migration set.
          const embedded = await startEmbedded(options.dataDir, { migrated: options.migrations === undefined })
          closeEmbedded = embedded.close
          client = postgres({ ...embedded.connection, max: 1, onnotice: () => {}, connect_timeout: 10 })
        } else {
          client = postgres(Redacted.value(options.url), {
            max: options.maxConnections ?? 10,
            onnotice: () => {},
            connect_timeout: 5,
            idle_timeout: 60,
            connection: { application_name: "aquifer" }
          })
        }
      }
      return await migrate(client, options.migrations ?? readMigrations())
    },
    catch: (error) => error
  })

  const invalid = options.url === undefined ? undefined : parseDatabaseUrl(Redacted.value(options.url))
  if (invalid !== undefined) {
    yield* fail(invalid)
  } else {
    // Connect and migrate in the background, retrying with capped exponential back-off; the
    // first failure is logged as an error, later ones only when the reason changes.
    yield* Effect.forkScoped(Effect.gen(function*() {
      let attempt = 0
      let lastReason = ""
      for (;;) {
        const result = yield* Effect.result(connect)
        if (result._tag === "Success") {
          yield* Ref.set(state, { _tag: "ready" })
          yield* Deferred.succeed(firstReady, undefined)
          yield* Effect.logInfo(`metadata database ready: ${where}`).pipe(
            Effect.annotateLogs({ component: "metadata", database: kind, migrationsApplied: result.success.length })
          )
          return
        }
        const reason = reasonOf(result.failure)
        if (reason !== lastReason) yield* fail(reason)
        else yield* Ref.set(state, { _tag: "failed", reason })
        lastReason = reason
        if (kind === "pglite" && client === undefined && /another Aquifer process/.test(reason)) return
        yield* Effect.sleep(Math.min(200 * 2 ** attempt++, 30_000))
      }
    }))
  }

  yield* Effect.addFinalizer(() =>
    Effect.promise(async () => {
      await client?.end({ timeout: 5 }).catch(() => {})
      await closeEmbedded?.().catch(() => {})
    })
  )

  const notReady = Effect.flatMap(Ref.get(state), (current) =>
    Effect.fail(new Unavailable({ message: `metadata database not ready: ${current._tag === "ready" ? "starting" : current.reason}` }))
  )

  const awaitReady = Effect.flatMap(Ref.get(state), (current) => {
    if (current._tag === "ready") return Effect.void
    if (current._tag === "failed") return notReady
    return Deferred.await(firstReady).pipe(
      Effect.timeoutOrElse({ duration: options.startWaitMillis ?? 10_000, orElse: () => notReady })
    )
  })

  const use = <A>(query: (sql: Sql) => Promise<A>): Effect.Effect<A, Unavailable | SqlError> =>
    Effect.flatMap(awaitReady, () =>
      Effect.tryPromise({
        try: () => query(client!),
        catch: (error) =>
          isUnreachable(error)
            ? new Unavailable({ message: `metadata database unreachable: ${reasonOf(error)}`, cause: error })
            : SqlError.from(error)
      }))

  const readiness = Effect.flatMap(Ref.get(state), (current) =>
    current._tag !== "ready"
      ? notReady
      : Effect.tryPromise({
        try: () => client!`select 1 as ok`,
        catch: (error) => new Unavailable({ message: `metadata database unreachable: ${reasonOf(error)}` })
      }).pipe(
        Effect.timeoutOrElse({
          duration: 2000,
          orElse: () => Effect.fail(new Unavailable({ message: "metadata database did not answer within 2 s" }))
        }),
        Effect.asVoid
      ))

  return Database.of({ kind, use, readiness })
})

/** A Database from explicit options. */
export const layer = (options: DatabaseOptions): Layer.Layer<Database> => Layer.effect(Database, make(options))

/**
 * A Database from the environment: `DATABASE_URL` (a PostgreSQL server) or, when unset,
 * embedded PGlite under `$AQUIFER_HOME/pglite` (default `~/.aquifer`);
 * `AQUIFER_DB_POOL_MAX` sizes the server pool (default 10).
 */
export const layerConfig: Layer.Layer<Database, Config.ConfigError> = Layer.effect(
  Database,
  Effect.gen(function*() {
    const url = yield* Config.option(Config.Redacted("DATABASE_URL"))
    const home = yield* Config.String("AQUIFER_HOME").pipe(Config.withDefault(join(homedir(), ".aquifer")))
    const maxConnections = yield* Config.Int("AQUIFER_DB_POOL_MAX").pipe(Config.withDefault(10))
    const present = Option.filter(url, (value) => Redacted.value(value).trim() !== "")
    return yield* make({
      url: Option.getOrUndefined(present),
      dataDir: join(home, "pglite"),
      maxConnections
    })
  })
)

/** Maps a query's non-connection failures to defects, for repositories with no use for them. */
export const orDieSql = <A, R>(effect: Effect.Effect<A, Unavailable | SqlError, R>): Effect.Effect<A, Unavailable, R> =>
  Effect.catchIf(effect, (error): error is SqlError => error._tag === "SqlError", (error) => Effect.die(error))
