#!/bin/bash
# A stalled master cannot let a job run twice at once (docs/LEASES.md). Master
# A's two children run 10 s jobs against the mock; A is stopped (SIGSTOP) for
# twice the 6 s TTL. Its children stop on their own when their lease is not
# renewed (TTL/2), before master B's sweep can requeue the jobs; B runs them
# again. After SIGCONT, A records the lost deliveries and fetches again under
# new ids. The mock's call log proves that no two runs of a job intersect;
# the audit names A's child and calls it a lease expiry, not a crash.
. "$(dirname "$0")/../lib.sh"
. tests/lease_lib.sh

lease_mock
master a -c 2
A=$PID
boot_a=$(wait_for 10 "master A started" grep -q '"master.start"' "$W/a.log"; grep -o '"master.start".*as [^"]*' "$W/a.log" | head -1 | awk -F: '{print $NF}')
enqueue_jobs 2
wait_for 15 "both jobs running on master A" runs_started 2
master b -c 2
B=$PID
wait_for 10 "master B's children" grep -q '"master.start"' "$W/b.log"
kill -STOP "$A"
sleep 12
kill -CONT "$A"
wait_for 40 "both jobs done" all_succeeded 2
no_overlap
for j in L-1 L-2; do
    w=$(q "SELECT worker FROM syncq_jobs WHERE job_id = '$j'")
    ev=$(q "SELECT outcome || ' ' || error FROM syncq_job_events WHERE job_id = '$j' AND event = 'lost'")
    echo "$j: finished by $w; lost: $ev"
    case "$ev" in
    "lease lease of worker "*":$boot_a ran out during attempt 1"*) ;;
    *) fail "$j: the lost event should name master A's child and its lease: '$ev'" ;;
    esac
done
wait_for 10 "nothing left in flight" nothing_in_flight
grep -q '"child.lease"' "$W/a.log" || fail "master A's children did not stop on their lease"
grep -q 'lease-expired worker' "$W/b.log" "$W/a.log" || fail "no requeue of a lease-expired worker was logged"
kill -0 "$A" || fail "master A died"
