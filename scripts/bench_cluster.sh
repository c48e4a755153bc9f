#!/bin/bash
# bench_cluster.sh - make bench with BENCH_CLUSTER=1: no-op job throughput on
# one Redis next to a 3-master, 3-replica Redis Cluster (scripts/cluster.sh),
# same PostgreSQL, same worker. BENCH_CLUSTER_N jobs (30,000) over 6 queues
# (two per master on the cluster), enqueued first by six `syncq enqueue --batch`
# at once (jobs/s of the enqueue), then run by BENCH_C children (nproc) of one
# master until the last success row is committed (jobs/s of the processing).
# BENCH_REPS (3) runs each, the median printed. On a machine with fewer cores
# than Redis nodes + children the cluster cannot beat one node: the figures
# show the routing's cost, not Redis scaling.
set -eu
cd "$(dirname "$0")/.."
. scripts/servers.sh
. scripts/cluster.sh
N=${BENCH_CLUSTER_N:-30000}
REPS=${BENCH_REPS:-3}
C=${BENCH_C:-$(nproc)}
tmp=$(mktemp -d /tmp/syncq-bench-cluster.XXXXXX)
WPID=""
cleanup() {
    [ -n "$WPID" ] && kill -KILL "$WPID" 2>/dev/null || true
    cluster_stop
    servers_stop
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
servers_start "$tmp/srv" 2>/dev/null
cluster_start "$tmp/cluster"
sq_psql postgres -c "CREATE DATABASE bench" >/dev/null
export SYNCQ_DATABASE_URL="$SQ_PG_BASE dbname=bench" SYNCQ_METRICS_ADDR=off
SYNCQ_REDIS_URL=$SQ_REDIS_URL bin/syncq migrate >/dev/null 2>&1
set -- $SQ_CLUSTER_PORTS
P1=$1
Q="c0 c1 c2 c3 c5 c6" # two per master with redis-cli --cluster create's slot ranges (it_cluster_run)
QL=$(echo $Q | tr ' ' ,)
per=$((N / 6))
N=$((per * 6))
for q in $Q; do
    awk -v n="$per" -v q="$q" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\",\"target_id\":\"%s-%d\",\"payload\":{\"n\":%d}}\n", q, i, i }' > "$tmp/$q.ndjson"
done
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
done_rows() { sq_psql bench -At -c "SELECT count(*) FROM syncq_jobs WHERE status = 'success'"; }

# one_run URL PREFIX: prints "enqueue_jobs_s process_jobs_s"
one_run() {
    local url=$1 prefix=$2 t0 t1 t2 pids=""
    sq_psql bench -q -c "TRUNCATE syncq_jobs, syncq_job_events" >/dev/null
    export SYNCQ_REDIS_URL=$url SYNCQ_PREFIX=$prefix
    t0=$(now)
    for q in $Q; do bin/syncq enqueue -q "$q" --batch "$tmp/$q.ndjson" >/dev/null 2>>"$tmp/enqueue.log" & pids="$pids $!"; done
    for p in $pids; do wait "$p"; done
    t1=$(now)
    bin/syncq-worker -c "$C" -q "$QL" 2>>"$tmp/worker.log" &
    WPID=$!
    until [ "$(done_rows)" -ge "$N" ]; do
        kill -0 "$WPID" 2>/dev/null || { tail "$tmp/worker.log" >&2; exit 1; }
        sleep 0.1
    done
    t2=$(now)
    kill -TERM "$WPID"; wait "$WPID" || true; WPID=""
    echo "$(rate "$N" "$t0" "$t1") $(rate "$N" "$t1" "$t2")"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
: > "$tmp/res_single"; : > "$tmp/res_cluster"
for rep in $(seq 1 "$REPS"); do
    one_run "$SQ_REDIS_URL" "b$rep" >> "$tmp/res_single"
    one_run "$SQ_CLUSTER_URL" "b$rep" >> "$tmp/res_cluster"
done
printf '\n%-34s %12s %12s\n' "no-op jobs, $N over 6 queues, $C children" "enqueue/s" "process/s"
printf '%-34s %12s %12s\n' "one Redis" "$(cut -d' ' -f1 "$tmp/res_single" | median)" "$(cut -d' ' -f2 "$tmp/res_single" | median)"
printf '%-34s %12s %12s\n' "Redis Cluster, 3 masters + 3 replicas" "$(cut -d' ' -f1 "$tmp/res_cluster" | median)" "$(cut -d' ' -f2 "$tmp/res_cluster" | median)"
echo "(medians of $REPS runs on $(nproc) cores)"
