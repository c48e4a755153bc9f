#!/bin/bash
# A sleep job with timeout_ms 200 that would run 5 s, max_attempts 2, small
# backoff: the master kills the child past the deadline each time, the
# attempt is recorded as failed with "timeout after 200 ms", the job is
# retried once and ends dead; the child is replaced.
. "$(dirname "$0")/../lib.sh"

export SYNCQ_BACKOFF_BASE_MS=100 SYNCQ_KILL_GRACE_MS=500
start_worker -c 1 -q default
t0=$(now_ms)
r LPUSH "$(key default ready)" '{"id":"slow","kind":"mutation","service":"syncq","action":"sleep","timeout_ms":200,"max_attempts":2,"payload":{"ms":5000}}' >/dev/null
dead() { [ "$(count "job_id = 'slow' AND status = 'dead'")" = 1 ]; }
wait_for 20 "the job to be dead" dead
elapsed=$(( $(now_ms) - t0 ))
echo "dead after $elapsed ms"
[ "$elapsed" -lt 5000 ] || fail "the 5 s sleep ran to its end ($elapsed ms): the deadline was not enforced"
assert_eq "$(q "SELECT attempts FROM syncq_jobs WHERE job_id = 'slow'")" 2 "attempts"
assert_eq "$(q "SELECT last_error FROM syncq_jobs WHERE job_id = 'slow'")" "attempts exhausted (2): timeout after 200 ms" "last error"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE job_id = 'slow' AND outcome = 'timeout' AND error = 'timeout after 200 ms'")" 2 "timed-out attempts in the history"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE job_id = 'slow' AND event = 'lost'")" 0 "timeouts recorded as crashes"
assert_eq "$(grep -c '"event":"master.timeout"' "$W/worker.log")" 2 "timeouts enforced by the master"
assert_eq "$(r ZCARD "$(key default dead)")" 1 "dead-letter entries"
r LPUSH "$(key default ready)" '{"id":"next","kind":"mutation","service":"syncq","action":"noop"}' >/dev/null
ok() { [ "$(count "job_id = 'next' AND status = 'success'")" = 1 ]; }
wait_for 20 "a job on the replaced child" ok
stop_worker
