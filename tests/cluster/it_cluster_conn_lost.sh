#!/bin/bash
# Connections to one master dropped under load (CLIENT KILL TYPE normal on
# that node, as a proxy or a network blip would): every process of the worker
# that lost one reconnects (a child exits and is respawned, the master and the
# writer reconnect) and reads the slot map anew; every job still ends in
# PostgreSQL exactly once as a row. A job whose acknowledgement was on the cut
# connection runs again (at-least-once): it then shows a 'lost' delivery
# event, never a silent second run.
. "$(dirname "$0")/../lib.sh"
. scripts/cluster.sh

N=${CLUSTER_LOST_N:-6000}
export SYNCQ_REDIS_URL=$SQ_CLUSTER_URL
export SYNCQ_HEARTBEAT_TTL=4 SYNCQ_HEARTBEAT_EVERY=1 SYNCQ_REAP_EVERY=1 # requeue a dead child's jobs quickly
set -- $SQ_CLUSTER_PORTS
P1=$1
rc() { redis-cli -c -p "$P1" "$@"; }
worker_ready() { [ "$(rc SCARD "$(fkey workers)")" -ge 2 ]; }
QUEUES="c0 c1 c2 c3 c5 c6" # two per master (it_cluster_run)
bin/syncq migrate >/dev/null 2>&1 || fail "syncq migrate"
per=$(( N / 6 ))
N=$(( per * 6 ))
for qn in $QUEUES; do
    awk -v n="$per" -v q="$qn" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"sleep\",\"target_id\":\"%s-%d\",\"payload\":{\"ms\":2}}\n", q, i }' > "$W/$qn.ndjson"
    bin/syncq enqueue -q "$qn" --batch "$W/$qn.ndjson" > "$W/$qn.ids" 2>/dev/null || fail "enqueue to $qn"
done
start_worker -c 3 -q "$(echo $QUEUES | tr ' ' ,)"
progress() { [ "$(count "status = 'success'")" -ge "$1" ]; }
wait_for 120 "a fifth of the jobs done" progress $(( N / 5 ))
victim=$(cluster_master_of "$(rc CLUSTER KEYSLOT "$(key c0 ready)")")
killed=$(redis-cli -p "$victim" CLIENT KILL TYPE normal)
echo "dropped $killed connection(s) on master :$victim at $(count "status = 'success'") jobs done"
[ "$killed" -ge 1 ] || fail "no connection to drop on :$victim"
all() { [ "$(count "status = 'success'")" -ge "$N" ]; }
wait_for 240 "all $N jobs done after the drop" all
cat "$W"/*.ids | sort > "$W/enqueued"
q "SELECT job_id FROM syncq_jobs" | sort > "$W/audited"
assert_eq "$(comm -3 "$W/enqueued" "$W/audited" | wc -l)" 0 "job ids enqueued but not audited, or the reverse"
assert_eq "$(count "status = 'success'")" "$N" "succeeded"
again=$(count "attempts > 1")
silent=$(q "SELECT count(*) FROM syncq_jobs j WHERE attempts > 1 AND NOT EXISTS
            (SELECT 1 FROM syncq_job_events e WHERE e.job_id = j.job_id AND e.event = 'lost')")
echo "jobs run again after the drop: $again"
assert_eq "$silent" 0 "jobs run twice without a lost-delivery event"
grep -q '"event":"child.redis"\|"event":"master.redis".*lost\|"event":"master.redis".*Redis' "$W/worker.log" ||
    fail "no process of the worker saw the drop"
grep -h '"event":"child.redis"\|"event":"master.redis"\|"event":"writer' "$W/worker.log" | cut -c1-200 | sort | uniq | head -8
stop_worker
