#!/bin/bash
# bench.sh - make bench: throughput and memory of the whole pipeline on a
# private Redis and PostgreSQL.
#   1. enqueue N no-op jobs with `syncq enqueue --batch` (pipelined; each job
#      also gets its "queued" audit record)      -> enqueue jobs/s
#   2. run syncq-worker until N success rows are committed in PostgreSQL
#                                                  -> processed jobs/s
#   plus Redis CPU per job, and peak RSS of the master and of one child.
# BENCH_N (100000), BENCH_C (children, default: one per core), BENCH_PEERS=1 adds BullMQ on the
# same Redis in the same run (machine speed drifts: compare ratios). Also: a persistent PHP exec
# handler against the same script per_job (BENCH_EXEC=0 skips it; BENCH_EXEC_N, _PER_JOB_N),
# and a 100,000-record sync (BENCH_SYNC=0 skips it).
set -eu
cd "$(dirname "$0")/.."
. scripts/servers.sh
N=${BENCH_N:-100000}
C=${BENCH_C:-$(nproc)}
tmp=$(mktemp -d /tmp/syncq-bench.XXXXXX)
chmod 755 "$tmp"
WPID=""
cleanup() {
    [ -n "$WPID" ] && kill -KILL "$WPID" 2>/dev/null || true
    servers_stop
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

servers_start "$tmp/srv" 2>/dev/null
sq_psql postgres -c "CREATE DATABASE bench" >/dev/null
export SYNCQ_REDIS_URL=$SQ_REDIS_URL SYNCQ_DATABASE_URL="$SQ_PG_BASE dbname=bench" SYNCQ_PREFIX=bench
bin/syncq migrate >/dev/null

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
redis_cpu() { sq_redis INFO cpu | awk -F: '/^used_cpu_(sys|user):/ { s += $2 } END { printf "%.4f", s }'; }
# ticks PID...: user+system CPU ticks of the processes (and their reaped children)
ticks() { for p in "$@"; do awk '{ print $14 + $15 + $16 + $17 }' "/proc/$p/stat" 2>/dev/null; done | awk '{ s += $1 } END { print s + 0 }'; }
pg_pids() { local pm; pm=$(head -1 "$SQ_PG_DATA/postmaster.pid"); echo "$pm $(pgrep -P "$pm" | tr '\n' ' ')"; }
kb() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# the enqueue function alone, one connection: a round trip per job, then 64 in flight
fn_rate() { # pipeline
    redis-benchmark -p "$SQ_REDIS_PORT" -n 50000 -c 1 -P "$1" -q FCALL syncq_enqueue 1 'fnbench:{q}:ready' \
        '{"kind":"mutation","service":"syncq","action":"noop","payload":{"n":1}}' 2>/dev/null |
        tr '\r' '\n' | grep -o '[0-9.]* requests per second' | tail -1 | awk '{ printf "%.0f", $1 }'
}
bin/syncq enqueue --queue fnbench --service syncq --action noop >/dev/null 2>&1 # loads the library
fn_single=$(fn_rate 1)
fn_piped=$(fn_rate 64)
sq_redis EVAL "for _, k in ipairs(redis.call('KEYS', 'fnbench:*')) do redis.call('DEL', k) end" 0 >/dev/null
sq_redis DEL 'bench:{fnbench}:ready' 'bench:{fnbench}:outbox' >/dev/null

awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\",\"payload\":{\"n\":%d}}\n", i }' > "$tmp/jobs.ndjson"

t0=$(now)
bin/syncq enqueue --queue default --batch "$tmp/jobs.ndjson" > /dev/null 2>"$tmp/enqueue.log"
t1=$(now)
enq=$(rate "$N" "$t0" "$t1")

