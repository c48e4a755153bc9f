#!/bin/bash
# Transient failures retry with exponential backoff and full jitter, promoted
# by Redis's clock: a job that fails twice then succeeds ends success with 3
# attempts in its history; every recorded due time (Redis TIME + delay) lies
# within the formula's bounds, and every retry starts between its due time
# and due time + promoter tick (500 ms) + 2 s. A permanent failure is dead
# after 1 attempt.
. "$(dirname "$0")/../lib.sh"

base=400
export SYNCQ_BACKOFF_BASE_MS=$base
start_worker -c 2 -q default
r LPUSH "$(key default ready)" '{"id":"flaky","kind":"mutation","service":"syncq","action":"flaky","payload":{"fail_times":2}}' >/dev/null
r LPUSH "$(key default ready)" '{"id":"perm","kind":"mutation","service":"syncq","action":"fail","payload":{"permanent":true}}' >/dev/null
done_() { [ "$(count "job_id = 'flaky' AND status = 'success'")" = 1 ] && [ "$(count "job_id = 'perm' AND status = 'dead'")" = 1 ]; }
wait_for 30 "both jobs to settle" done_
assert_eq "$(q "SELECT attempts FROM syncq_jobs WHERE job_id = 'flaky'")" 3 "attempts of the flaky job"
assert_eq "$(q "SELECT count(*) FROM syncq_job_history WHERE job_id = 'flaky' AND event = 'attempt'")" 3 "attempts in the history"
assert_eq "$(q "SELECT attempts FROM syncq_jobs WHERE job_id = 'perm'")" 1 "attempts of the permanent failure"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE job_id = 'perm' AND outcome = 'permanent' AND due_at IS NULL")" 1 "permanent failure: one event, no retry due"

# per failed attempt k: finish (at), due, and the next attempt's start, in ms
q "SELECT e.attempt,
          (extract(epoch FROM e.at) * 1000)::bigint,
          (extract(epoch FROM e.due_at) * 1000)::bigint,
          (extract(epoch FROM COALESCE(n.at - make_interval(secs => n.duration_ms / 1000.0), j.started_at)) * 1000)::bigint
     FROM syncq_job_events e
     JOIN syncq_jobs j USING (job_id)
     LEFT JOIN syncq_job_events n ON n.job_id = e.job_id AND n.attempt = e.attempt + 1 AND n.event = 'attempt'
    WHERE e.job_id = 'flaky' AND e.event = 'attempt' ORDER BY e.attempt" > "$W/schedule"
cat "$W/schedule"
assert_eq "$(wc -l < "$W/schedule")" 2 "failed attempts with a schedule"
while IFS='|' read -r k at due start; do
    ceiling=$(( base << (k - 1) ))
    delay=$(( due - at ))
    [ "$delay" -ge -5 ] && [ "$delay" -le $(( ceiling + 200 )) ] ||
        fail "attempt $k: due $delay ms after it failed, outside [0, $ceiling] (+ step latency)"
    wait=$(( start - due ))
    [ "$wait" -ge -5 ] && [ "$wait" -le 2500 ] ||
        fail "attempt $((k + 1)) started $wait ms after its due time, outside [0, 500 + 2000]"
    echo "ok: attempt $k failed, retry due after $delay ms (ceiling $ceiling), started $wait ms after due"
done < "$W/schedule"
stop_worker
