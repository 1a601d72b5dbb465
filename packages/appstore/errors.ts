/**
 * The App Store's own errors, beside the shared ones of `@aquifer/core` (`NotFound`,
 * `AlreadyExists`, `Conflict`, `Forbidden`, `LimitExceeded`, `InvalidInput`, `Unavailable`).
 * Apps map each tag with {@link appstoreProblems}.
 * @module
 */
import type { ProblemMapping } from "@aquifer/core"
import { Schema } from "effect"

/**
 * A bundle was refused: not a zip, hostile (zip slip, links, a bomb), without a valid
 * `app.toml`, or inconsistent. `field` names the `app.toml` field (`App.Name`, `Env[2].Secret`)
 * or the archive entry at fault, `line` the line of `app.toml` when known. Nothing is written.
 */
export class InvalidBundle extends Schema.TaggedError<InvalidBundle>()("InvalidBundle", {
  message: Schema.String,
  field: Schema.optional(Schema.String),
  line: Schema.optional(Schema.Int)
}) {}

/**
 * A launch cannot go ahead: the app mode is not runnable by this platform's scheduler, a
 * required secret is missing, the app is a LINK. The message says what to do.
 */
export class LaunchRefused extends Schema.TaggedError<LaunchRefused>()("LaunchRefused", {
  message: Schema.String,
  field: Schema.optional(Schema.String)
}) {}

export type AppStoreError = InvalidBundle | LaunchRefused

/** One problem type per tag, for an app's error table. */
export const appstoreProblems: { readonly [Tag in AppStoreError["_tag"]]: ProblemMapping } = {
  InvalidBundle: { slug: "invalid-bundle", title: "Invalid app bundle", status: 400 },
  LaunchRefused: { slug: "launch-refused", title: "Launch refused", status: 422 }
}
