#!/bin/bash
# Three masters promote due retries at once: every retried job runs exactly
# once more (ZREM in the promote function decides who moves it).
. "$(dirname "$0")/../lib.sh"

export SYNCQ_BACKOFF_BASE_MS=300
start_worker -c 1 -q default
bin/syncq-worker -c 1 -q default --prefix "$SYNCQ_PREFIX" >>"$W/worker-2.log" 2>&1 &
P2=$!
bin/syncq-worker -c 1 -q default --prefix "$SYNCQ_PREFIX" >>"$W/worker-3.log" 2>&1 &
P3=$!
three() { [ "$(r SCARD "$(fkey workers)")" -ge 6 ]; }
wait_for 10 "three masters up" three
ready=$(key default ready)
for i in $(seq 1 60); do
    r LPUSH "$ready" "{\"id\":\"f-$i\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"flaky\",\"payload\":{\"fail_times\":1}}" >/dev/null
done
all() { [ "$(count "status = 'success'")" = 60 ]; }
wait_for 30 "60 retried jobs" all
assert_eq "$(q "SELECT count(*) FROM syncq_jobs WHERE attempts <> 2")" 0 "jobs that did not run exactly twice"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE outcome = 'transient'")" 60 "failed first attempts"
assert_eq "$(r ZCARD "$(key default retry)")" 0 "retry set drained"
kill -TERM "$P2" "$P3"
wait "$P2" "$P3"
stop_worker
