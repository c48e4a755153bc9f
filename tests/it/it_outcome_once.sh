#!/bin/bash
# A mutation that changes its snapshot row writes its job row's outcome in
# the same statement (docs/DESIGN.md §8). Its final audit record, merged by
# the writer later, says the same things (the end read from Redis TIME just
# before that statement, the duration, the worker, the masked result), so the
# merge leaves the row alone: no second row version with every index entry
# (issue 14). Checked by the row's xmin: the writer is stopped (SIGSTOP)
# while the job ends, the row read as the outcome statement left it, the
# writer let go, and the row read again once the job's final record is
# merged. Before: the merge replaced finished_at (PostgreSQL's clock) with the
# step's Redis TIME and set duration_ms, a new row version every job. In a
# child with one job at a time and in a child with lanes.
. "$(dirname "$0")/../lib.sh"

start_mock
# shellcheck disable=SC2154 # port: set by start_mock
cat > "$W/services.json" <<JSON
{"services": {"calls": {"base_url": "http://127.0.0.1:$port", "timeout_ms": 10000,
  "resources": {"items": {"list": {"path": "/zones/none/records", "items": "data",
      "pagination": {"style": "page", "size": 100, "size_param": "per_page", "page_param": "page"}},
    "actions": {"slow": {"op": "update", "method": "POST", "path": "/_bench/delay?ms=1200"}}}}}}}
JSON
export SYNCQ_SERVICES="$W/services.json"
row() { q "SELECT concat_ws('|', xmin, status, attempts, finished_at, duration_ms, worker, result, last_error)
           FROM syncq_jobs WHERE job_id = '$1'"; }
status_is() { [ "$(q "SELECT status FROM syncq_jobs WHERE job_id = '$1'")" = "$2" ]; }

# once LABEL: one slow update job through a worker started with the rest of
# the arguments; its row must not change after its outcome statement
once() {
    local label=$1 id writer before after
    shift
    id=$(bin/syncq enqueue --queue oo --service calls --action slow --target-id "t-$label" --payload '{"n": 1}')
    start_worker -q oo "$@"
    wait_for 20 "$label: the job's running record merged" status_is "$id" running
    writer=$(pgrep -P "$WORKER_PID" -x syncq-writer)
    [ -n "$writer" ] || fail "$label: no writer process"
    kill -STOP "$writer"
    wait_for 20 "$label: the outcome statement committed" status_is "$id" success
    before=$(row "$id")
    wait_for 20 "$label: the final record in the outbox" bash -c "[ \"\$(redis-cli -p $SQ_REDIS_PORT LLEN '$(key oo outbox)')\" -ge 1 ]"
    kill -CONT "$writer"
    # a job after it: its records follow in the outbox, so once its row is
    # written the slow job's final record has been merged
    local next
    next=$(bin/syncq enqueue --queue oo --service syncq --action noop --payload '{}')
    wait_for 20 "$label: the job after it written" status_is "$next" success
    after=$(row "$id")
    echo "$label: $after"
    assert_eq "$after" "$before" "$label: the row after its final record was merged (xmin|status|...)"
    # the values are the record's: Redis TIME at the end, the measured duration, this worker
    assert_eq "$(q "SELECT finished_at >= started_at + interval '1200 ms' AND finished_at <= started_at + interval '10 s'
                       AND duration_ms BETWEEN 1200 AND 10000 AND worker IS NOT NULL AND result->>'http_status' = '200'
                       FROM syncq_jobs WHERE job_id = '$id'")" t "$label: finished_at, duration_ms, worker, result"
    stop_worker
}

once alone -c 1
SYNCQ_CHILD_CALLS=4 once lanes -c 1
