#!/bin/bash
# Two worker masters share one queue. One is killed with -9 while its
# children run jobs: its children die with it, their leases run out, and the
# other master's sweep hands the jobs to its own children, which complete
# them within the lease plus one sweep.
. "$(dirname "$0")/../lib.sh"

export SYNCQ_HEARTBEAT_TTL=4 SYNCQ_HEARTBEAT_EVERY=1 SYNCQ_REAP_EVERY=1
start_worker -c 2 -q default
A=$WORKER_PID
boot_a=$(grep -o '"master.start".*as [^"]*' "$W/worker.log" | head -1 | awk -F: '{print $NF}')
ready=$(key default ready)
for i in 1 2 3 4; do
    r LPUSH "$ready" "{\"id\":\"j-$i\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"sleep\",\"payload\":{\"ms\":2500}}" >/dev/null
done
on_a() { [ "$(count "status = 'running' AND worker LIKE '%:$boot_a'")" = 2 ]; }
wait_for 20 "master A's two children running jobs" on_a
victims=$(q "SELECT string_agg(job_id, ' ' ORDER BY job_id) FROM syncq_jobs WHERE status = 'running' AND worker LIKE '%:$boot_a'")
echo "jobs on master A: $victims"

bin/syncq-worker -c 2 -q default --prefix "$SYNCQ_PREFIX" >>"$W/worker-b.log" 2>&1 &
B=$!
kids=$(pgrep -P "$A" | tr '\n' ' ')
kill -9 "$A"
t0=$(now_ms)
WORKER_PID=$B
all() { [ "$(count "status = 'success'")" = 4 ]; }
wait_for 30 "all four jobs done by master B" all
took=$(( $(now_ms) - t0 ))
echo "the orphaned jobs finished $took ms after the kill (lease 4 s + sweep 1 s + job 2.5 s)"
[ "$took" -le 12000 ] || fail "recovery took $took ms"
for v in $victims; do
    assert_eq "$(q "SELECT attempts FROM syncq_jobs WHERE job_id = '$v'")" 2 "attempts of $v (the lost delivery counts)"
    assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE job_id = '$v' AND event = 'lost'")" 1 "lost event of $v"
    q "SELECT worker FROM syncq_jobs WHERE job_id = '$v'" | grep -vq ":$boot_a\$" || fail "$v finished on dead master A"
done
grep -q '"event":"reaper.requeue"' "$W/worker-b.log" || fail "master B did not log the requeue"
gone() { for k in $kids; do kill -0 "$k" 2>/dev/null && return 1; done; return 0; }
wait_for 5 "the killed master's children ($kids) to die with it" gone
stop_worker
