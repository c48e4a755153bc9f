#!/bin/bash
# bench_audit.sh - make bench-audit (make bench runs it too, workload
# "audit"): the audit tables at scale, partitioned by day (schema/006,
# docs/DESIGN.md "Partitions") next to the unpartitioned layout of schema
# 001-005, on a private PostgreSQL. Both get the same BENCH_AUDIT_ROWS
# (1,000,000; the issue's figure is 50,000,000) jobs with UUIDv7 ids
# enqueued over BENCH_AUDIT_DAYS (30) days (96% success, 3% dead, 1%
# conflict; open jobs only in the last hour) and a failed-attempt event for
# every dead job. Figures, each the median of BENCH_AUDIT_REPS (5) runs
# after one warm-up, server time (psql \timing) of the SQL syncq sends:
#   load              the bulk INSERT of the rows (rows/s)
#   writer merge      BENCH_AUDIT_WRITES (100,000) new jobs written like the
#                     writer does: INSERT ... ON CONFLICT DO UPDATE in
#                     batches of 1,000, each job twice (insert, then its end)
#   jobs first page   syncq jobs / the console's /jobs: 50 rows newest first
#   jobs deep page    the keyset page at row 90% of the order
#   lookup by id      syncq status / jobs show: one job's row by id (and,
#                     partitioned, without the id_at predicate, for contrast)
#   retention         prune of the oldest third of the days: the batched
#                     DELETE of schema 005 against syncq prune's partition drops
# and, for the pages, PostgreSQL's planning and execution times apart
# (EXPLAIN ANALYZE). BENCH_AUDIT_CHECK=0 drops the id_at CHECK before the
# merge, to see what it costs.
set -eu
cd "$(dirname "$0")/.."
. scripts/servers.sh
ROWS=${BENCH_AUDIT_ROWS:-1000000}
DAYS=${BENCH_AUDIT_DAYS:-30}
REPS=${BENCH_AUDIT_REPS:-5}
WRITES=${BENCH_AUDIT_WRITES:-100000}
tmp=$(mktemp -d /tmp/syncq-bench-audit.XXXXXX)
cleanup() { servers_stop; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { printf '  %s\n' "$*" >&2; }

servers_start "$tmp/srv" 2>/dev/null
sq_psql postgres -c "CREATE DATABASE bpart" -c "CREATE DATABASE bflat" >/dev/null
PART="$SQ_PG_BASE dbname=bpart" FLAT="$SQ_PG_BASE dbname=bflat"
psql_() { local url=$1; shift; psql -X -q -A -t -v ON_ERROR_STOP=1 "$url" "$@"; }
SYNCQ_DATABASE_URL="$PART" SYNCQ_REDIS_URL=$SQ_REDIS_URL bin/syncq migrate >/dev/null 2>&1
for f in schema/00[1-5]_*.sql; do psql_ "$FLAT" -f "$f" >/dev/null; done
# the partitioned side: a partition for every day of the data
psql_ "$PART" -c "SELECT sum(syncq_partition_create(d::date)) FROM generate_series(now() - interval '$DAYS days' - interval '1 day',
                  now(), interval '1 day') d" >/dev/null

