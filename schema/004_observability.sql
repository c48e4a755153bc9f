-- 004_observability.sql - indexes for the operator commands (syncq stats,
-- health, check, prune): what finished in a window, and failures by time.
-- Partial: a job's row is written about three times (queued, running, its
-- end) and only the last version has a finished_at, so the index costs one
-- entry per job, not three (make bench: within the run-to-run noise, where
-- a full index on finished_at and one for paging cost 15-20% of the
-- processed rate). `syncq jobs` pages by (enqueued_at, job_id) on the
-- syncq_jobs_enqueued index of 001.
CREATE INDEX IF NOT EXISTS syncq_jobs_finished ON syncq_jobs (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS syncq_job_events_at ON syncq_job_events (at);
