-- The App Store catalog: apps, immutable versions, tags, aliases and user-set instance settings.
-- Instance state is not here: it lives in the Scheduler.
create table appstore_apps (
  id          text primary key,
  name        text not null unique,
  owner       text not null,
  visibility  text not null check (visibility in ('PRIVATE', 'ALL_USERS', 'PUBLIC')),
  created_at  timestamptz not null,
  updated_at  timestamptz not null
);
create index appstore_apps_owner on appstore_apps (owner, name, id);

create table appstore_versions (
  id                text primary key,
  app_id            text not null references appstore_apps (id) on delete cascade,
  version           text not null,
  manifest          jsonb not null,
  bundle_key        text not null,
  bundle_sha256     text not null,
  bundle_size       bigint not null,
  icon              jsonb,
  screenshots       jsonb not null,
  long_description  text,
  requirements_hash text not null,
  imported_by       text not null,
  created_at        timestamptz not null,
  unique (app_id, version)
);

create table appstore_tags (
  id             text primary key,
  name           text not null unique,
  title          text not null,
  color          text not null,
  description    text not null,
  is_category    boolean not null,
  visitor_roles  jsonb not null,
  admin_roles    jsonb not null,
  created_at     timestamptz not null
);

create table appstore_app_tags (
  app_id  text not null references appstore_apps (id) on delete cascade,
  tag_id  text not null references appstore_tags (id) on delete cascade,
  primary key (app_id, tag_id)
);
create index appstore_app_tags_tag on appstore_app_tags (tag_id);

create table appstore_aliases (
  name         text primary key,
  instance_id  text not null,
  created_by   text not null,
  created_at   timestamptz not null
);
create index appstore_aliases_instance on appstore_aliases (instance_id);

create table appstore_instance_settings (
  instance_id  text primary key,
  visibility   text not null check (visibility in ('PRIVATE', 'ALL_USERS', 'PUBLIC'))
);
