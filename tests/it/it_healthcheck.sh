#!/bin/bash
# syncq healthcheck: the container health check without curl. Against a
# master on a wildcard address (as in a container) it asks the loopback
# address and exits 0 while /healthz says 200; 1 when the master's Redis is
# unreachable (503) and when nothing listens; 64 on bad usage.
. "$(dirname "$0")/../lib.sh"

healthy() { bin/syncq healthcheck --quiet; }
# a free port can be taken by another process between the pick and the bind: try another
for try in 1 2 3; do
    p=$(_sq_pick_port)
    export SYNCQ_METRICS_ADDR="0.0.0.0:$p"
    start_worker -c 1 -q urgent
    grep -q "listen on 0.0.0.0:$p: Address already in use" "$W/worker.log" || break
    [ "$try" -lt 3 ] || fail "three picked ports were taken"
    kill -TERM "$WORKER_PID"; wait "$WORKER_PID" || true; WORKER_PID=""
done
wait_for 10 "a healthy master" healthy
out=$(bin/syncq healthcheck)
assert_eq "$out" "healthy: HTTP 200 ok" "healthcheck output"
stop_worker
rc=0; out=$(bin/syncq healthcheck --timeout-ms 500) || rc=$?
assert_eq "$rc" 1 "exit code with no master"
case "$out" in unhealthy:*) ;; *) fail "no 'unhealthy' line: $out" ;; esac

# a master whose Redis is unreachable answers 503
bin/syncq-worker -c 1 -q urgent --redis redis://127.0.0.1:1/0 >>"$W/worker.log" 2>&1 &
WORKER_PID=$!
answered() { rc=0; out=$(bin/syncq healthcheck --timeout-ms 500) || rc=$?; case "$out" in *"HTTP 503"*) return 0 ;; esac; return 1; }
wait_for 10 "a 503 from the master without Redis" answered
assert_eq "$rc" 1 "exit code on 503"
kill -TERM "$WORKER_PID"; wait "$WORKER_PID" || true; WORKER_PID=""

rc=0; bin/syncq healthcheck --timeout-ms nope 2>/dev/null || rc=$?
assert_eq "$rc" 64 "exit code on a bad --timeout-ms"
rc=0; SYNCQ_METRICS_ADDR=off bin/syncq healthcheck 2>/dev/null || rc=$?
assert_eq "$rc" 64 "exit code with metrics off and no --addr"
bin/syncq healthcheck --help | grep -q 'Exit codes: 0 healthy' || fail "no help text"
