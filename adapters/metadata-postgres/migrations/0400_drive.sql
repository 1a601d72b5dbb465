-- Drive: buckets (with quota and usage), their members, long-lived access keys (secrets sealed
-- by the Drive before they get here) and multipart uploads in progress.
-- Keys compare in byte order (collate "C"), which is the code point order S3 lists in.
create table drive_buckets (
  name         text primary key,
  storage_id   text not null unique,
  owner        text not null,
  home         boolean not null default false,
  created_at   timestamptz not null,
  max_bytes    bigint check (max_bytes >= 0),
  max_objects  bigint check (max_objects >= 0),
  used_bytes   bigint not null default 0 check (used_bytes >= 0),
  used_objects bigint not null default 0 check (used_objects >= 0)
);
create unique index drive_buckets_one_home on drive_buckets (owner) where home;
create index drive_buckets_owner on drive_buckets (owner);

create table drive_bucket_members (
  bucket   text not null references drive_buckets (name) on delete cascade,
  position integer not null,
  kind     text not null check (kind in ('user', 'group')),
  member   text not null,
  access   text not null check (access in ('read', 'read-write')),
  primary key (bucket, kind, member)
);
create index drive_bucket_members_member on drive_bucket_members (kind, member);

create table drive_access_keys (
  id            text primary key,
  principal_key text not null,
  principal     jsonb not null,
  description   text not null,
  created_at    timestamptz not null,
  sealed_secret text not null
);
create index drive_access_keys_principal on drive_access_keys (principal_key, created_at, id);

create table drive_uploads (
  bucket     text not null,
  upload_id  text collate "C" not null,
  key        text collate "C" not null,
  initiator  text not null,
  created_at timestamptz not null,
  primary key (bucket, upload_id)
);
create index drive_uploads_order on drive_uploads (bucket, key, upload_id);