# the rows (KEY: the partitioned side's id_at column, or nothing)
rows_sql() {
    cat <<SQL
INSERT INTO syncq_jobs (job_id, queue, kind, service, action, target_type, target_id, actor, payload, status, attempts,
                        last_error, worker, enqueued_at, started_at, finished_at, duration_ms, rev $1)
SELECT i.id, 'default', 'mutation', 'svc' || (g % 10), 'act' || (g % 5), 'record', 'r' || (g % 5000),
       'user:' || (g % 200), jsonb_build_object('name', 'www' || g, 'ttl', 300), s.status,
       CASE WHEN s.status = 'dead' THEN 5 ELSE 1 END,
       CASE WHEN s.status IN ('dead', 'conflict') THEN 'HTTP 500 upstream error ' || g END, 'bench:1:boot',
       t.at, t.at + interval '5 ms', CASE WHEN s.status IN ('success', 'dead', 'conflict') THEN t.at + interval '40 ms' END,
       CASE WHEN s.status IN ('success', 'dead', 'conflict') THEN 35 END, 3 ${1:+, syncq_id_time(i.id)}
FROM generate_series(1, $ROWS) g,
     LATERAL (SELECT now() - ($ROWS - g) * (interval '$DAYS days' / $ROWS) AS at) t,
     LATERAL (SELECT lpad(to_hex((extract(epoch FROM t.at) * 1000)::bigint), 12, '0') AS h, md5(g::text) AS r) x,
     LATERAL (SELECT substr(x.h, 1, 8) || '-' || substr(x.h, 9, 4) || '-7' || substr(x.r, 1, 3) || '-8' || substr(x.r, 4, 3)
                     || '-' || substr(x.r, 7, 12) AS id) i,
     LATERAL (SELECT CASE WHEN t.at > now() - interval '1 hour' AND g % 100 = 99 THEN 'queued'
                          WHEN g % 100 < 96 THEN 'success' WHEN g % 100 < 99 THEN 'dead' ELSE 'conflict' END AS status) s;
INSERT INTO syncq_job_events (job_id, rev, event, outcome, attempt, error, worker, at, duration_ms $1)
SELECT job_id, 1, 'attempt', 'transient', 1, 'HTTP 503', worker, started_at, 30 $1 FROM syncq_jobs WHERE status = 'dead';
SQL
}
# BENCH_AUDIT_LATE_INDEX=1: load with only the primary keys, then build the
# other indexes (how the 006 upgrade copies; minutes instead of an hour at
# 50,000,000 rows). The load figure then includes the index builds.
LATE_INDEX=${BENCH_AUDIT_LATE_INDEX:-0}
IDX_WHERE="schemaname = 'public' AND tablename IN ('syncq_jobs', 'syncq_job_events')
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
index_defs() { psql_ "$1" -c "SELECT replace(indexdef, ' ON ONLY ', ' ON ') || ';' FROM pg_indexes i WHERE $IDX_WHERE"; }
index_drop() { psql_ "$1" -c "SELECT 'DROP INDEX ' || indexname || ';' FROM pg_indexes i WHERE $IDX_WHERE" | psql_ "$1" >/dev/null; }
secs() { /usr/bin/python3 -c 'import sys; print("%.1f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$1" "$2"; }
declare -A R
for side in flat part; do
    url=$FLAT key=""
    [ $side = part ] && url=$PART key=", id_at"
    log "loading $ROWS rows ($side)"
    [ "$LATE_INDEX" = 1 ] && index_defs "$url" > "$tmp/$side.idx" && index_drop "$url"
    t0=$(date +%s.%N)
    rows_sql "$key" | psql_ "$url" >/dev/null
    if [ "$LATE_INDEX" = 1 ]; then
        { echo "SET maintenance_work_mem = '1GB';"; cat "$tmp/$side.idx"; } | psql_ "$url" >/dev/null
        [ "$(index_defs "$url" | wc -l)" = "$(wc -l < "$tmp/$side.idx")" ] || { log "$side: indexes missing after the build"; exit 1; }
    fi
    t1=$(date +%s.%N)
    psql_ "$url" -c "VACUUM ANALYZE syncq_jobs" -c "VACUUM ANALYZE syncq_job_events" >/dev/null
    R[$side.load]=$(/usr/bin/python3 -c "print(round($ROWS / ($t1 - $t0)))")
done

# median_ms URL SQL: the median server time of REPS runs after a warm-up
median_ms() {
    { echo '\timing on'; for _ in $(seq 0 "$REPS"); do echo "$2;"; done; } | psql -X -q -v ON_ERROR_STOP=1 "$1" 2>&1 |
        awk '/^Time: / { n++; if (n > 1) print $2 }' | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }'
}
COLS="COALESCE(to_char(enqueued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '-'), job_id, queue, service, action,
      status, attempts, duration_ms, target_type, target_id, actor, last_error, replayed_from"
