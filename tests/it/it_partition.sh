#!/bin/bash
# Issue 15 part 6: the audit tables partitioned by day of the job id's time
# (schema/006_partition.sql, docs/DESIGN.md "Partitions"). (a) An upgrade
# from schema 005 copies every row into its day's partition, raw ids into
# _raw; (b) a lookup by id reads one partition; (c) a row whose day has no
# partition lands in _default and moves into the day's partition when one is
# made; (d) prune drops a day whose jobs all qualify, deletes row by row in a
# day that still holds an open job, in _raw and in _default.
. "$(dirname "$0")/../lib.sh"

uuid7() { # DAYS_AGO [SUFFIX]: a UUIDv7 whose time is that many days ago (noon UTC)
    /usr/bin/python3 -c 'import sys, time
day = int(time.time() // 86400) - int(sys.argv[1])
h = "%012x" % ((day * 86400 + 43200) * 1000)
print("%s-%s-7abc-8def-%012x" % (h[:8], h[8:12], int(sys.argv[2])))' "$1" "${2:-1}"
}
day() { date -u -d "@$(( ($(date +%s) / 86400 - $1) * 86400 ))" +%Y%m%d; } # DAYS_AGO: YYYYMMDD
part() { q "SELECT tableoid::regclass FROM syncq_jobs WHERE job_id = '$1'"; }

# ---- (a) upgrade: a database at schema 005 with rows of three days, raw ids and events
OLD="${DB}_old"
sq_psql postgres -c "CREATE DATABASE \"$OLD\"" >/dev/null
ON_EXIT="sq_psql postgres -c 'DROP DATABASE IF EXISTS \"$OLD\" WITH (FORCE)' >/dev/null 2>&1; $ON_EXIT"
qo() { psql -X -A -t -q -v ON_ERROR_STOP=1 -c "$1" "$SQ_PG_BASE dbname=$OLD"; }
qo "CREATE TABLE syncq_schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now())"
for f in schema/00[1-5]_*.sql; do
    psql -X -q -v ON_ERROR_STOP=1 -f "$f" "$SQ_PG_BASE dbname=$OLD" >/dev/null
    n=$(basename "$f" .sql)
    qo "INSERT INTO syncq_schema_migrations (version, name) VALUES (${n%%_*}, '$n')"
done
A40=$(uuid7 40) A40B=$(uuid7 40 2) A35=$(uuid7 35) A35B=$(uuid7 35 2) NOW=$(uuid7 0)
qo "INSERT INTO syncq_jobs (job_id, queue, status, attempts, enqueued_at, finished_at, rev) VALUES
     ('$A40', 'default', 'success', 1, now() - interval '40 days', now() - interval '40 days', 3),
     ('$A40B', 'default', 'dead', 2, now() - interval '40 days', now() - interval '39 days', 7),
     ('$A35', 'default', 'success', 1, now() - interval '35 days', now() - interval '35 days', 3),
     ('$A35B', 'default', 'retrying', 1, now() - interval '35 days', NULL, 5),
     ('$NOW', 'default', 'running', 1, now(), NULL, 2),
     ('raw-old', 'default', 'dead', 1, now() - interval '50 days', now() - interval '50 days', 7),
     ('raw-new', 'default', 'success', 1, now(), now(), 3);
   INSERT INTO syncq_job_events (job_id, rev, event, outcome, attempt, error, at) VALUES
     ('$A40B', 3, 'attempt', 'transient', 1, 'HTTP 503', now() - interval '40 days'),
     ('$A35B', 3, 'attempt', 'transient', 1, 'HTTP 503', now() - interval '35 days'),
     ('raw-old', 3, 'attempt', 'permanent', 1, 'HTTP 400', now() - interval '50 days')"
SYNCQ_DATABASE_URL="$SQ_PG_BASE dbname=$OLD" bin/syncq migrate > "$W/migrate.txt" 2>&1 || { cat "$W/migrate.txt"; fail "migrate from 005"; }
grep -q '^applied 006_partition$' "$W/migrate.txt" || { cat "$W/migrate.txt"; fail "006 not applied"; }
export SYNCQ_DATABASE_URL="$SQ_PG_BASE dbname=$OLD"
assert_eq "$(q "SELECT relkind FROM pg_class WHERE oid = 'syncq_jobs'::regclass")" p "syncq_jobs partitioned"
assert_eq "$(q "SELECT relkind FROM pg_class WHERE oid = 'syncq_job_events'::regclass")" p "syncq_job_events partitioned"
assert_eq "$(q "SELECT count(*) FROM syncq_jobs")" 7 "jobs after the upgrade"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events")" 3 "events after the upgrade"
assert_eq "$(part "$A40")" "syncq_jobs_p$(day 40)" "a job 40 days old"
assert_eq "$(part "$NOW")" "syncq_jobs_p$(day 0)" "today's job"
assert_eq "$(part raw-old)" syncq_jobs_raw "a raw id"
assert_eq "$(q "SELECT tableoid::regclass FROM syncq_job_events WHERE job_id = '$A35B'")" "syncq_job_events_p$(day 35)" \
    "an event goes with its job's day"
for ahead in 1 7; do
    [ "$(q "SELECT to_regclass('syncq_jobs_p$(day -$ahead)') IS NOT NULL AND to_regclass('syncq_job_events_p$(day -$ahead)') IS NOT NULL")" = t ] ||
        fail "no partitions $ahead day(s) ahead"
done
# the copied rows answer through the CLI, and migrate again changes nothing
bin/syncq jobs show "$A40B" > "$W/show.txt" || fail "jobs show after the upgrade"
grep -q 'HTTP 503' "$W/show.txt" || { cat "$W/show.txt"; fail "the copied history"; }
bin/syncq status "$A35B" | grep -q retrying || fail "status after the upgrade"
q "DELETE FROM syncq_schema_migrations WHERE version = 6"
bin/syncq migrate >/dev/null 2>&1 || fail "006 run a second time"
assert_eq "$(q "SELECT count(*) FROM syncq_jobs")" 7 "jobs after 006 ran twice"

# ---- (b) a lookup by id reads one partition (the query of audit_status)
plan=$(q "EXPLAIN SELECT status FROM syncq_jobs WHERE job_id = '$A35' AND id_at = syncq_id_time('$A35')")
echo "$plan"
assert_eq "$(echo "$plan" | grep -c 'on syncq_jobs_')" 1 "partitions a lookup by id reads"
echo "$plan" | grep -q "syncq_jobs_p$(day 35)" || fail "the lookup reads another partition"
plan=$(q "EXPLAIN SELECT status FROM syncq_jobs WHERE job_id = 'raw-new' AND id_at = syncq_id_time('raw-new')")
echo "$plan" | grep -q "on syncq_jobs_raw" || fail "a raw id's lookup: $plan"
# the CHECK: a row whose key is not its id's time is refused
rc=0
q "INSERT INTO syncq_jobs (job_id, queue, status) VALUES ('$(uuid7 3 9)', 'default', 'queued')" 2>/dev/null || rc=$?
[ "$rc" != 0 ] || fail "a UUIDv7 row with the raw key was accepted"

# ---- (c) the default partition: a day without a partition, then made
F=$(uuid7 -30)
q "INSERT INTO syncq_jobs (job_id, queue, status, id_at) VALUES ('$F', 'default', 'queued', syncq_id_time('$F'))"
assert_eq "$(part "$F")" syncq_jobs_default "a row whose day has no partition"
assert_eq "$(q "SELECT syncq_partition_create((now() + interval '30 days')::date)")" 2 "tables made for that day"
assert_eq "$(part "$F")" "syncq_jobs_p$(day -30)" "the row moved out of the default partition"

# ---- (d) prune: the 40-day partition drops whole; the 35-day one keeps its open job
out=$(bin/syncq prune --older-than 30d)
echo "$out"
case "$out" in "pruned 4 job(s) and 2 event(s) finished before "*"(1 day partition(s) dropped whole)") ;;
    *) fail "prune: $out" ;; esac
