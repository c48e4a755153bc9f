#!/bin/bash
# SIGTERM during 8 in-flight sleep jobs: the master stops fetching, jobs
# shorter than the grace finish, the rest are killed at the end of the grace
# and handed back to their queue without using an attempt; exit 0, nothing
# lost.
. "$(dirname "$0")/../lib.sh"

start_worker -c 8 -q default --grace 3
ready=$(key default ready)
for i in 1 2 3 4; do
    r LPUSH "$ready" "{\"id\":\"short-$i\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"sleep\",\"payload\":{\"ms\":1500}}" >/dev/null
    r LPUSH "$ready" "{\"id\":\"long-$i\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"sleep\",\"payload\":{\"ms\":60000}}" >/dev/null
done
running() { [ "$(count "status = 'running'")" = 8 ]; }
wait_for 20 "8 jobs running at once" running
t0=$(now_ms)
kill -TERM "$WORKER_PID"
rc=0
wait "$WORKER_PID" || rc=$?
WORKER_PID=""
took=$(( $(now_ms) - t0 ))
assert_eq "$rc" 0 "exit code after SIGTERM"
echo "stopped in $took ms (grace 3 s)"
[ "$took" -lt 8000 ] || fail "the master took $took ms to stop with a 3 s grace"
written() { [ "$(count "job_id LIKE 'short-%' AND status = 'success'")" = 4 ] && [ "$(count "job_id LIKE 'long-%' AND status = 'queued'")" = 4 ]; }
wait_for 5 "the audit rows of the stop, flushed by the stopping master's writer" written
assert_eq "$(r LLEN "$ready")" 4 "long jobs back in the queue"
for e in $(r LRANGE "$ready" 0 -1 | grep -o 'id=[^ ]*' | cut -c4-); do
    assert_eq "$(r HGET "$(key default att)" "$e" | grep -c .)" 0 "attempts left counted for $e"
done
assert_eq "$(q "SELECT string_agg(DISTINCT attempts::text, ',') FROM syncq_jobs WHERE job_id LIKE 'long-%'")" 0 "attempts of the handed-back jobs"
assert_eq "$(count "status NOT IN ('success', 'queued')")" 0 "rows in another state"
grep -q '"event":"job.handback"' "$W/worker.log" || fail "no hand-back logged"
if grep -q '"event":"master.kill".*writer' "$W/worker.log"; then fail "the writer was killed before it flushed"; fi
