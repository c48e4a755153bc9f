#!/bin/bash
# bench.sh - make bench: throughput and memory of the whole pipeline on a
# private Redis and PostgreSQL.
#   1. enqueue N no-op jobs with `syncq enqueue --batch` (pipelined; each job
#      also gets its "queued" audit record)      -> enqueue jobs/s
#   2. run syncq-worker until N success rows are committed in PostgreSQL
#                                                  -> processed jobs/s
#   plus Redis CPU per job, and peak RSS of the master and of one child.
# BENCH_N (100000), BENCH_C (children, 4), BENCH_PEERS=1 adds BullMQ on the
# same Redis in the same run (machine speed drifts: compare ratios).
set -eu
cd "$(dirname "$0")/.."
. scripts/servers.sh
N=${BENCH_N:-100000}
C=${BENCH_C:-4}
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
kb() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\",\"payload\":{\"n\":%d}}\n", i }' > "$tmp/jobs.ndjson"

t0=$(now)
bin/syncq enqueue --queue default --batch "$tmp/jobs.ndjson" > /dev/null 2>"$tmp/enqueue.log"
t1=$(now)
enq=$(rate "$N" "$t0" "$t1")

cpu0=$(redis_cpu)
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
proc=$(rate "$N" "$t0" "$t1")
master_anon=$(kb "$WPID" RssAnon)
kill -TERM "$WPID"; wait "$WPID" || true; WPID=""
rows=$(sq_psql bench -At -c "SELECT count(*) FROM syncq_jobs")

echo "syncq bench: $N no-op jobs, $C children, Redis $(redis-server --version | awk '{print $3}'), $(nproc) cores"
echo "  enqueue (syncq enqueue --batch, pipelined):  $enq jobs/s"
echo "  processed, audit rows committed:             $proc jobs/s   ($rows rows in syncq_jobs)"
awk -v a="$cpu0" -v b="$cpu1" -v n="$N" 'BEGIN { printf "  Redis CPU per processed job:                 %.1f us\n", (b - a) * 1e6 / n }'
echo "  master peak RSS (VmHWM):                     $((peak_master / 1024)) MB, RssAnon $((master_anon)) kB"
echo "  child peak RSS (VmHWM):                      $((peak_child / 1024)) MB, peak RssAnon $peak_child_anon kB"

if [ "${BENCH_PEERS:-0}" = 1 ]; then
    echo "  peer, same Redis:"
    sh -c "../shared/peers/bullmq/run.sh $SQ_REDIS_PORT $N" 2>&1 | sed 's/^/    /' || echo "    (BullMQ peer failed to run)"
fi
