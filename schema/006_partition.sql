-- 006_partition.sql - syncq_jobs and syncq_job_events partitioned by day
-- (docs/DESIGN.md, "Partitions"): retention drops a day's partitions instead
-- of deleting rows, and a lookup by job id reads one partition.
--
-- The partition key, id_at, is the time in the job id: the first 48 bits of a
-- UUIDv7 (common/uuid.c, RFC 9562) as Unix milliseconds. It is a function of
-- the id alone, so it never changes for a job (an ON CONFLICT update cannot
-- move a row to another partition), the primary keys (job_id, id_at) and
-- (job_id, rev, id_at) are as unique as the old ones, and any query that
-- knows the id knows the partition: syncq_id_time(id). A job's events share
-- its key, so a day's events are dropped with the day's jobs.
--
-- Ids that are not UUIDv7 ('raw-1', a v4 UUID) get 1970-01-01: the _raw
-- partition, which retention prunes by batched DELETE like before. A UUIDv7
-- whose day has no partition (older than retention, or beyond the days made
-- ahead) lands in the _default partition: no insert ever fails;
-- syncq_partition_create moves such rows into a day's partition when it
-- makes one, and prune deletes in _default by batch.
--
-- Upgrade: the old tables are copied, not attached. Attaching the old table
-- as one partition would keep every existing job under one key that the
-- writer does not derive from the id (a job in flight at the upgrade would
-- get a second row), and retention could not drop it for as long as it held
-- a single unfinished job. The copy is one INSERT ... SELECT into partitions
-- without indexes (built once afterwards); make bench-audit measures it.

CREATE OR REPLACE FUNCTION syncq_id_time(id text) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
                THEN to_timestamp(('x' || lpad(substr(id, 1, 8) || substr(id, 10, 4), 16, '0'))::bit(64)::bigint
                                  / 1000.0)
                ELSE timestamptz '1970-01-01 00:00:00+00' END
$$;

