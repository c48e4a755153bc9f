#!/bin/bash
# A run on the 3-master, 3-replica Redis Cluster: CLUSTER_N jobs (default
# 50,000; a loaded machine may set fewer) over 6 queues, two on each master,
# enqueued by `syncq enqueue --batch` while two worker masters run them. During
# the run one queue's slot is migrated to another master (CLUSTER SETSLOT
# IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE) and another master's replica takes
# over (CLUSTER FAILOVER). PostgreSQL then holds every job exactly once, each
# succeeded on its first attempt (no lost delivery, nothing run twice), and
# every master, the promoted one included, has the function library. The last
# third of each queue's jobs is enqueued after the failover, so jobs flow
# through the promoted master however fast the machine runs the rest (an
# idle machine finished all 50,000 before the failover).
. "$(dirname "$0")/../lib.sh"
. scripts/cluster.sh

N=${CLUSTER_N:-50000}
export SYNCQ_REDIS_URL=$SQ_CLUSTER_URL
set -- $SQ_CLUSTER_PORTS
P1=$1
rc() { redis-cli -c -p "$P1" "$@"; }
worker_ready() { [ "$(rc SCARD "$(fkey workers)")" -ge 2 ]; }
count() { q "SELECT count(*) FROM syncq_jobs WHERE $1"; }
slot_of() { rc CLUSTER KEYSLOT "$(key "$1" ready)"; }

# six queues, two on each master (the slot map as redis-cli --cluster create made it)
declare -A per_master
QUEUES=""
for i in $(seq 0 200); do
    name="c$i"
    m=$(cluster_master_of "$(slot_of "$name")")
    [ "${per_master[$m]:-0}" -lt 2 ] || continue
    per_master[$m]=$(( ${per_master[$m]:-0} + 1 ))
    QUEUES="$QUEUES $name"
    [ "$(echo $QUEUES | wc -w)" -lt 6 ] || break
done
QUEUES=${QUEUES# }
assert_eq "${#per_master[@]}" 3 "masters holding the six queues ($QUEUES)"
qlist=$(echo $QUEUES | tr ' ' ',')

bin/syncq migrate >"$W/migrate.log" 2>&1 || { cat "$W/migrate.log"; fail "syncq migrate on the cluster"; }
masters() { for p in $SQ_CLUSTER_PORTS; do if [ "$(redis-cli -p "$p" ROLE | sed -n 1p)" = master ]; then echo "$p"; fi; done; }
for p in $(masters); do
    redis-cli -p "$p" FUNCTION LIST LIBRARYNAME syncq | grep -qx syncq || fail "no function library on master $p"
done
echo "ok: syncq migrate loaded the library on masters $(masters | tr '\n' ' ')"

# the jobs, per queue, as the producers will send them
per=$(( N / 6 ))
N=$(( per * 6 ))
for qn in $QUEUES; do
    awk -v n="$per" -v q="$qn" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\",\"target_id\":\"%s-%d\",\"payload\":{\"n\":%d}}\n", q, i, i }' > "$W/$qn.all"
    head -n $(( per * 2 / 3 )) "$W/$qn.all" > "$W/$qn.ndjson"
    tail -n +$(( per * 2 / 3 + 1 )) "$W/$qn.all" > "$W/$qn.late.ndjson"
done

start_worker -c 3 -q "$qlist"
bin/syncq-worker -c 3 -q "$qlist" --prefix "$SYNCQ_PREFIX" >>"$W/worker-b.log" 2>&1 &
WB=$!
ON_EXIT="kill -KILL $WB 2>/dev/null"
pids=""
for qn in $QUEUES; do
    bin/syncq enqueue -q "$qn" --batch "$W/$qn.ndjson" > "$W/$qn.ids" 2>"$W/$qn.err" &
    pids="$pids $!"
done
t0=$(now_ms)