ORDER="ORDER BY enqueued_at DESC NULLS FIRST, job_id DESC LIMIT 51"
read -r dts did < <(psql_ "$PART" -F ' ' -c "SELECT enqueued_at, job_id FROM syncq_jobs $ORDER OFFSET $(( ROWS * 9 / 10 - 51 ))" | head -1 |
                   awk '{ print $1 "T" $2, $3 }')
ID=$(psql_ "$PART" -c "SELECT job_id FROM syncq_jobs ORDER BY job_id OFFSET $(( ROWS / 3 )) LIMIT 1")
for side in flat part; do
    url=$FLAT
    [ $side = part ] && url=$PART
    R[$side.first]=$(median_ms "$url" "SELECT $COLS FROM syncq_jobs WHERE true $ORDER")
    R[$side.deep]=$(median_ms "$url" "SELECT $COLS FROM syncq_jobs WHERE true AND (enqueued_at, job_id) < ('$dts'::timestamptz, '$did') $ORDER")
    R[$side.lookup]=$(median_ms "$url" "SELECT status, queue FROM syncq_jobs WHERE job_id = '$ID'")
done
# plan_exec URL SQL: "planning/execution" ms of one EXPLAIN ANALYZE (after the runs above)
plan_exec() {
    psql_ "$1" -c "EXPLAIN (ANALYZE, TIMING OFF) $2" | awk '/Planning Time/ { p = $3 } /Execution Time/ { e = $3 } END { print p "/" e }'
}
for side in flat part; do
    url=$FLAT
    [ $side = part ] && url=$PART
    R[$side.first_pe]=$(plan_exec "$url" "SELECT $COLS FROM syncq_jobs WHERE true $ORDER")
    R[$side.deep_pe]=$(plan_exec "$url" "SELECT $COLS FROM syncq_jobs WHERE true AND (enqueued_at, job_id) < ('$dts'::timestamptz, '$did') $ORDER")
done
R[part.lookup_key]=$(median_ms "$PART" "SELECT status, queue FROM syncq_jobs WHERE job_id = '$ID' AND id_at = syncq_id_time('$ID')")

# the writer's merge: WRITES new jobs (ids of today) in batches of 1,000, each twice
merge_sql() { # SIDE PHASE
    local cols="" sel="" conflict="(job_id)"
    [ "$1" = part ] && cols=", id_at" sel=", syncq_id_time(id)" conflict="(job_id, id_at)"
    local b
    for b in $(seq 0 $(( WRITES / 1000 - 1 ))); do
        cat <<SQL
INSERT INTO syncq_jobs AS j (job_id, queue, service, action, status, attempts, enqueued_at, finished_at, rev, updated_at $cols)
SELECT id, 'default', 'svc1', 'act1', '$2', 1, now(), CASE WHEN '$2' = 'success' THEN now() END, CASE WHEN '$2' = 'success' THEN 3 ELSE 0 END, now() $sel
  FROM (SELECT lpad(to_hex((extract(epoch FROM now()) * 1000)::bigint), 12, '0') AS h) x,
       LATERAL (SELECT substr(x.h, 1, 8) || '-' || substr(x.h, 9, 4) || '-7abc-9000-' || lpad(to_hex(g), 12, '0') AS id
                  FROM generate_series($(( b * 1000 )), $(( b * 1000 + 999 ))) g) i
ON CONFLICT $conflict DO UPDATE SET status = EXCLUDED.status, finished_at = EXCLUDED.finished_at, rev = EXCLUDED.rev,
   updated_at = now() WHERE j.rev <= EXCLUDED.rev;
SQL
    done
}
if [ "${BENCH_AUDIT_CHECK:-1}" = 0 ]; then # what the id_at CHECK costs the merge
    log "partitioned side without the id_at CHECK"
    psql_ "$PART" -c "ALTER TABLE syncq_jobs DROP CONSTRAINT syncq_jobs_id_at" >/dev/null
