#!/bin/bash
# A worker on another host died (no heartbeat) with a job in flight: a
# master's periodic sweep returns the job to its queue and it succeeds. A
# worker whose heartbeat is alive keeps its jobs.
. "$(dirname "$0")/../lib.sh"

export SYNCQ_REAP_EVERY=1
dead="otherhost:4242:deadbeefdeadbeef"
live="livehost:7:0123456789abcdef"
r LPUSH "$(key default inflight:$dead)" "$(printf '~syncq1 id=01a20b00-0000-7000-8000-000000000001 seen=1\n{"id":"orphan","kind":"mutation","service":"syncq","action":"noop"}')" >/dev/null
r SADD "$(key default owners)" "$dead" "$live" >/dev/null
r LPUSH "$(key default inflight:$live)" "$(printf '~syncq1 id=01a20b00-0000-7000-8000-000000000002 seen=1\n{"id":"held","kind":"mutation","service":"syncq","action":"noop"}')" >/dev/null
r SET "$(fkey "hb:$live")" child EX 60 >/dev/null

start_worker -c 1 -q default
orphan_done() { [ "$(count "job_id = 'orphan' AND status = 'success'")" = 1 ]; }
wait_for 20 "the orphan to run" orphan_done
assert_eq "$(r EXISTS "$(key default inflight:$dead)")" 0 "dead worker's in-flight list"
assert_eq "$(r SISMEMBER "$(key default owners)" "$dead")" 0 "dead worker still listed as an owner"
grep -q '"event":"reaper.requeue".*otherhost:4242' "$W/worker.log" || fail "the requeue was not logged"
sleep 2 # two more sweeps: the live worker must keep its job
assert_eq "$(r LLEN "$(key default inflight:$live)")" 1 "live worker's in-flight job"
assert_eq "$(count "job_id = 'held'")" 0 "rows for the live worker's job"
stop_worker
