-- Drive: temporary (STS) credentials are not stored one by one; a user revokes all of theirs by
-- moving this time forward. A session token issued at or before not_before is refused. One row
-- per principal that ever revoked, read by primary key on every request signed with temporary
-- credentials.
create table drive_session_revocations (
  principal_key text primary key,
  not_before    timestamptz not null
);
