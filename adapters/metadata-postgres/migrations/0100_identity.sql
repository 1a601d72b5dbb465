-- Identity (range 0100-0199): users seen, browser sessions, pending sign-ins, platform tokens,
-- and the embedded issuer's local accounts. Secrets of sessions and tokens are stored as hashes.
create table identity_users (
  id           text primary key,
  issuer       text not null,
  subject      text not null,
  name         text not null,
  email        text,
  groups       jsonb not null default '[]'::jsonb,
  roles        jsonb not null default '[]'::jsonb,
  created_at   timestamptz not null,
  last_seen_at timestamptz not null,
  -- The identity is issuer + subject; e-mail is an attribute and deliberately not unique.
  unique (issuer, subject)
);
create index identity_users_email on identity_users (lower(email));

create table identity_sessions (
  id                      text primary key,
  secret_hash             text not null unique,
  principal_key           text not null,
  principal               jsonb not null,
  access_token            text not null,
  access_token_expires_at timestamptz not null,
  refresh_token           text,
  id_token                text,
  created_at              timestamptz not null,
  last_seen_at            timestamptz not null,
  idle_expires_at         timestamptz not null,
  absolute_expires_at     timestamptz not null,
  revoked_at              timestamptz,
  version                 integer not null
);
create index identity_sessions_live_by_principal on identity_sessions (principal_key) where revoked_at is null;
create index identity_sessions_absolute on identity_sessions (absolute_expires_at);

create table identity_sign_ins (
  state         text primary key,
  binding_hash  text not null,
  nonce         text not null,
  code_verifier text not null,
  return_to     text not null,
  created_at    timestamptz not null,
  expires_at    timestamptz not null
);
create index identity_sign_ins_expiry on identity_sign_ins (expires_at);

create table identity_platform_tokens (
  id           text primary key,
  owner        text not null,
  name         text not null,
  scopes       jsonb not null,
  secret_hash  text not null unique,
  created_at   timestamptz not null,
  expires_at   timestamptz not null,
  last_used_at timestamptz,
  revoked_at   timestamptz
);
create unique index identity_platform_tokens_live_name on identity_platform_tokens (owner, name) where revoked_at is null;
create index identity_platform_tokens_by_owner on identity_platform_tokens (owner, created_at desc, id desc);

create table identity_local_accounts (
  subject              text primary key,
  username             text not null unique check (username = lower(username)),
  name                 text not null,
  email                text,
  groups               jsonb not null default '[]'::jsonb,
  roles                jsonb not null default '[]'::jsonb,
  password_hash        text not null,
  must_change_password boolean not null,
  disabled             boolean not null,
  created_at           timestamptz not null,
  updated_at           timestamptz not null
);