-- syncq_partition_create makes day's partition of both tables (UTC days,
-- named syncq_jobs_pYYYYMMDD) unless it exists, moving the day's rows out of
-- _default first (PostgreSQL refuses a partition whose rows sit in the
-- default one). SECURITY DEFINER: the worker's role (deploy/postgres-roles.sql)
-- owns no table, yet its writer makes the days ahead. Returns the partitions
-- made.
CREATE OR REPLACE FUNCTION syncq_partition_create(day date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    lo timestamptz := day::timestamp AT TIME ZONE 'UTC';
    hi timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
    t text;
    p text;
    made integer := 0;
BEGIN
    FOREACH t IN ARRAY ARRAY['syncq_jobs', 'syncq_job_events'] LOOP
        p := t || '_p' || to_char(day, 'YYYYMMDD');
        CONTINUE WHEN to_regclass(p) IS NOT NULL;
        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', p, t);
        EXECUTE format('WITH m AS (DELETE FROM %I WHERE id_at >= $1 AND id_at < $2 RETURNING *)'
                       ' INSERT INTO %I SELECT * FROM m', t || '_default', p) USING lo, hi;
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (id_at >= %L AND id_at < %L)', p, p || '_range', lo, hi);
        EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', t, p, lo, hi);
        made := made + 1;
    END LOOP;
    RETURN made;
END
$$;

-- syncq_partitions_ensure makes the partitions of yesterday, today and the
-- next `ahead` days (UTC): `syncq migrate` and the worker's writer call it.
CREATE OR REPLACE FUNCTION syncq_partitions_ensure(ahead integer DEFAULT 7) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT coalesce(sum(syncq_partition_create(d::date)), 0)::integer
      FROM generate_series((now() AT TIME ZONE 'UTC')::date - 1, (now() AT TIME ZONE 'UTC')::date + ahead,
                           interval '1 day') d
$$;

-- syncq_partition_days: the days whose partitions end at or before cutoff,
-- oldest first (the ones retention may drop).
CREATE OR REPLACE FUNCTION syncq_partition_days(cutoff timestamptz) RETURNS SETOF date
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT d FROM (SELECT to_date(substr(c.relname, 13), 'YYYYMMDD') AS d
                     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                    WHERE i.inhparent = 'syncq_jobs'::regclass AND c.relname ~ '^syncq_jobs_p[0-9]{8}$') p
     WHERE (d + 1)::timestamp AT TIME ZONE 'UTC' <= cutoff ORDER BY d
$$;

-- syncq_partition_drop drops day's partitions of both tables when every job
-- in it is settled (success, dead, conflict, superseded) and finished before
-- cutoff, what `syncq prune` deletes row by row otherwise; it returns the
-- rows dropped, or NULLs when it kept the day (prune's batched DELETE then
-- takes the rows it may). The day's jobs partition is locked against writes
-- first, so no late record can slip in between the count and the drop. Not
-- for PUBLIC: the worker's role may not delete audit rows
-- (deploy/postgres-roles.sql grants it to syncq_cli).
CREATE OR REPLACE FUNCTION syncq_partition_drop(day date, cutoff timestamptz, OUT jobs bigint, OUT events bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    pj text := 'syncq_jobs_p' || to_char(day, 'YYYYMMDD');
    pe text := 'syncq_job_events_p' || to_char(day, 'YYYYMMDD');
    keep bigint;
BEGIN
    IF to_regclass(pj) IS NULL OR (day + 1)::timestamp AT TIME ZONE 'UTC' > cutoff THEN
        RETURN;
    END IF;
    EXECUTE format('LOCK TABLE %I IN SHARE MODE', pj);
    EXECUTE format('SELECT count(*), count(*) FILTER (WHERE NOT coalesce(status IN (''success'', ''dead'','
                   ' ''conflict'', ''superseded'') AND finished_at < $1, false)) FROM %I', pj)
        INTO jobs, keep USING cutoff;
    IF keep > 0 THEN
        jobs := NULL;
        RETURN;
    END IF;
    events := 0;
    IF to_regclass(pe) IS NOT NULL THEN
        EXECUTE format('SELECT count(*) FROM %I', pe) INTO events;
        EXECUTE format('DROP TABLE %I', pe);
    END IF;
    EXECUTE format('DROP TABLE %I', pj);
END
$$;
REVOKE EXECUTE ON FUNCTION syncq_partition_drop(date, timestamptz) FROM PUBLIC;

-- The conversion, once: run again (its migration row deleted by hand), it
-- finds the tables partitioned and stops.
DO $conv$
BEGIN
    IF (SELECT relkind FROM pg_class WHERE oid = 'syncq_jobs'::regclass) = 'p' THEN
        RETURN;
    END IF;
    DROP VIEW IF EXISTS syncq_job_history;
    DROP VIEW IF EXISTS syncq_last_sync;
    ALTER TABLE syncq_jobs RENAME TO syncq_jobs_v5;
    ALTER TABLE syncq_job_events RENAME TO syncq_job_events_v5;

    -- The columns of 001-003 in their order, then the key. Its default is the
    -- raw ids' key, so an INSERT that names no id_at (a test, a script) is right
    -- for those ids; the CHECK refuses any other mismatch.
    CREATE TABLE syncq_jobs (
        job_id        text NOT NULL,
        queue         text NOT NULL,
        kind          text CHECK (kind IN ('mutation', 'sync')),
        service       text,
        action        text,
        target_type   text,
        target_id     text,
        scope         text,
        actor         text,
        payload       jsonb,
        status        text NOT NULL CHECK (status IN
                      ('queued', 'running', 'retrying', 'success', 'dead', 'conflict', 'superseded')),
        attempts      integer NOT NULL DEFAULT 0,
        result        jsonb,
        last_error    text,
        worker        text,
        enqueued_at   timestamptz,
        started_at    timestamptz,
        finished_at   timestamptz,
        duration_ms   bigint,
        replayed_from text,
        rev           integer NOT NULL DEFAULT 0,
        updated_at    timestamptz NOT NULL DEFAULT now(),
        fetch_seq     bigint,
        id_at         timestamptz NOT NULL DEFAULT timestamptz '1970-01-01 00:00:00+00'
                      CONSTRAINT syncq_jobs_id_at CHECK (id_at = syncq_id_time(job_id))
    ) PARTITION BY RANGE (id_at);

    CREATE TABLE syncq_job_events (
        job_id      text NOT NULL,
        rev         integer NOT NULL,
        event       text NOT NULL,
        outcome     text,
        attempt     integer,
        error       text,
        worker      text,
        at          timestamptz NOT NULL,
        duration_ms bigint,
        due_at      timestamptz,
        id_at       timestamptz NOT NULL DEFAULT timestamptz '1970-01-01 00:00:00+00'
                    CONSTRAINT syncq_job_events_id_at CHECK (id_at = syncq_id_time(job_id))
    ) PARTITION BY RANGE (id_at);

    CREATE TABLE syncq_jobs_raw PARTITION OF syncq_jobs FOR VALUES FROM (MINVALUE) TO ('1970-01-02 00:00:00+00');
    CREATE TABLE syncq_job_events_raw PARTITION OF syncq_job_events FOR VALUES FROM (MINVALUE) TO ('1970-01-02 00:00:00+00');
    CREATE TABLE syncq_jobs_default PARTITION OF syncq_jobs DEFAULT;
    CREATE TABLE syncq_job_events_default PARTITION OF syncq_job_events DEFAULT;

    -- The days of the existing rows (a sane window: the rest goes to _default),
    -- and the days around today.
    PERFORM syncq_partition_create(d)
      FROM (SELECT DISTINCT (syncq_id_time(job_id) AT TIME ZONE 'UTC')::date AS d FROM syncq_jobs_v5) x
     WHERE d > DATE '1970-01-01' AND d BETWEEN (now() AT TIME ZONE 'UTC')::date - 3660 AND (now() AT TIME ZONE 'UTC')::date + 366;
    PERFORM syncq_partitions_ensure(7);

    INSERT INTO syncq_jobs (job_id, queue, kind, service, action, target_type, target_id, scope, actor, payload, status,
                            attempts, result, last_error, worker, enqueued_at, started_at, finished_at, duration_ms,
                            replayed_from, rev, updated_at, fetch_seq, id_at)
    SELECT job_id, queue, kind, service, action, target_type, target_id, scope, actor, payload, status,
           attempts, result, last_error, worker, enqueued_at, started_at, finished_at, duration_ms,
           replayed_from, rev, updated_at, fetch_seq, syncq_id_time(job_id)
      FROM syncq_jobs_v5;
    INSERT INTO syncq_job_events (job_id, rev, event, outcome, attempt, error, worker, at, duration_ms, due_at, id_at)
    SELECT job_id, rev, event, outcome, attempt, error, worker, at, duration_ms, due_at, syncq_id_time(job_id)
      FROM syncq_job_events_v5;
    DROP TABLE syncq_jobs_v5;
    DROP TABLE syncq_job_events_v5;

    -- The indexes of 001 and 004, built once over the copied rows. The job id
    -- comes first in the keys: a lookup by id alone still finds its row in each
    -- partition's index (syncq_id_time narrows it to one).
    ALTER TABLE syncq_jobs ADD PRIMARY KEY (job_id, id_at);
    ALTER TABLE syncq_job_events ADD PRIMARY KEY (job_id, rev, id_at);
    CREATE INDEX syncq_jobs_unsettled ON syncq_jobs (status, updated_at) WHERE status <> 'success';
    CREATE INDEX syncq_jobs_handler ON syncq_jobs (service, action, finished_at);
    CREATE INDEX syncq_jobs_target ON syncq_jobs (target_type, target_id) WHERE target_id IS NOT NULL;
    CREATE INDEX syncq_jobs_enqueued ON syncq_jobs (enqueued_at);
    CREATE INDEX syncq_jobs_finished ON syncq_jobs (finished_at) WHERE finished_at IS NOT NULL;
    CREATE INDEX syncq_job_events_at ON syncq_job_events (at);

    -- The views of 002 and 005, with the key, so a history lookup prunes too.
    CREATE VIEW syncq_job_history AS
        SELECT job_id, rev, event, outcome, attempt, error, worker, at, duration_ms, due_at, id_at
          FROM syncq_job_events
        UNION ALL
        SELECT job_id, rev, 'attempt', 'success', attempts, NULL, worker, finished_at, duration_ms, NULL, id_at
          FROM syncq_jobs WHERE status = 'success';

    CREATE VIEW syncq_last_sync AS
        SELECT service, action, COALESCE(scope, '') AS scope, max(finished_at) AS last_success
          FROM syncq_jobs WHERE kind = 'sync' AND status = 'success'
         GROUP BY service, action, COALESCE(scope, '');
END
$conv$;

SELECT syncq_partitions_ensure(7);
