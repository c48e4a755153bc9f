#!/bin/bash
# Redis blips are not poison (docs/LEASES.md). One 4 s job, one child; Redis
# (with an append-only file) is shut down and restarted on the same port
# three times, once during each of the job's first three runs. Each run
# loses its acknowledgement with the connection and the job runs again, but
# a delivery lost to Redis is not a crash: the job ends succeeded, not dead
# as a poison pill, and no crash is recorded.
. "$(dirname "$0")/../lib.sh"
JOB_MS=4000
. tests/lease_lib.sh

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RPORT=$(free_port)
redis_start() {
    redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$W" --save '' --appendonly yes --appendfsync always \
        >> "$W/redis.log" 2>&1 &
    RPID=$!
}
redis_start
ON_EXIT="redis-cli -p $RPORT SHUTDOWN NOSAVE >/dev/null 2>&1; $ON_EXIT"
r() { redis-cli -p "$RPORT" "$@"; }
redis_up() { [ "$(r PING 2>/dev/null)" = PONG ]; }
redis_down() { ! kill -0 "$RPID" 2>/dev/null; }
wait_for 10 "the test's Redis" redis_up
export SYNCQ_REDIS_URL="redis://127.0.0.1:$RPORT/0"
lease_mock
master a -c 1
wait_for 10 "master A started" grep -q '"master.start"' "$W/a.log"
enqueue_jobs 1
for k in 1 2 3; do
    wait_for 30 "run $k of the job" runs_started "$k"
    sleep 1
    r SHUTDOWN >/dev/null 2>&1 || true
    wait_for 10 "Redis down ($k)" redis_down
    sleep 1.5
    redis_start
    wait_for 10 "Redis up again ($k)" redis_up
done
# the end: a terminal row and nothing left in Redis (a mutation commits its
# row before its acknowledgement, so a run whose acknowledgement died with
# Redis shows success until the next run starts)
queue_empty() { [ "$(r LLEN "$(key default ready)")" = 0 ] && [ "$(r ZCARD "$(key default retry)")" = 0 ] && nothing_in_flight; }
done_() { queue_empty && [ "$(count "job_id = 'L-1' AND status IN ('success', 'dead')")" = 1 ] && queue_empty; }
wait_for 60 "the job to end" done_
q "SELECT rev, event, outcome, attempt, error FROM syncq_job_events WHERE job_id = 'L-1' ORDER BY rev"
assert_eq "$(q "SELECT status FROM syncq_jobs WHERE job_id = 'L-1'")" success "status after three Redis restarts"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE job_id = 'L-1' AND outcome IN ('crash', 'poison')")" 0 "crash or poison events"
runs=$(calls | /usr/bin/python3 -c 'import json,sys; print(sum(1 for c in json.load(sys.stdin) if c["method"] == "POST" and c["idempotency_key"] == "L-1"))')
echo "runs of the job with Idempotency-Key L-1: $runs"
[ "$runs" -ge 4 ] || fail "the restarts did not interrupt three runs with one Idempotency-Key ($runs runs)"
no_overlap loose
