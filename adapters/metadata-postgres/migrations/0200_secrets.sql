-- Named secrets: metadata in clear, values only as the cipher's sealed envelope.
-- A name is unique in its scope: the owner's (PRIVATE), the app's (APP) or the platform's (ALL_USERS).
create table secrets (
  id          text primary key,
  name        text not null,
  visibility  text not null check (visibility in ('PRIVATE', 'ALL_USERS', 'APP')),
  owner       text not null,
  app_name    text,
  scope       text not null,
  keys        jsonb not null,
  key_id      text not null,
  sealed      text not null,
  revision    integer not null,
  created_at  timestamptz not null,
  updated_at  timestamptz not null,
  check ((visibility = 'APP') = (app_name is not null)),
  unique (visibility, scope, name)
);
create index secrets_owner on secrets (owner, name, id);