assert_eq "$(q "SELECT to_regclass('syncq_jobs_p$(day 40)') IS NULL AND to_regclass('syncq_job_events_p$(day 40)') IS NULL")" t \
    "the 40-day partitions are gone"
assert_eq "$(q "SELECT string_agg(job_id, ' ' ORDER BY job_id) FROM syncq_jobs WHERE job_id IN ('$A35', '$A35B', 'raw-old')")" \
    "$A35B" "what prune left of the old jobs"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE job_id = '$A35B'")" 1 "the open job's event"
assert_eq "$(q "SELECT to_regclass('syncq_jobs_p$(day 35)') IS NOT NULL")" t "a day with an open job stays"
assert_eq "$(q "SELECT count(*) FROM syncq_jobs WHERE job_id IN ('$NOW', 'raw-new')")" 2 "recent jobs kept"

# ---- (e) the writer makes the days ahead (here: one dropped by hand) and files a job under today
export SYNCQ_DATABASE_URL="$SQ_PG_BASE dbname=$DB"
q "DROP TABLE syncq_jobs_p$(day -7), syncq_job_events_p$(day -7)"
start_worker -c 1 -q urgent
made() { [ "$(q "SELECT to_regclass('syncq_jobs_p$(day -7)') IS NOT NULL AND to_regclass('syncq_job_events_p$(day -7)') IS NOT NULL")" = t ]; }
wait_for 20 "the writer making the day 7 ahead" made
grep -q '"event":"audit.partitions".*made 2 audit partition' "$W/worker.log" || fail "no audit.partitions line"
id=$(bin/syncq enqueue --queue urgent --service syncq --action noop)
done_() { [ "$(count "job_id = '$id' AND status = 'success'")" = 1 ]; }
wait_for 20 "the job's row" done_
stop_worker
assert_eq "$(part "$id")" "syncq_jobs_p$(day 0)" "a job the worker ran"
assert_eq "$(q "SELECT count(*) FROM syncq_jobs_default")" 0 "rows in the default partition"

