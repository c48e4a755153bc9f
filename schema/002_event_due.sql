-- 002_event_due.sql - when a failed attempt's retry was due (Redis TIME +
-- backoff delay, filled in by the step function), so the history shows the
-- schedule next to the actual starts.
ALTER TABLE syncq_job_events ADD COLUMN IF NOT EXISTS due_at timestamptz;

CREATE OR REPLACE VIEW syncq_job_history AS
    SELECT job_id, rev, event, outcome, attempt, error, worker, at, duration_ms, due_at
      FROM syncq_job_events
    UNION ALL
    SELECT job_id, rev, 'attempt', 'success', attempts, NULL, worker, finished_at, duration_ms, NULL
      FROM syncq_jobs WHERE status = 'success';
