-- 001_init.sql - the audit tables (SPEC §5, §10).
--
-- Changing the schema: never edit an applied file. Add NNN_name.sql, list it
-- in producer/migrations.c, keep it idempotent where PostgreSQL allows (IF NOT
-- EXISTS), and make the writer tolerate both the old and the new shape until
-- every worker runs the new binary.

-- One row per job id. Written at enqueue through syncq (queued) or first sight
-- (running), updated at the end. rev orders the records of one job (attempt *
-- 4 + phase) so a late, older record never overwrites a newer one.
CREATE TABLE IF NOT EXISTS syncq_jobs (
    job_id        text PRIMARY KEY,
    queue         text NOT NULL,
    kind          text CHECK (kind IN ('mutation', 'sync')),
    service       text,
    action        text,
    target_type   text,
    target_id     text,
    scope         text,
    actor         text,
    payload       jsonb,          -- masked; the raw payload lives only in Redis
    status        text NOT NULL CHECK (status IN
                  ('queued', 'running', 'retrying', 'success', 'dead', 'conflict', 'superseded')),
    attempts      integer NOT NULL DEFAULT 0,
    result        jsonb,
    last_error    text,
    worker        text,           -- host:pid:boot of the child that ran the last attempt
    enqueued_at   timestamptz,
    started_at    timestamptz,
    finished_at   timestamptz,
    duration_ms   bigint,
    replayed_from text,
    rev           integer NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- The audit screens: what is not fine (partial: success is the bulk), per
-- handler over time, per target, and newest first.
CREATE INDEX IF NOT EXISTS syncq_jobs_unsettled ON syncq_jobs (status, updated_at) WHERE status <> 'success';
CREATE INDEX IF NOT EXISTS syncq_jobs_handler ON syncq_jobs (service, action, finished_at);
CREATE INDEX IF NOT EXISTS syncq_jobs_target ON syncq_jobs (target_type, target_id) WHERE target_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS syncq_jobs_enqueued ON syncq_jobs (enqueued_at);

-- Attempt and state history, append-only: every attempt that failed, every
-- lost delivery (the worker died), every dead-letter. A successful attempt
-- is not repeated here: it is the job's row (syncq_job_history joins both).
-- This keeps the happy path at one row write per job. (job_id, rev) makes a
-- batch that is written twice harmless.
CREATE TABLE IF NOT EXISTS syncq_job_events (
    job_id      text NOT NULL,
    rev         integer NOT NULL,
    event       text NOT NULL,    -- attempt | dead | lost | bad_data | ...
    outcome     text,             -- success | transient | permanent | crash | ...
    attempt     integer,
    error       text,
    worker      text,
    at          timestamptz NOT NULL,
    duration_ms bigint,
    PRIMARY KEY (job_id, rev)
);

-- Every attempt of every job, failures and the final success alike.
CREATE OR REPLACE VIEW syncq_job_history AS
    SELECT job_id, rev, event, outcome, attempt, error, worker, at, duration_ms
      FROM syncq_job_events
    UNION ALL
    SELECT job_id, rev, 'attempt', 'success', attempts, NULL, worker, finished_at, duration_ms
      FROM syncq_jobs WHERE status = 'success';