# ---- (f) syncq_id_time (schema/007_id_time.sql, no regular expression) files every id where
# 006's regular expression did: valid v7 ids in both cases, and every one mutated by one
# character at each position (hex digits, other letters, a dash, a space, a multibyte letter),
# shortened and lengthened by one; syncq_jobs' CHECK, spelled out in 007, takes each of them at
# that key and refuses a v7 id under the epoch and a raw id under a day
agree=$(psql -X -A -t -q -v ON_ERROR_STOP=1 "$SYNCQ_DATABASE_URL" <<'SQL'
CREATE TEMP TABLE base AS SELECT CASE WHEN g % 2 = 0 THEN upper(u) ELSE u END AS id
  FROM (SELECT g, lpad(to_hex(1700000000000 + g * 7919), 12, '0') AS h FROM generate_series(1, 40) g) x,
       LATERAL (SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(md5(g::text), 1, 3) || '-' ||
                       substr('89ab', 1 + g % 4, 1) || substr(md5(g::text), 4, 3) || '-' ||
                       substr(md5(g::text), 7, 12) AS u) y;
CREATE TEMP TABLE cand AS
  SELECT id FROM base
  UNION ALL SELECT overlay(id PLACING c FROM p FOR 1) FROM base, generate_series(1, 36) p,
                   unnest(ARRAY['0', '9', 'a', 'f', 'A', 'F', 'g', 'G', 'z', '-', '7', '8', 'b', 'B', 'c', ' ', 'é']) c
  UNION ALL SELECT substr(id, 1, 35) FROM base UNION ALL SELECT id || '0' FROM base UNION ALL SELECT '0' || id FROM base;
SELECT count(*), count(*) FILTER (WHERE syncq_id_time(id) <> '1970-01-01 00:00:00+00'),
       count(*) FILTER (WHERE syncq_id_time(id) IS DISTINCT FROM
         CASE WHEN id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
              THEN to_timestamp(('x' || lpad(substr(id, 1, 8) || substr(id, 10, 4), 16, '0'))::bit(64)::bigint / 1000.0)
              ELSE timestamptz '1970-01-01 00:00:00+00' END)
  FROM cand;
-- syncq_jobs' CHECK (spelled out in 007, not a call) takes each at its key
INSERT INTO syncq_jobs (job_id, queue, status, id_at) SELECT DISTINCT id, 'idcheck', 'queued', syncq_id_time(id) FROM cand;
DELETE FROM syncq_jobs WHERE queue = 'idcheck';
SQL
)
echo "measure: ids compared, filed under a time, disagreeing with 006's regular expression: $agree"
IFS='|' read -r n timed differ <<<"$agree"
[ "$n" -gt 24000 ] && [ "$timed" -gt 40 ] && [ "$timed" -lt "$n" ] || fail "the comparison did not cover both kinds of id: $agree"
assert_eq "$differ" 0 "ids filed differently from 006's regular expression"
misfiled() { q "INSERT INTO syncq_jobs (job_id, queue, status, id_at) VALUES ('$1', 'idcheck', 'queued', '$2')" 2>&1; }
out=$(misfiled 019adc5b-e001-7abc-8def-0123456789ab '1970-01-01 00:00:00+00' || true)
echo "$out" | grep -q 'violates check constraint "syncq_jobs_id_at"' || fail "a v7 id filed under the epoch was not refused: $out"
out=$(misfiled raw-misfiled '2025-12-02 00:00:00.001+00' || true)
echo "$out" | grep -q 'violates check constraint "syncq_jobs_id_at"' || fail "a raw id filed under a day was not refused: $out"
assert_eq "$(count "queue = 'idcheck'")" 0 "misfiled rows kept"
