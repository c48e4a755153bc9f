#!/bin/bash
# Stopping the fetch without stopping the work: `syncq queue pause Q` stops
# every worker on every host from fetching Q (other queues flow) until
# `resume`; SIGTSTP makes one master quiet (running jobs finish, nothing new
# starts) until SIGCONT.
. "$(dirname "$0")/../lib.sh"

start_worker -c 2 -q urgent,default
bin/syncq queue pause default | grep -q 'default paused' || fail "pause did not answer"
for i in 1 2 3; do r LPUSH "$(key default ready)" "{\"id\":\"d-$i\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\"}" >/dev/null; done
r LPUSH "$(key urgent ready)" '{"id":"u-1","kind":"mutation","service":"syncq","action":"noop"}' >/dev/null
urgent() { [ "$(count "job_id = 'u-1' AND status = 'success'")" = 1 ]; }
wait_for 10 "the urgent job while default is paused" urgent
sleep 1.5 # more than a blocking fetch: state, not timing, is asserted next
assert_eq "$(r LLEN "$(key default ready)")" 3 "jobs left in the paused queue"
bin/syncq queue ls | grep -E '^default +paused +3 ' || fail "queue ls does not show default paused with 3 ready"
bin/syncq queue resume default >/dev/null
resumed() { [ "$(count "job_id LIKE 'd-%' AND status = 'success'")" = 3 ]; }
wait_for 10 "the paused queue's jobs after resume" resumed

r LPUSH "$(key default ready)" '{"id":"long","kind":"mutation","service":"syncq","action":"sleep","payload":{"ms":1500}}' >/dev/null
running() { [ "$(count "job_id = 'long' AND status = 'running'")" = 1 ]; }
wait_for 10 "the long job running" running
kill -TSTP "$WORKER_PID"
for i in 1 2; do r LPUSH "$(key default ready)" "{\"id\":\"q-$i\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\"}" >/dev/null; done
long_done() { [ "$(count "job_id = 'long' AND status = 'success'")" = 1 ]; }
wait_for 10 "the running job to finish while quiet" long_done
sleep 1.5
assert_eq "$(r LLEN "$(key default ready)")" 2 "jobs fetched by a quiet master"
grep -q '"event":"master.quiet".*quiet' "$W/worker.log" || fail "quiet not logged"
kill -CONT "$WORKER_PID"
after() { [ "$(count "job_id LIKE 'q-%' AND status = 'success'")" = 2 ]; }
wait_for 10 "the jobs after SIGCONT" after
stop_worker

# a child already blocked on the queue when it is paused starts nothing pushed after the pause
# (its BLMOVE takes the job; syncq_claim sees the pause and puts it back unstarted)
start_worker -c 1 -q default
blocked() { [ "$(r CLIENT LIST | grep -c 'cmd=blmove')" -ge 1 ]; }
wait_for 10 "the child blocked on the empty queue" blocked
bin/syncq queue pause default >/dev/null
r LPUSH "$(key default ready)" '{"id":"p-1","kind":"mutation","service":"syncq","action":"noop"}' >/dev/null
sleep 1.5 # more than a blocking fetch
assert_eq "$(r LLEN "$(key default ready)")" 1 "jobs left in the queue paused under a blocked child"
assert_eq "$(count "job_id = 'p-1' AND status <> 'queued'")" 0 "rows of the job pushed after the pause that ran"
assert_eq "$(r HLEN "$(key default att)")" 0 "attempt counters of the job put back"
bin/syncq queue resume default >/dev/null
pushed() { [ "$(count "job_id = 'p-1' AND status = 'success' AND attempts = 1")" = 1 ]; }
wait_for 10 "the job after resume, on its first attempt" pushed
stop_worker
