-- 005_snapshots.sql - local snapshots of outside services (SPEC §5, §6).
--
-- One generic table: a row per remote object, identified by (service,
-- resource, scope, external_id); the scope is part of the identity, so a
-- scoped sync never touches another scope's rows. content_hash decides
-- whether a sync writes a row at all (unchanged rows are not written).
-- written_at is when the row's content last changed, by a sync or a
-- mutation: a sync never deletes a row written after its read began.
-- sync_status is what readers show next to a row: pending while a mutation
-- is in flight, then synced, or failed with sync_error.
CREATE TABLE IF NOT EXISTS syncq_snapshots (
    service        text NOT NULL,
    resource       text NOT NULL,
    scope          text NOT NULL DEFAULT '',
    external_id    text NOT NULL,
    data           jsonb NOT NULL,
    content_hash   text NOT NULL,
    sync_status    text NOT NULL DEFAULT 'synced' CHECK (sync_status IN ('synced', 'pending', 'failed')),
    sync_error     text,
    last_synced_at timestamptz,
    written_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    written_by     text,          -- the job id that last changed the row
    PRIMARY KEY (service, resource, scope, external_id)
);
CREATE INDEX IF NOT EXISTS syncq_snapshots_status ON syncq_snapshots (service, resource, sync_status)
    WHERE sync_status <> 'synced';

-- The content hash: md5 of the canonical jsonb text of the listed fields (or
-- of the whole object when none are listed). jsonb sorts keys, so field
-- order and whitespace in the remote's JSON do not matter.
CREATE OR REPLACE FUNCTION syncq_content_hash(data jsonb, fields text[]) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT md5(CASE WHEN fields IS NULL OR cardinality(fields) = 0 THEN data::text
                    ELSE (SELECT jsonb_object_agg(f, data -> f) FROM unnest(fields) AS f)::text END)
$$;

-- Last successful sync per (service, resource, scope) comes from the audit,
-- not from row timestamps (rows only change when content changes).
CREATE OR REPLACE VIEW syncq_last_sync AS
    SELECT service, action, COALESCE(scope, '') AS scope, max(finished_at) AS last_success
      FROM syncq_jobs WHERE kind = 'sync' AND status = 'success'
     GROUP BY service, action, COALESCE(scope, '');