sq_redis CONFIG RESETSTAT >/dev/null
cpu0=$(redis_cpu)
pg0=$(ticks $(pg_pids))
t0=$(now)
bin/syncq-worker -c "$C" -q default 2>"$tmp/worker.log" &
WPID=$!
peak_child=0 peak_child_anon=0 peak_master=0
while :; do
    n=$(sq_psql bench -At -c "SELECT count(*) FROM syncq_jobs WHERE status = 'success'")
    for p in $(pgrep -P "$WPID" || true); do
        h=$(kb "$p" VmHWM); a=$(kb "$p" RssAnon)
        [ "${h:-0}" -gt "$peak_child" ] && peak_child=$h
        [ "${a:-0}" -gt "$peak_child_anon" ] && peak_child_anon=$a
    done
    m=$(kb "$WPID" VmHWM); [ "${m:-0}" -gt "$peak_master" ] && peak_master=$m
    [ "$n" -ge "$N" ] && break
    kill -0 "$WPID" 2>/dev/null || { echo "worker died:"; tail "$tmp/worker.log"; exit 1; }
    sleep 0.2
done
t1=$(now)
cpu1=$(redis_cpu)
pg1=$(ticks $(pg_pids))
kids=$(pgrep -P "$WPID" | tr '\n' ' ')
writer=$(echo "$kids" | awk '{ print $1 }')   # the master forks the writer first
child_ticks=$(ticks $(echo "$kids" | cut -d' ' -f2-))
writer_ticks=$(ticks "$writer")
master_ticks=$(awk '{ print $14 + $15 }' "/proc/$WPID/stat")
proc=$(rate "$N" "$t0" "$t1")
master_anon=$(kb "$WPID" RssAnon)
kill -TERM "$WPID"; wait "$WPID" || true; WPID=""
rows=$(sq_psql bench -At -c "SELECT count(*) FROM syncq_jobs")

echo "syncq bench: $N no-op jobs, $C children, Redis $(redis-server --version | awk '{print $3}'), $(nproc) cores"
echo "  enqueue function (FCALL syncq_enqueue), 1 connection: $fn_single jobs/s one by one, $fn_piped jobs/s pipelined (64)"
echo "  enqueue (syncq enqueue --batch, pipelined):  $enq jobs/s"
echo "  processed, audit rows committed:             $proc jobs/s   ($rows rows in syncq_jobs)"
awk -v a="$cpu0" -v b="$cpu1" -v n="$N" 'BEGIN { printf "  Redis CPU per processed job:                 %.1f us\n", (b - a) * 1e6 / n }'
hz=$(getconf CLK_TCK)
awk -v r="$cpu1" -v r0="$cpu0" -v pg="$((pg1 - pg0))" -v c="$child_ticks" -v w="$writer_ticks" -v m="$master_ticks" -v hz="$hz" -v n="$N" \
    'BEGIN { printf "  CPU us per job: redis %.1f, postgres %.1f, children %.1f, writer %.1f, master %.1f\n", (r - r0) * 1e6 / n, pg / hz * 1e6 / n, c / hz * 1e6 / n, w / hz * 1e6 / n, m / hz * 1e6 / n }'
echo "  master peak RSS (VmHWM):                     $((peak_master / 1024)) MB, RssAnon $((master_anon)) kB"
echo "  child peak RSS (VmHWM):                      $((peak_child / 1024)) MB, peak RssAnon $peak_child_anon kB"

# exec handlers (docs/HANDLERS.md): the same PHP script (examples/handlers/greet.php, next
# to a no-op) as a persistent program and per_job, C children each: jobs/s side by side
if [ "${BENCH_EXEC:-1}" = 1 ] && command -v php >/dev/null; then
    EPN=${BENCH_EXEC_PER_JOB_N:-300}
    EN=${BENCH_EXEC_N:-3000}
    cat > "$tmp/exec.json" <<'JSON'
{"services": {
  "php_persistent": {"exec": {"command": ["php", "examples/handlers/greet.php"], "mode": "persistent"}, "actions": {"noop": {}}},
  "php_per_job": {"exec": {"command": ["php", "examples/handlers/greet.php"]}, "actions": {"noop": {}}}}}
