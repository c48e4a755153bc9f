-- 004_observability.sql - indexes for the operator commands (syncq stats,
-- health, check, jobs, prune): what finished in a window, failures by time,
-- and the audit log newest first. `syncq jobs` pages by the key
-- (COALESCE(enqueued_at, updated_at), job_id), descending, with a keyset
-- cursor: the expression index serves both the order and the cursor.
CREATE INDEX IF NOT EXISTS syncq_jobs_finished ON syncq_jobs (finished_at);
CREATE INDEX IF NOT EXISTS syncq_jobs_newest ON syncq_jobs ((COALESCE(enqueued_at, updated_at)), job_id);
CREATE INDEX IF NOT EXISTS syncq_job_events_at ON syncq_job_events (at);