# --- a slot migration: the first queue's slot moves to the next master
mq=${QUEUES%% *}
ms=$(slot_of "$mq")
src=$(cluster_master_of "$ms")
dst=$(masters | grep -vx "$src" | sed -n 1p)
src_id=$(redis-cli -p "$src" CLUSTER MYID)
dst_id=$(redis-cli -p "$dst" CLUSTER MYID)
progress() { [ "$(count "status = 'success'")" -ge "$1" ]; }
wait_for 120 "a tenth of the jobs done before the migration" progress $(( N / 10 ))
echo "migrating slot $ms (queue $mq) from :$src to :$dst at $(count "status = 'success'") jobs done"
redis-cli -p "$dst" CLUSTER SETSLOT "$ms" IMPORTING "$src_id" >/dev/null
redis-cli -p "$src" CLUSTER SETSLOT "$ms" MIGRATING "$dst_id" >/dev/null
moved=0
while :; do
    keys=$(redis-cli -p "$src" CLUSTER GETKEYSINSLOT "$ms" 100 | tr '\n' ' ')
    [ -n "${keys// /}" ] || break
    # shellcheck disable=SC2086
    out=$(redis-cli -p "$src" MIGRATE 127.0.0.1 "$dst" "" 0 10000 REPLACE KEYS $keys)
    case "$out" in OK | NOKEY) ;; *) fail "MIGRATE: $out" ;; esac
    moved=$(( moved + $(echo $keys | wc -w) ))
done
for p in $(masters); do redis-cli -p "$p" CLUSTER SETSLOT "$ms" NODE "$dst_id" >/dev/null; done
assert_eq "$(cluster_master_of "$ms")" "$dst" "slot $ms served by :$dst after the migration ($moved keys moved)"

# --- a failover: a replica of another master takes over
victim=$(masters | grep -vx "$dst" | grep -vx "$src" | sed -n 1p)
[ -n "$victim" ] || victim=$src
vid=$(redis-cli -p "$victim" CLUSTER MYID)
rep=$(redis-cli -p "$victim" CLUSTER REPLICAS "$vid" | sed -n 1p | awk '{ print $2 }' | sed 's/@.*//; s/.*://')
[ -n "$rep" ] || fail "no replica of :$victim"
wait_for 120 "a third of the jobs done before the failover" progress $(( N / 3 ))
echo "failing over :$victim to its replica :$rep at $(count "status = 'success'") jobs done"
assert_eq "$(redis-cli -p "$rep" CLUSTER FAILOVER)" OK "CLUSTER FAILOVER on :$rep"
promoted() { [ "$(redis-cli -p "$rep" ROLE | sed -n 1p)" = master ]; }
wait_for 30 ":$rep promoted" promoted
left=$(( N - $(count "status = 'success'") ))
echo "failover done with $left jobs still to run (a third of them enqueued now)"
for qn in $QUEUES; do
    bin/syncq enqueue -q "$qn" --batch "$W/$qn.late.ndjson" > "$W/$qn.late.ids" 2>"$W/$qn.late.err" &
    pids="$pids $!"
done
[ "$left" -gt 0 ] || fail "no job left to run after the failover"

for p in $pids; do wait "$p" || fail "an enqueue batch failed: $(cat "$W"/*.err)"; done
enq=$(cat "$W"/*.ids | grep -c '^[0-9a-f-]\{36\}$' || true)
assert_eq "$enq" "$N" "jobs enqueued through the migration and the failover"
all() { [ "$(count "status = 'success'")" -ge "$N" ]; }
wait_for 300 "all $N jobs done" all
took=$(( $(now_ms) - t0 ))
echo "$N jobs in $took ms ($(( N * 1000 / (took > 0 ? took : 1) )) jobs/s, enqueue included, on $(nproc) cores)"
sleep 2 # a duplicate would show up as a second attempt in the meantime

cat "$W"/*.ids | sort > "$W/enqueued"
q "SELECT job_id FROM syncq_jobs" | sort > "$W/audited"
assert_eq "$(comm -3 "$W/enqueued" "$W/audited" | wc -l)" 0 "job ids enqueued but not audited, or audited but never enqueued"
assert_eq "$(count "true")" "$N" "audit rows"
assert_eq "$(count "status = 'success'")" "$N" "succeeded"
assert_eq "$(count "attempts <> 1")" 0 "jobs not run exactly once"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE event IN ('lost', 'attempt')")" 0 "lost deliveries or failed attempts"
for qn in $QUEUES; do
    assert_eq "$(rc LLEN "$(key "$qn" ready)")$(rc LLEN "$(key "$qn" outbox)")" 00 "queue $qn ready and outbox empty"
done
for p in $(masters); do
    redis-cli -p "$p" FUNCTION LIST LIBRARYNAME syncq | grep -qx syncq || fail "no function library on master $p"
done
echo "ok: the library on every master after the failover ($(masters | tr '\n' ' '))"
grep -h '"level":"error"' "$W"/worker*.log | head -5 || true
kill -TERM "$WB"
stop_worker
wait "$WB" || fail "worker B did not stop cleanly"
