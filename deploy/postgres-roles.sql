-- postgres-roles.sql - least-privilege PostgreSQL roles for syncq (README "Production Redis and
-- PostgreSQL"). Run it as the schema owner (the role `syncq migrate` runs as), in the syncq
-- database, after `syncq migrate`; it is idempotent, so run it again after every upgrade:
--
--   psql -v ON_ERROR_STOP=1 -d syncq -f deploy/postgres-roles.sql
--   psql -d syncq -c "CREATE ROLE syncq_worker_login LOGIN PASSWORD '...' IN ROLE syncq_worker"
--   psql -d syncq -c "CREATE ROLE syncq_ops_login LOGIN PASSWORD '...' IN ROLE syncq_cli"
--
-- Two group roles (NOLOGIN); give each login role one of them:
--   syncq_worker  the worker (syncq-worker): writes the audit, reads and converges snapshots.
--   syncq_cli     the operator CLI (syncq jobs, status, check, prune, snapshot ...): the worker's
--                 rights plus DELETE on the audit tables (syncq prune).
-- Neither owns a table, so neither can DROP, ALTER or TRUNCATE one, nor CREATE in the schema
-- (PostgreSQL 15 no longer lets PUBLIC create in schema public; older versions need the REVOKE
-- below). Migrations stay with the owner: `syncq migrate` as one of these roles fails.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'syncq_worker') THEN
        CREATE ROLE syncq_worker NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'syncq_cli') THEN
        CREATE ROLE syncq_cli NOLOGIN;
    END IF;
    -- the writer stages each batch in a TEMP table; CONNECT for the login roles
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO syncq_worker, syncq_cli', current_database());
END
$$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO syncq_worker, syncq_cli;

-- the worker's startup check reads the schema version
GRANT SELECT ON syncq_schema_migrations TO syncq_worker, syncq_cli;
-- the audit: INSERT ... ON CONFLICT DO UPDATE (writer.c), append-only events
GRANT SELECT, INSERT, UPDATE ON syncq_jobs, syncq_job_events TO syncq_worker, syncq_cli;
GRANT DELETE ON syncq_jobs, syncq_job_events TO syncq_cli;
-- snapshots: sync jobs converge them (insert, update, delete gone records)
GRANT SELECT, INSERT, UPDATE, DELETE ON syncq_snapshots TO syncq_worker, syncq_cli;
GRANT SELECT ON syncq_job_history, syncq_last_sync TO syncq_worker, syncq_cli;
GRANT EXECUTE ON FUNCTION syncq_content_hash(jsonb, text[]) TO syncq_worker, syncq_cli;
GRANT EXECUTE ON FUNCTION syncq_partition_drop(date, timestamptz) TO syncq_cli; -- prune drops old day partitions
