-- 007_id_time.sql - syncq_id_time without a regular expression.
--
-- The function runs for every audit row written: in the writer's merge, in a
-- mutation's outcome statement, and in syncq_jobs' CHECK (id_at =
-- syncq_id_time(job_id)), which PostgreSQL evaluates on each insert and
-- again on each update: up to four times a job. Its case-insensitive regular
-- expression was most of its cost. The tests below accept exactly the ids
--   ^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ (case-insensitive)
-- accepted: the LIKE pattern fixes the length (36), the dashes at 9, 14, 19
-- and 24 and the '7' at 15; nothing but hex digits and dashes, with exactly
-- four dashes, leaves the other 32 characters hex digits; then one of 89abAB
-- at 20. The time is the same number as before (float8 division is
-- correctly rounded, as numeric's conversion to float8 is), so every stored
-- id_at still equals the function of its id. tests/it/it_partition.sh checks
-- both against the regular expression on mutated ids; DESIGN.md §8 has
-- the figures.
CREATE OR REPLACE FUNCTION syncq_id_time(id text) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN id LIKE '________-____-7___-____-____________'
                     AND btrim(id, '0123456789abcdefABCDEF-') = '' AND length(replace(id, '-', '')) = 32
                     AND strpos('89abAB', substr(id, 20, 1)) > 0
                THEN to_timestamp(('x' || lpad(substr(id, 1, 8) || substr(id, 10, 4), 16, '0'))::bit(64)::bigint
                                  / 1000.0::float8)
                ELSE timestamptz '1970-01-01 00:00:00+00' END
$$;

-- The CHECK spelled out instead of calling the function. PostgreSQL prepares
-- a table's CHECK expressions again for every statement that writes it, and
-- a SQL function in one is parsed anew each time to be inlined: a
-- mutation's outcome statement writes one row, so it paid that parse on
-- every job (pgbench of the outcome upsert, 8 clients, 3 runs each, fresh
-- tables; on the queued rows of 50,000 jobs: 4,750-5,130 statements/s with
-- the function, 5,420-5,660 with this expression, 6,090-6,580 with no
-- CHECK at all; on new rows: 5,300-6,400, 6,400-7,400, 7,100-8,000). The
-- expression is the function's body above, so the rows that met the old
-- constraint meet this one: it is added NOT VALID (no scan under the ACCESS
-- EXCLUSIVE lock the swap takes) and validated after, which reads every
-- partition under a lock that lets writes go on.
ALTER TABLE syncq_jobs DROP CONSTRAINT syncq_jobs_id_at,
    ADD CONSTRAINT syncq_jobs_id_at CHECK (id_at =
        CASE WHEN job_id LIKE '________-____-7___-____-____________'
                  AND btrim(job_id, '0123456789abcdefABCDEF-') = '' AND length(replace(job_id, '-', '')) = 32
                  AND strpos('89abAB', substr(job_id, 20, 1)) > 0
             THEN to_timestamp(('x' || lpad(substr(job_id, 1, 8) || substr(job_id, 10, 4), 16, '0'))::bit(64)::bigint
                               / 1000.0::float8)
             ELSE timestamptz '1970-01-01 00:00:00+00' END) NOT VALID;
ALTER TABLE syncq_jobs VALIDATE CONSTRAINT syncq_jobs_id_at;
