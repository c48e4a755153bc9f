-- 008_content_hash.sql - syncq_content_hash in PL/pgSQL.
--
-- The function's body (005) has a subquery, so PostgreSQL cannot inline the
-- SQL function: it runs it through its SQL-function executor, which parses,
-- analyses and plans the body anew in every statement that calls it. A
-- mutation's outcome statement (common/snapshot.c) calls it once per job, so
-- each job paid a parse and a plan: 150-160 us of PostgreSQL's CPU a job in
-- make bench's workload b (8 children x 8 lanes, 8,000 update jobs: 1,045 and
-- 1,061 us of PostgreSQL CPU a job with the SQL function, 895 and 884 with
-- this one; 797-821 jobs/s against 909-940). PL/pgSQL keeps the plan for the
-- session. A sync's converge calls it once per row in one statement, where
-- the SQL function's plan lasts the statement: 100,000 rows took 4.5 us a row
-- there and take 5.0 us here, 50 ms a sync of that size. Same expression,
-- same text hashed: every stored content_hash stays valid.
CREATE OR REPLACE FUNCTION syncq_content_hash(data jsonb, fields text[]) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN md5(CASE WHEN fields IS NULL OR cardinality(fields) = 0 THEN data::text
                    ELSE (SELECT jsonb_object_agg(f, data -> f) FROM unnest(fields) AS f)::text END);
END
$$;
