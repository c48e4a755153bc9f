#!/bin/bash
# bench_cluster.sh - make bench with BENCH_CLUSTER=1: no-op job throughput on
# one Redis next to a 3-master, 3-replica Redis Cluster (scripts/cluster.sh),
# same PostgreSQL, same worker. BENCH_CLUSTER_N jobs (30,000) over 6 queues
# (two per master on the cluster), enqueued first by six `syncq enqueue --batch`
# at once (jobs/s of the enqueue), then run by BENCH_C children (nproc) of one
# master until the last success row is committed (jobs/s of the processing).
# BENCH_REPS (3) runs each, the median printed. On a machine with fewer cores
# than Redis nodes + children the cluster cannot beat one node: the figures
# show the routing's cost, not Redis scaling. So a second part makes Redis the
# bottleneck on purpose: every master held to BENCH_CLUSTER_CAP (10) % of a
# core by a cgroup CPU quota (needs root and the cgroup v1 cpu controller;
# skipped with a message otherwise), BENCH_CLUSTER_SCALE_N (N / 3) jobs over 6
# queues placed on 1, then 2, then 3 masters, BENCH_CLUSTER_SCALE_C (16)
# children; it prints the rates and the busiest master's CPU while the jobs
# ran, which shows the cap was what limited.
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
    [ -n "${ON_PHASE:-}" ] && $ON_PHASE process
    bin/syncq-worker -c "$C" -q "$QL" 2>>"$tmp/worker.log" &
    WPID=$!
    until [ "$(done_rows)" -ge "$N" ]; do
        kill -0 "$WPID" 2>/dev/null || { tail "$tmp/worker.log" >&2; exit 1; }
        sleep 0.1
    done
    t2=$(now)
    [ -n "${ON_PHASE:-}" ] && $ON_PHASE end
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

# Redis-bound: the same jobs with the 6 queues on 1, 2 and 3 masters, every
# master held to BENCH_CLUSTER_CAP % of a core (cgroup CPU quota) so that
# Redis, not this machine's 2 cores, is what limits: how throughput grows
# with masters when Redis is the bottleneck. 0 skips it.
CAP=${BENCH_CLUSTER_CAP:-10}
CG=/sys/fs/cgroup/cpu
[ "$CAP" = 0 ] && exit 0
if ! mkdir -p "$CG/syncq-bench.$$" 2>/dev/null || [ ! -w "$CG/syncq-bench.$$/cpu.cfs_quota_us" ]; then
    echo "(Redis-bound part skipped: cannot make a cgroup under $CG; run as root with the cgroup v1 cpu controller)"
    exit 0
fi
SN=${BENCH_CLUSTER_SCALE_N:-$((N / 3))}
C=${BENCH_CLUSTER_SCALE_C:-16} # enough children that their round trips do not limit
per=$((SN / 6)) SN=$((SN / 6 * 6))
masters=$(cr "$P1" CLUSTER NODES | awk '$3 ~ /master/ { split($2, a, "[:@]"); print a[2] }')
cgroups=""
for m in $masters; do # one cgroup a master: CAP % of one core each, 20 ms periods (1 ms the least quota)
    g="$CG/syncq-bench.$$/m$m"
    mkdir -p "$g"
    echo 20000 > "$g/cpu.cfs_period_us"
    echo $((CAP * 200)) > "$g/cpu.cfs_quota_us"
    cr "$m" INFO server | tr -d '\r' | awk -F: '$1 == "process_id" { print $2 }' > "$g/cgroup.procs"
    cgroups="$cgroups $g"
done
rm_cgroups() { for g in $cgroups; do rmdir "$g" 2>/dev/null || true; done; rmdir "$CG/syncq-bench.$$" 2>/dev/null || true; }
trap 'cleanup; rm_cgroups' EXIT
# queues_on K: 6 queue names whose slots lie on the first K masters, evenly
queues_on() {
    local k=$1 i=0 out="" m owner cnt
    declare -A want=() got=()
    for m in $(echo "$masters" | head -n "$k"); do want[$m]=$((6 / k)); got[$m]=0; done
    while [ "$(echo $out | wc -w)" -lt 6 ]; do
        owner=$(cluster_master_of "$(cr "$P1" CLUSTER KEYSLOT "s$i")")
        cnt=${got[$owner]:-x}
        if [ "$cnt" != x ] && [ "$cnt" -lt "${want[$owner]}" ]; then out="$out s$i"; got[$owner]=$((cnt + 1)); fi
        i=$((i + 1))
    done
    echo $out
}
# master_ticks: each master's CPU ticks (1/100 s), one line
master_ticks() {
    local g
    for g in $cgroups; do awk '{ printf "%d ", $14 + $15 }' "/proc/$(head -1 "$g/cgroup.procs")/stat"; done
}
# phase_ticks PHASE: the time and the masters' ticks when the run enters PHASE
phase_ticks() { echo "$(now) $(master_ticks)" > "$tmp/ticks.$1"; }
# busiest FROM TO: the most any one master used between two phase_ticks, % of a core
busiest() {
    paste -d' ' "$1" "$2" | awk '{ h = NF / 2; for (i = 2; i <= h; i++) if ($(i + h) - $i > m) m = $(i + h) - $i
                                   printf "%.0f", m / ($(h + 1) - $1) }'
}
printf '\nRedis-bound: every master held to %s %% of a core; %s no-op jobs over 6 queues, %s children\n' "$CAP" "$SN" "$C"
printf '%-34s %12s %12s %16s\n' "queues on" "enqueue/s" "process/s" "busiest master"
for k in 1 2 3; do
    # weighted 1:1 so that the children lead with each queue in turn (strict
    # order would drain one queue, one master, at a time)
    Q=$(queues_on "$k") QL=$(echo $Q | sed 's/ /:1,/g; s/$/:1/')
    for q in $Q; do
        awk -v n="$per" -v q="$q" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\",\"target_id\":\"%s-%d\",\"payload\":{\"n\":%d}}\n", q, i, i }' > "$tmp/$q.ndjson"
    done
    : > "$tmp/res_k$k"
    for rep in $(seq 1 "$REPS"); do
        N=$SN
        ON_PHASE=phase_ticks
        r=$(one_run "$SQ_CLUSTER_URL" "k$k$rep")
        echo "$r $(busiest "$tmp/ticks.process" "$tmp/ticks.end")" >> "$tmp/res_k$k"
    done
    printf '%-34s %12s %12s %15s%%\n' "$k master(s)" "$(cut -d' ' -f1 "$tmp/res_k$k" | median)" \
        "$(cut -d' ' -f2 "$tmp/res_k$k" | median)" "$(cut -d' ' -f3 "$tmp/res_k$k" | median)"
done
echo "(medians of $REPS runs; busiest master: the most CPU one master used while the jobs ran, % of one core)"
