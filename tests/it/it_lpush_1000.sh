#!/bin/bash
# (a) 1,000 jobs pushed with raw LPUSH, as another app would, become exactly
# 1,000 success rows: none missing, none doubled, one attempt each.
. "$(dirname "$0")/../lib.sh"

start_worker -c 4 -q default
ready=$(key default ready)
for i in $(seq 1 1000); do
    printf "LPUSH %s '{\"id\":\"a-%d\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\",\"payload\":{\"n\":%d}}'\n" \
        "$ready" "$i" "$i"
done | r > /dev/null

done_rows() { [ "$(count "status = 'success'")" -ge 1000 ]; }
wait_for 60 "1000 success rows" done_rows
assert_eq "$(count "true")" 1000 "rows in syncq_jobs"
assert_eq "$(q "SELECT count(DISTINCT job_id) FROM syncq_jobs WHERE job_id LIKE 'a-%' AND status = 'success' AND attempts = 1")" 1000 "distinct ids a-1..a-1000, success at attempt 1"
assert_eq "$(q "SELECT count(*) FROM syncq_job_history WHERE outcome = 'success'")" 1000 "successful attempts in the history"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events")" 0 "failure events"
assert_eq "$(q "SELECT count(*) FROM syncq_jobs WHERE payload->>'n' IS NULL")" 0 "rows without their payload"
assert_eq "$(r LLEN "$ready")" 0 "ready list drained"
assert_eq "$(r --scan --pattern "$SYNCQ_PREFIX:{default}:inflight:*" | xargs -r -n1 redis-cli -p "$SQ_REDIS_PORT" LLEN | awk '{s+=$1} END {print s+0}')" 0 "nothing left in flight"
stop_worker
