-- 003_fetch_seq.sql - when (Redis TIME, microseconds) a worker took the job
-- for its latest attempt: the order jobs were fetched in across queues, for
-- lane fairness checks and "how long did it wait" questions.
ALTER TABLE syncq_jobs ADD COLUMN IF NOT EXISTS fetch_seq bigint;
