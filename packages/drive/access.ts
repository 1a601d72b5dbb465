/**
 * Who may do what with a bucket, decided by the platform's one policy (`@aquifer/identity`)
 * plus the bucket's members:
 *
 * - `read` (list, download): the owner, an admin, or any member (a user by principal key, or a
 *   member of a group), whatever their access — the policy's `bucket.read` with the members as
 *   `sharedWith`.
 * - `write` (upload, overwrite, delete objects, multipart): the policy's `bucket.write`: the
 *   owner unless a visitor now, an admin, or a `read-write` member (`writableBy`), when the
 *   caller's token scopes allow writing.
 * - `manage` (members, delete the bucket): the policy's `bucket.share` / `bucket.delete`.
 * @module
 */
import { Forbidden } from "@aquifer/core"
import { can, type Caller, type ResourceRef } from "@aquifer/identity"
import { Effect } from "effect"
import type { Bucket, Member } from "./model.ts"

/** What a caller wants to do with a bucket. */
export type BucketAction = "read" | "write" | "manage"

const sharing = (members: ReadonlyArray<Member>) => ({
  users: members.filter((m) => m.kind === "user").map((m) => m.id),
  groups: members.filter((m) => m.kind === "group").map((m) => m.id)
})

const ref = (bucket: Bucket): ResourceRef<"bucket"> => ({
  kind: "bucket",
  id: bucket.name,
  owner: bucket.owner,
  visibility: "PRIVATE",
  sharedWith: sharing(bucket.members),
  writableBy: sharing(bucket.members.filter((m) => m.access === "read-write"))
})

/** True when `caller` may take `action` on `bucket`. */
export const canOnBucket = (caller: Caller, bucket: Bucket, action: BucketAction): boolean => {
  switch (action) {
    case "read":
      return can(caller, "read", ref(bucket))
    case "write":
      return can(caller, "write", ref(bucket))
    case "manage":
      return can(caller, "share", ref(bucket))
  }
}

/** Succeeds when `caller` may take `action` on `bucket`, else `Forbidden`. */
export const authorizeBucket = (caller: Caller, bucket: Bucket, action: BucketAction): Effect.Effect<void, Forbidden> =>
  canOnBucket(caller, bucket, action)
    ? Effect.void
    : Effect.fail(new Forbidden({ message: `you may not ${action} the bucket ${bucket.name}` }))
