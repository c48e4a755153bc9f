#!/bin/bash
# Stall then kill -9: nothing is stranded (docs/LEASES.md). Master A's two
# children run 3 s jobs from a queue of eight; A is stopped for twice the 6 s
# TTL while master B (one child) starts, so B requeues A's jobs; then A is
# killed with -9 without ever waking. A's children stopped on their own at TTL/2 and their ids are
# fenced, so none of them took a job B's sweep would never see: every job
# ends within the TTL, a sweep and its run time, and no in-flight list keeps
# an entry. The call log shows no two runs of a job intersect.
. "$(dirname "$0")/../lib.sh"
JOB_MS=3000
. tests/lease_lib.sh

lease_mock
master a -c 2
A=$PID
wait_for 10 "master A started" grep -q '"master.start"' "$W/a.log"
enqueue_jobs 8
wait_for 15 "two jobs running on master A" runs_started 2
kill -STOP "$A"
master b -c 1
sleep 12
kill -KILL "$A"
t0=$(now_ms)
# the bound: a lease (6 s) + a sweep (1 s) + the jobs left, one at a time on B (at most 4 x 3 s), and slack
wait_for 30 "all eight jobs done after the kill" all_succeeded 8
echo "all jobs done $(( $(now_ms) - t0 )) ms after the kill"
no_overlap
wait_for 10 "nothing left in flight" nothing_in_flight
# the killed master's ids leave the workers set once their heartbeats are gone
pruned() {
    local w
    for w in $(r SMEMBERS "$(fkey workers)"); do
        [ "$(r EXISTS "$(fkey "hb:$w")")" = 1 ] || return 1
    done
}
wait_for 15 "dead worker ids pruned from $(fkey workers)" pruned
# syncq stats ages heartbeats by each worker's own TTL (6 s), not its own setting (30 s here)
SYNCQ_HEARTBEAT_TTL=30 bin/syncq stats --json | /usr/bin/python3 -c '
import json, sys
ws = json.load(sys.stdin)["workers"]
ages = [w["heartbeat_age_ms"] for w in ws]
print("heartbeat ages (ms):", ages)
assert ws and all(0 <= a <= 6000 for a in ages), ages' || fail "syncq stats did not use the workers' own TTL"