JSON
    exec_rate() { # service n: enqueue n jobs, then time a worker until they are committed
        local svc=$1 n=$2 t0 t1
        awk -v n="$n" -v s="$svc" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"kind\":\"mutation\",\"service\":\"%s\",\"action\":\"noop\",\"target_id\":\"%d\"}\n", s, i }' > "$tmp/exec.ndjson"
        bin/syncq enqueue --queue execq --batch "$tmp/exec.ndjson" > /dev/null 2>&1
        t0=$(now)
        SYNCQ_SERVICES="$tmp/exec.json" bin/syncq-worker -c "$C" -q execq 2>>"$tmp/exec-worker.log" &
        WPID=$!
        until [ "$(sq_psql bench -At -c "SELECT count(*) FROM syncq_jobs WHERE service = '$svc' AND status = 'success'")" -ge "$n" ]; do
            kill -0 "$WPID" 2>/dev/null || { echo "worker died:"; tail "$tmp/exec-worker.log"; exit 1; }
            sleep 0.1
        done
        t1=$(now)
        kill -TERM "$WPID"; wait "$WPID" || true; WPID=""
        awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n / (b - a) }'
    }
    per_job=$(exec_rate php_per_job "$EPN")
    persistent=$(exec_rate php_persistent "$EN")
    echo "  exec handler, the same PHP script, $C children (from worker start to committed rows):"
    awk -v a="$persistent" -v b="$per_job" -v n="$EN" -v m="$EPN" \
        'BEGIN { printf "    persistent: %.1f jobs/s (%d jobs)   per_job: %.1f jobs/s (%d jobs)   persistent/per_job: %.1fx\n", a, n, b, m, a / b }'
fi

# sync: 100,000 remote records from the mock service, first sync and a
# no-change re-sync, timed from enqueue to the committed audit row
if [ "${BENCH_SYNC:-1}" = 1 ]; then
    SN=${BENCH_SYNC_N:-100000}
    /usr/bin/python3 tests/mock/mock_service.py --port 0 --port-file "$tmp/mock.port" >"$tmp/mock.log" 2>&1 &
    MPID=$!
    for _ in $(seq 1 100); do [ -s "$tmp/mock.port" ] && break; sleep 0.1; done
    mport=$(cat "$tmp/mock.port")
    curl -s -X POST "http://127.0.0.1:$mport/_admin/seed" -d "{\"zone\":\"bench.example\",\"count\":$SN}" >/dev/null
    sed "s/@PORT@/$mport/" tests/services/sync.json.in | sed 's/Bearer ${MOCK_TOKEN}/none/' > "$tmp/services.json"
    SYNCQ_SERVICES="$tmp/services.json" bin/syncq-worker -c 1 -q sync 2>"$tmp/sync-worker.log" &
    WPID=$!
    sync_once() {
        local id t0 t1
        t0=$(now)
        id=$(bin/syncq enqueue --kind sync --service dns --action sync_records --scope bench.example 2>/dev/null)
        until [ "$(sq_psql bench -At -c "SELECT count(*) FROM syncq_jobs WHERE job_id = '$id' AND status IN ('success', 'dead')")" = 1 ]; do sleep 0.1; done
        t1=$(now)
        echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') $(sq_psql bench -At -c "SELECT result FROM syncq_jobs WHERE job_id = '$id'")"
    }
    first=$(sync_once)
    again=$(sync_once)
    kill -TERM "$WPID"; wait "$WPID" || true; WPID=""
    kill "$MPID" 2>/dev/null || true
    echo "  sync of $SN remote records (pages of 100, mock service on loopback):"
    echo "    first sync:     ${first%% *} s  ${first#* }"
    echo "    no-change sync: ${again%% *} s  ${again#* }"
fi

if [ "${BENCH_VERBOSE:-0}" = 1 ]; then
    echo "  Redis time by command (usec per processed job):"
    sq_redis INFO commandstats | tr -d '\r' | awk -F'[:,=]' -v n="$N" '/^cmdstat_/ { printf "    %-28s calls %8d  %6.2f\n", $1, $3, $5 / n }' | sort -k4 -nr | head -12
fi

if [ "${BENCH_PEERS:-0}" = 1 ]; then
    echo "  peer, same Redis:"
    sh -c "../shared/peers/bullmq/run.sh $SQ_REDIS_PORT $N" 2>&1 | sed 's/^/    /' || echo "    (BullMQ peer failed to run)"
fi
