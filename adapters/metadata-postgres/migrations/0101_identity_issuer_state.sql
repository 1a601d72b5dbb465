-- The embedded OpenID Provider's state (keys, interactions, sessions, grants, codes, tokens).
create table identity_issuer_records (
  kind        text not null,
  id          text not null,
  payload     jsonb not null,
  grant_id    text,
  uid         text,
  user_code   text,
  expires_at  timestamptz,
  consumed_at timestamptz,
  primary key (kind, id)
);
create index identity_issuer_records_grant on identity_issuer_records (grant_id) where grant_id is not null;
create index identity_issuer_records_uid on identity_issuer_records (kind, uid) where uid is not null;
create index identity_issuer_records_user_code on identity_issuer_records (kind, user_code) where user_code is not null;
create index identity_issuer_records_expiry on identity_issuer_records (expires_at) where expires_at is not null;
