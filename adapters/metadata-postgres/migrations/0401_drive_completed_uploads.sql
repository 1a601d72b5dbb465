-- Drive: a completed multipart upload stays in drive_uploads for a short while (the Drive forgets
-- it after an hour), marked by completed_at and holding what it produced, so a retried
-- CompleteMultipartUpload can be answered with the same object. Uploads in progress are the rows
-- whose completed_at is null.
alter table drive_uploads
  add column completed_at timestamptz,
  add column etag         text,
  add column size         bigint check (size >= 0),
  add column parts_digest text,
  add constraint drive_uploads_completion check (
    (completed_at is null) = (etag is null) and (completed_at is null) = (size is null)
      and (completed_at is null) = (parts_digest is null)
  );
create index drive_uploads_completed on drive_uploads (completed_at) where completed_at is not null;
