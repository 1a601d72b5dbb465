-- The audit log: append-only, newest-first listing by (at, id), filters by actor, action, resource.
create table audit_events (
  id            text primary key,
  at            timestamptz not null,
  actor         text not null,
  action        text not null,
  resource_kind text not null,
  resource_id   text not null,
  outcome       text not null check (outcome in ('success', 'denied', 'failure')),
  request_id    text,
  details       jsonb not null default '{}'::jsonb
);
create index audit_events_order on audit_events (at desc, id desc);
create index audit_events_actor on audit_events (actor, at desc, id desc);
create index audit_events_resource on audit_events (resource_kind, resource_id, at desc, id desc);
create index audit_events_action on audit_events (action, at desc, id desc);