fi
for side in flat part; do
    url=$FLAT
    [ $side = part ] && url=$PART
    merge_sql $side queued > "$tmp/m1.sql"
    merge_sql $side success > "$tmp/m2.sql"
    t0=$(date +%s.%N)
    psql_ "$url" -f "$tmp/m1.sql" >/dev/null
    psql_ "$url" -f "$tmp/m2.sql" >/dev/null
    t1=$(date +%s.%N)
    R[$side.merge]=$(/usr/bin/python3 -c "print(round($WRITES * 2 / ($t1 - $t0)))")
done

# retention: the oldest third of the days
OLDER=$(( DAYS * 2 / 3 ))
log "retention: prune --older-than ${OLDER}d"
t0=$(date +%s.%N)
n=5000 total=0
while [ "$n" = 5000 ]; do # the batched DELETE of schema 005 (audit_prune before 006)
    n=$(psql_ "$FLAT" -c "WITH gone AS (DELETE FROM syncq_jobs WHERE job_id IN (SELECT job_id FROM syncq_jobs
          WHERE status IN ('success', 'dead', 'conflict', 'superseded') AND finished_at < now() - interval '$OLDER days' LIMIT 5000)
          RETURNING job_id), ev AS (DELETE FROM syncq_job_events e USING gone WHERE e.job_id = gone.job_id RETURNING 1)
          SELECT count(*) FROM gone")
    total=$(( total + n ))
done
t1=$(date +%s.%N)
R[flat.prune]=$(secs "$t0" "$t1") R[flat.pruned]=$total
t0=$(date +%s.%N)
out=$(SYNCQ_DATABASE_URL="$PART" bin/syncq prune --older-than "${OLDER}d")
t1=$(date +%s.%N)
R[part.prune]=$(secs "$t0" "$t1") R[part.pruned]=$out

printf '\naudit tables, %s jobs over %s days (server time, median of %s; the machine is shared: compare the columns)\n' "$ROWS" "$DAYS" "$REPS"
printf '  %-34s %16s %16s\n' "" "unpartitioned" "partitioned"
[ "$LATE_INDEX" = 1 ] && lbl="load + index build (rows/s)" || lbl="load (rows/s)"
printf '  %-34s %16s %16s\n' "$lbl" "${R[flat.load]}" "${R[part.load]}"
printf '  %-34s %16s %16s\n' "writer merge (rows/s)" "${R[flat.merge]}" "${R[part.merge]}"
printf '  %-34s %16s %16s\n' "jobs first page (ms)" "${R[flat.first]}" "${R[part.first]}"
printf '  %-34s %16s %16s\n' "jobs deep page, row 90% (ms)" "${R[flat.deep]}" "${R[part.deep]}"
printf '  %-34s %16s %16s\n' "  first page planning/execution" "${R[flat.first_pe]}" "${R[part.first_pe]}"
printf '  %-34s %16s %16s\n' "  deep page planning/execution" "${R[flat.deep_pe]}" "${R[part.deep_pe]}"
printf '  %-34s %16s %16s\n' "lookup by id (ms)" "${R[flat.lookup]}" "${R[part.lookup_key]}"
printf '  %-34s %16s %16s\n' "  partitioned without id_at (ms)" "" "${R[part.lookup]}"
printf '  %-34s %16s %16s\n' "retention, oldest ${OLDER}..${DAYS} d (s)" "${R[flat.prune]}" "${R[part.prune]}"
printf '  unpartitioned: %s jobs deleted in batches of 5,000\n  partitioned:   %s\n' "${R[flat.pruned]}" "${R[part.pruned]}"
