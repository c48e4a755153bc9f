#!/usr/bin/env bash
# demo.sh - `make run`: syncq end to end on a private Redis + PostgreSQL under ./.run/.
# Starts the servers, migrates, runs `syncq-worker -c 2`, enqueues a demo set, waits until
# every job has ended, prints the audit table, then stops everything (also on Ctrl-C).
# The Makefile runs it with sh: switch to bash first (servers.sh is a bash library).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
RUN=$ROOT/.run
SYNCQ=$ROOT/bin/syncq
WORKER=$ROOT/bin/syncq-worker

for b in "$SYNCQ" "$WORKER"; do
    if [ ! -x "$b" ]; then
        echo "demo: $b is missing; run: make all" >&2
        exit 1
    fi
done

# shellcheck source=scripts/servers.sh
. "$ROOT/scripts/servers.sh"

WORKER_PID=""
CLEANED=0

# _children PID: the pids whose parent is PID (read from /proc; no name matching).
_children() {
    local parent=$1 f st state ppid
    for f in /proc/[0-9]*/stat; do
        st=$(cat "$f" 2>/dev/null) || continue
        # after "PID (COMM) " come "STATE PPID ..."
        read -r state ppid _ <<<"${st##*) }"
        : "$state"
        if [ "$ppid" = "$parent" ]; then
            f=${f#/proc/}
            echo "${f%/stat}"
        fi
    done
}

stop_worker() {
    local pid=$WORKER_PID kids deadline
    [ -n "$pid" ] || return 0
    WORKER_PID=""
    if _sq_alive "$pid"; then
        echo "demo: stopping the worker (SIGTERM to pid $pid)" >&2
        kill -TERM "$pid" 2>/dev/null || true
        deadline=$(($(_sq_now_ms) + 30000))
        while _sq_alive "$pid" && [ "$(_sq_now_ms)" -lt "$deadline" ]; do
            sleep 0.1
        done
        if _sq_alive "$pid"; then
            # Its children run in their own process groups: kill them by pid, then the master.
            kids=$(_children "$pid" | tr '\n' ' ')
            echo "demo: worker did not exit in 30 s; SIGKILL to $pid${kids:+ and its children $kids}" >&2
            # shellcheck disable=SC2086
            [ -z "$kids" ] || kill -KILL $kids 2>/dev/null || true
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}

MOCK_PID=""
cleanup() {
    [ "$CLEANED" = 0 ] || return 0
    CLEANED=1
    trap - EXIT INT TERM
    stop_worker
    [ -z "$MOCK_PID" ] || { kill "$MOCK_PID" 2>/dev/null; wait "$MOCK_PID" 2>/dev/null; } || true
    servers_stop
}
trap 'cleanup' EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

servers_start "$RUN"

SYNCQ_REDIS_URL=$SQ_REDIS_URL
SYNCQ_DATABASE_URL="$SQ_PG_BASE dbname=syncq"
SYNCQ_PREFIX=syncq
export SYNCQ_REDIS_URL SYNCQ_DATABASE_URL SYNCQ_PREFIX

if [ -z "$(sq_psql postgres -At -c "select 1 from pg_database where datname = 'syncq'")" ]; then
    sq_psql postgres -c 'create database syncq'
fi
"$SYNCQ" migrate

# The bundled mock service stands in for a DNS provider (tests/mock/mock_service.py):
# examples/services.dns.json with its base URL pointed at the mock.
rm -f "$RUN/mock.port"
/usr/bin/python3 "$ROOT/tests/mock/mock_service.py" --port 0 --port-file "$RUN/mock.port" --token demo-token \
    >"$RUN/mock.log" 2>&1 &
MOCK_PID=$!
for _ in $(seq 1 100); do [ -s "$RUN/mock.port" ] && break; sleep 0.1; done
MOCK_URL="http://127.0.0.1:$(cat "$RUN/mock.port")"
curl -s -X POST "$MOCK_URL/_admin/reset" >/dev/null
curl -s -X POST "$MOCK_URL/_admin/seed" -d '{"zone":"example.org","count":250}' >/dev/null
sed "s|https://api.dns-provider.example/v1|$MOCK_URL|" "$ROOT/examples/services.dns.json" >"$RUN/services.json"
export SYNCQ_SERVICES="$RUN/services.json" DNS_TOKEN=demo-token DNS_ACCOUNT=demo
echo "demo: mock DNS provider on $MOCK_URL with 250 records in zone example.org" >&2

WORKER_LOG=$RUN/worker.log
"$WORKER" -c 2 </dev/null >>"$WORKER_LOG" 2>&1 &
WORKER_PID=$!
echo "demo: syncq-worker -c 2 running as pid $WORKER_PID (log: $WORKER_LOG)" >&2

IDS=$RUN/demo-ids.txt
: >"$IDS"
expected=0
# Enqueue times of this run are after START (the audit database is kept between runs).
START=$(sq_psql postgres -At -c "select now() - interval '1 second'")

# (a) a mutation with secrets in its payload: the audit row shows them masked.
"$SYNCQ" enqueue --kind mutation --service syncq --action noop --actor user:42 \
    --target-type account --target-id acct-1 \
    --payload '{"user":"ada","password":"hunter2","config":{"api":{"apiKey":"sk_live_123"}},"tokens":["t1","t2"]}' \
    | tee -a "$IDS"
expected=$((expected + 1))

# (b) a permanent failure: straight to dead-letter.
"$SYNCQ" enqueue --service syncq --action fail --payload '{"permanent":true}' | tee -a "$IDS"
expected=$((expected + 1))

# (c) a batch: 20 quick no-ops and one 300 ms sleep.
BATCH=$RUN/demo-batch.ndjson
: >"$BATCH"
for n in $(seq 1 20); do
    printf '{"kind":"mutation","service":"syncq","action":"noop","payload":{"n":%d}}\n' "$n" >>"$BATCH"
done
printf '{"kind":"mutation","service":"syncq","action":"sleep","payload":{"ms":300}}\n' >>"$BATCH"
"$SYNCQ" enqueue --batch "$BATCH" >>"$IDS"
expected=$((expected + $(wc -l <"$BATCH")))

# (d) the service handlers: a sync of the zone, a create, an update with a stale
# expected_hash (conflict: the provider is not called), a delete.
SYNC_ID=$("$SYNCQ" enqueue --kind sync --service dns --action sync_records --scope example.org --actor cron)
echo "$SYNC_ID" | tee -a "$IDS"
for _ in $(seq 1 100); do # the mutations below act on the snapshot the sync writes
    [ "$(sq_psql syncq -At -c "select status from syncq_jobs where job_id = '$SYNC_ID'")" = success ] && break
    sleep 0.2
done
"$SYNCQ" enqueue --service dns --action create_record --scope example.org --actor user:42 \
    --payload '{"name":"www","type":"A","content":"192.0.2.10","ttl":300}' | tee -a "$IDS"
"$SYNCQ" enqueue --service dns --action update_record --scope example.org --target-id 0000000002 \
    --expected-hash stale --payload '{"name":"r2","type":"A","content":"192.0.2.99","ttl":300}' | tee -a "$IDS"
"$SYNCQ" enqueue --service dns --action delete_record --scope example.org --target-id 0000000003 | tee -a "$IDS"
expected=$((expected + 4))
echo "demo: enqueued $expected jobs" >&2

# This run's jobs: by the ids enqueue printed when there is one per job, else by enqueue time.
ids=$(grep -Eo '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}' "$IDS" |
    tr 'A-F' 'a-f' | sort -u || true)
if [ -n "$ids" ] && [ "$(printf '%s\n' "$ids" | wc -l)" -eq "$expected" ]; then
    # shellcheck disable=SC2086  # one id per word
    WHERE="job_id::text in ($(printf "'%s'," $ids | sed 's/,$//'))"
else
    WHERE="enqueued_at >= '$START'::timestamptz"
fi

# Wait (deadline 60 s) until every job has ended.
deadline=$(($(_sq_now_ms) + 60000))
done_count=0
while :; do
    done_count=$(sq_psql syncq -At -c \
        "select count(*) from syncq_jobs where status in ('success','dead','conflict') and $WHERE" 2>/dev/null ||
        echo 0)
    [ "$done_count" -lt "$expected" ] || break
    if ! _sq_alive "$WORKER_PID"; then
        echo "demo: the worker exited; last lines of $WORKER_LOG:" >&2
        tail -n 20 "$WORKER_LOG" >&2 || true
        exit 1
    fi
    if [ "$(_sq_now_ms)" -ge "$deadline" ]; then
        echo "demo: only $done_count of $expected jobs ended within 60 s; last lines of $WORKER_LOG:" >&2
        tail -n 20 "$WORKER_LOG" >&2 || true
        sq_psql syncq -P pager=off -c \
            "select status, count(*) from syncq_jobs where $WHERE group by status order by status" || true
        exit 1
    fi
    sleep 0.2
done

echo
# The table fits the terminal ($COLUMNS, else its width, else 100): payload and last_error are cut
# (ending in …) to share what whole job ids (time-ordered UUID v7s: any short end repeats), names
# and counts leave; narrower than that, psql shows one record at a time (expanded=auto).
WIDTH=${COLUMNS:-}
[ -n "$WIDTH" ] || { [ -t 1 ] && WIDTH=$(tput cols 2>/dev/null); } || true
WIDTH=${WIDTH:-100}
CELL=$(( (WIDTH - 84) / 2 ))
[ "$CELL" -ge 16 ] || CELL=16
echo "== audit table (syncq_jobs), $expected jobs of this run"
sq_psql syncq -P pager=off -P format=aligned -P expanded=auto -P columns="$WIDTH" -c "
select job_id, service || '/' || action as \"service/action\", status, attempts as att,
       case when char_length(payload::text) > $CELL then left(payload::text, $CELL - 1) || '…'
            else payload::text end as payload,
       case when char_length(last_error) > $CELL then left(last_error, $CELL - 1) || '…'
            else last_error end as last_error
  from syncq_jobs
 where $WHERE
 order by enqueued_at, job_id"

echo "== snapshot of zone example.org (syncq_snapshots), synced from the mock provider"
sq_psql syncq -P pager=off -c "
select sync_status, count(*) as rows, max(last_synced_at) as last_written
  from syncq_snapshots where service = 'dns' and scope = 'example.org' group by sync_status"
sq_psql syncq -P pager=off -c "
select external_id, data->>'name' as name, data->>'type' as type, data->>'content' as content, content_hash
  from syncq_snapshots where service = 'dns' and scope = 'example.org' order by written_at desc, external_id limit 4"

leaks=$(sq_psql syncq -At -c "select count(*) from syncq_jobs
    where $WHERE and (payload::text like '%hunter2%' or payload::text like '%sk_live_123%')")
if [ "$leaks" = "0" ]; then
    echo "demo: secrets in payloads are masked in the audit table"
else
    echo "demo: WARNING: $leaks audit rows show a secret in clear text" >&2
fi
echo "demo: all $expected jobs ended; stopping the worker and the servers" >&2
