#!/bin/bash
# Redis stalls (CLIENT PAUSE ALL for 1.5x the TTL) while two masters' children
# run 10 s jobs: no master can refresh a lease, every child stops on its own
# at TTL/2, the leases expire in the pause and the jobs run again once it
# ends. The mock's call log proves no two runs of a job intersect, and the
# master logs the lease failure once, not every second (docs/LEASES.md).
. "$(dirname "$0")/../lib.sh"
. tests/lease_lib.sh

lease_mock
master a -c 2
wait_for 10 "master A started" grep -q '"master.start"' "$W/a.log"
enqueue_jobs 2
wait_for 15 "both jobs running on master A" runs_started 2
master b -c 2
wait_for 10 "master B's children" grep -q '"master.start"' "$W/b.log"
sleep 1
r CLIENT PAUSE 9000 ALL >/dev/null
sleep 9.5
wait_for 40 "both jobs done" all_succeeded 2
no_overlap
runs=$(calls | /usr/bin/python3 -c 'import json,sys; print(sum(1 for c in json.load(sys.stdin) if c["method"] == "POST"))')
echo "runs: $runs"
[ "$runs" -ge 3 ] || fail "the jobs were not run again after the pause ($runs runs)"
wait_for 10 "nothing left in flight" nothing_in_flight
n=$(grep -c '"master.lease".*could not refresh' "$W/a.log" || true)
[ "$n" -ge 1 ] && [ "$n" -le 3 ] || fail "master A logged the lease failure $n times (once per outage expected)"
