#!/bin/bash
# bench_web.sh - make bench-web (make bench runs it too, workload "web"): the
# web console's server time with BENCH_WEB_ROWS (1,000,000) rows in
# syncq_jobs, on a private Redis and PostgreSQL.
#
# The rows: enqueued over the last BENCH_WEB_DAYS (30) days, one every
# 30 days / N (about 2,600 an hour for 1,000,000), 96% success, 2% dead,
# 1% conflict, the rest queued/retrying; 10 services x 5 actions; a failed
# attempt event for every dead job and every 25th success (its first try).
# The figures are the Server-Timing the console puts on every answer (the
# time from the request's arrival to the answer built: queries and HTML),
# median of BENCH_WEB_REPS (7) requests after one warm-up, for:
#   jobs first page     /jobs (50 rows)
#   jobs deep page      /jobs?before=CURSOR, the cursor at row 900,000 of 1,000,000
#   jobs dead filter    /jobs?status=dead
#   overview            / (Redis fleet, last hour per service/action with
#                       p50/p95, the per-minute chart; the 24 h figures come
#                       from a background reader, whose time is printed too)
# Target: under 100 ms each.
set -eu
cd "$(dirname "$0")/.."
. scripts/servers.sh
ROWS=${BENCH_WEB_ROWS:-1000000}
DAYS=${BENCH_WEB_DAYS:-30}
REPS=${BENCH_WEB_REPS:-7}
tmp=$(mktemp -d /tmp/syncq-bench-web.XXXXXX)
WPID=""
cleanup() {
    [ -z "$WPID" ] || kill "$WPID" 2>/dev/null || true
    if [ "${BENCH_WEB_KEEP:-0}" = 1 ]; then # look at the plans by hand; stop with scripts/servers.sh
        echo "kept: SYNCQ_DATABASE_URL='$SYNCQ_DATABASE_URL' SQ_DIR=$SQ_DIR" >&2
        return
    fi
    servers_stop
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { printf '  %s\n' "$*" >&2; }

servers_start "$tmp/srv" 2>/dev/null
sq_psql postgres -c "CREATE DATABASE benchweb" >/dev/null
export SYNCQ_REDIS_URL=$SQ_REDIS_URL SYNCQ_DATABASE_URL="$SQ_PG_BASE dbname=benchweb" SYNCQ_PREFIX=benchweb
unset SYNCQ_WEB_USERS
bin/syncq migrate >/dev/null 2>&1
psql_() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$SYNCQ_DATABASE_URL" "$@"; }

log "loading $ROWS rows into syncq_jobs (over $DAYS days)"
t0=$(date +%s)
psql_ -c "
INSERT INTO syncq_jobs (job_id, queue, kind, service, action, target_type, target_id, scope, actor, payload, status,
                        attempts, last_error, worker, enqueued_at, started_at, finished_at, duration_ms, rev)
SELECT 'bench-' || lpad(g::text, 8, '0'), CASE WHEN g % 3 = 0 THEN 'sync' ELSE 'default' END, 'mutation',
       'svc' || (g % 10), 'act' || (g % 5), 'record', 'r' || (g % 5000), 'zone' || (g % 50) || '.example',
       'user:' || (g % 200), jsonb_build_object('name', 'www' || g, 'ttl', 300),
       s.status, CASE WHEN s.status = 'dead' THEN 5 ELSE 1 + (g % 25 = 0)::int END,
       CASE WHEN s.status IN ('dead', 'conflict') THEN 'HTTP 500 from svc' || (g % 10) || ': upstream error ' || g END,
       'bench:1:boot', t.at, t.at + interval '5 ms',
       CASE WHEN s.status IN ('success', 'dead', 'conflict') THEN t.at + (20 + g % 400) * interval '1 ms' END,
       CASE WHEN s.status IN ('success', 'dead', 'conflict') THEN 15 + g % 400 END, 3
FROM generate_series(1, $ROWS) g,
     LATERAL (SELECT now() - ($ROWS - g) * (interval '$DAYS days' / $ROWS) AS at) t,
     LATERAL (SELECT CASE WHEN g % 100 < 96 THEN 'success' WHEN g % 100 < 98 THEN 'dead'
                          WHEN g % 100 = 98 THEN 'conflict' WHEN g % 2 = 0 THEN 'queued' ELSE 'retrying' END AS status) s;
INSERT INTO syncq_job_events (job_id, rev, event, outcome, attempt, error, worker, at, duration_ms)
SELECT job_id, 1, 'attempt', 'transient', 1, 'HTTP 503', worker, started_at, 30
  FROM syncq_jobs WHERE status = 'dead' OR (status = 'success' AND attempts = 2);" >/dev/null
psql_ -c "VACUUM ANALYZE syncq_jobs" -c "VACUUM ANALYZE syncq_job_events" >/dev/null
log "loaded in $(( $(date +%s) - t0 )) s: $(psql_ -c "SELECT count(*) FROM syncq_jobs") jobs, $(psql_ -c "SELECT count(*) FROM syncq_job_events") events"

# a deep cursor: the key of row 90% down the newest-first order
deep=$(psql_ -c "SELECT to_char(enqueued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') || ',' || job_id
                 FROM syncq_jobs ORDER BY enqueued_at DESC NULLS FIRST, job_id DESC OFFSET $(( ROWS * 9 / 10 )) LIMIT 1")
deep_q=$(/usr/bin/python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$deep")

bin/syncq web --insecure-local --port 0 --port-file "$tmp/web.port" >"$tmp/web.log" 2>&1 &
WPID=$!
for _ in $(seq 1 100); do [ -s "$tmp/web.port" ] && break; sleep 0.1; done
BASE="http://127.0.0.1:$(cat "$tmp/web.port")"
curl -s -c "$tmp/jar" -o /dev/null "$BASE/favicon.ico" # --insecure-local: the session cookie (no page read yet)
# the overview's 24 h figures come from a background reader (web_page_overview.c): measure
# the pages once they are there, and say how long the reader took
t0=$(date +%s%3N)
for _ in $(seq 1 600); do
    curl -s -b "$tmp/jar" "$BASE/api/overview" | grep -q '"last_24h"' && break
    sleep 0.1
done
log "the 24 h figures were ready $(( $(date +%s%3N) - t0 )) ms after the console started (read off the request path)"

# server_ms PATH: "FIRST MEDIAN": the Server-Timing of the first request and
# the median of the REPS after it
server_ms() {
    local i out=()
    for i in $(seq 0 "$REPS"); do
        out+=("$(curl -s -b "$tmp/jar" -D - -o /dev/null "$BASE$1" | tr -d '\r' | awk -v p="$1" '
            /^HTTP/ && $2 != 200 { print "bench_web: " p " answered " $2 > "/dev/stderr"; exit 1 }
            tolower($1) == "server-timing:" { sub(/.*dur=/, ""); print }')")
    done
    printf '%s ' "${out[0]}"
    printf '%s\n' "${out[@]:1}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

printf '\nweb console, %s rows in syncq_jobs (server time: the first request, then the median of %s):\n' "$ROWS" "$REPS"
for spec in "overview|/" "overview JSON|/api/overview" "jobs first page|/jobs" \
            "jobs deep page (row $(( ROWS * 9 / 10 )))|/jobs?before=$deep_q" "jobs status=dead|/jobs?status=dead" \
            "jobs text search (rare: a full scan)|/jobs?text=upstream%20error%20999"; do
    name=${spec%%|*} path=${spec#*|}
    read -r first median < <(server_ms "$path")
    mark=$(awk -v m="$median" -v f="$first" 'BEGIN { print (m < 100 && f < 100) ? "ok" : "over 100 ms" }')
    printf '  %-38s first %8s ms   median %8s ms  %s\n' "$name" "$first" "$median" "$mark"
done
echo "  (the overview's 24 h figures are read once a minute by a thread of their own, off the request path)"
