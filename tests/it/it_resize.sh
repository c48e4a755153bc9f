#!/bin/bash
# SIGTTIN adds a job child and SIGTTOU removes one (issue 9 item 5): the
# count of live children follows the signals (processes under the master, and
# syncq_children in /metrics), a removed slot is not refilled, and a busy child
# that is retired finishes its job first, so no job is lost.
. "$(dirname "$0")/../lib.sh"

start_worker -c 2 -q default
addr=$(sed -n 's/.*"event":"master.metrics".*on http:\/\/\([0-9.:]*\)".*/\1/p' "$W/worker.log" | head -n 1)
[ -n "$addr" ] || fail "no metrics address logged"
procs() { pgrep -P "$WORKER_PID" | wc -l; } # job children + the writer
alive() { curl -sf "http://$addr/metrics" | sed -n 's/^syncq_children{role="job"} //p'; }
desired() { curl -sf "http://$addr/metrics" | sed -n 's/^syncq_children_desired //p'; }
has_procs() { [ "$(procs)" = "$1" ]; }
has_alive() { [ "$(alive)" = "$1" ]; }

wait_for 10 "2 children and the writer" has_procs 3
kill -TTIN "$WORKER_PID"
wait_for 10 "a third child after SIGTTIN" has_procs 4
wait_for 10 "3 job children in /metrics" has_alive 3
assert_eq "$(desired)" 3 "desired children after SIGTTIN"

# keep all three busy, then retire one while its job runs
ready=$(key default ready)
for i in 1 2 3; do
    r LPUSH "$ready" "{\"id\":\"busy-$i\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"sleep\",\"payload\":{\"ms\":2000}}" >/dev/null
done
running() { [ "$(count "status = 'running'")" = 3 ]; }
wait_for 20 "3 jobs running at once" running
kill -TTOU "$WORKER_PID"
has_desired() { [ "$(desired)" = "$1" ]; }
wait_for 10 "2 desired children after SIGTTOU" has_desired 2
done_all() { [ "$(count "job_id LIKE 'busy-%' AND status = 'success'")" = 3 ]; }
wait_for 20 "the three jobs, the retired child's included, finished" done_all
wait_for 10 "one child fewer after SIGTTOU" has_procs 3
wait_for 10 "2 job children in /metrics" has_alive 2
grep -q '"event":"master.resize".*now 2 children' "$W/worker.log" || fail "the slot was not removed"

# the retired slot stays empty: new jobs run on the two left, nothing refills it
for i in 1 2 3 4; do
    r LPUSH "$ready" "{\"id\":\"after-$i\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"sleep\",\"payload\":{\"ms\":300}}" >/dev/null
done
done_after() { [ "$(count "job_id LIKE 'after-%' AND status = 'success'")" = 4 ]; }
wait_for 20 "4 more jobs done" done_after
assert_eq "$(procs)" 3 "processes under the master after more jobs"
assert_eq "$(count "status <> 'success'")" 0 "jobs not successful"

# never below one child
kill -TTOU "$WORKER_PID"
wait_for 10 "one child after a second SIGTTOU" has_procs 2
kill -TTOU "$WORKER_PID"
sleep 0.5 # give a wrong removal the time to happen; the assertion is on the count, not the time
assert_eq "$(procs)" 2 "processes after a SIGTTOU with one child left"
assert_eq "$(desired)" 1 "desired children floor"
stop_worker
