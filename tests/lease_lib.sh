# lease_lib.sh - shared by the lease scenarios (tests/it/it_lease_*.sh,
# docs/LEASES.md): short leases, long mutation jobs against the mock provider
# whose call log bounds every run (start: the request arrived; end: the
# answer was written or the worker went away), and the checks that no two
# runs of one job intersect and that nothing is left in flight.
export SYNCQ_HEARTBEAT_TTL=6 SYNCQ_HEARTBEAT_EVERY=1 SYNCQ_REAP_EVERY=1
JOB_MS=${JOB_MS:-10000}
MASTERS=""

# lease_mock [HOST]: the mock provider with every create taking $JOB_MS.
lease_mock() {
    export MOCK_TOKEN="tok-$RANDOM"
    /usr/bin/python3 tests/mock/mock_service.py --host "${1:-127.0.0.1}" --port 0 --port-file "$W/port" \
        --token "$MOCK_TOKEN" > "$W/mock.log" 2>&1 &
    MOCK=$!
    ON_EXIT="kill $MOCK 2>/dev/null; $ON_EXIT"
    wait_for 10 "the mock service" test -s "$W/port"
    port=$(cat "$W/port")
    MOCK_HOST=${1:-127.0.0.1}
    sed -e "s/@PORT@/$port/" -e "s/127.0.0.1/$MOCK_HOST/" tests/services/lease.json.in > "$W/services.json"
    export SYNCQ_SERVICES="$W/services.json"
    curl -sf -X POST "http://$MOCK_HOST:$port/_admin/latency" -d "{\"ms\": $JOB_MS, \"match\": \"/zones/lease\"}" \
        >/dev/null || fail "could not set the mock's latency"
}
calls() { curl -sf "http://$MOCK_HOST:$port/_admin/calls"; }

# master NAME ARGS...: one more syncq-worker master, logging to $W/NAME.log;
# sets $PID. Every master is killed on exit.
master() {
    local name=$1
    shift
    bin/syncq-worker "$@" -q default --prefix "$SYNCQ_PREFIX" >>"$W/$name.log" 2>&1 &
    PID=$!
    MASTERS="$MASTERS $PID"
    ON_EXIT="kill -CONT $PID 2>/dev/null; kill -KILL $PID 2>/dev/null; $ON_EXIT"
}

# enqueue_jobs N: N create jobs L-1..L-N (the Idempotency-Key is the job id).
enqueue_jobs() {
    for i in $(seq 1 "$1"); do
        bin/syncq enqueue -q default --id "L-$i" --service dns --action create_record --scope "lease$i" \
            --payload "{\"name\":\"n$i\",\"type\":\"A\",\"content\":\"192.0.2.$i\",\"ttl\":300}" >/dev/null
    done
}

# runs_started N: the mock has seen at least N create calls.
runs_started() { [ "$(calls | /usr/bin/python3 -c 'import json,sys; print(sum(1 for c in json.load(sys.stdin) if c["method"] == "POST"))')" -ge "$1" ]; }
all_succeeded() { [ "$(count "job_id LIKE 'L-%' AND status = 'success'")" = "$1" ]; }

# no_overlap: no two runs of one job (same Idempotency-Key) intersect, every
# run has ended, and every run but the last was abandoned by its worker (the
# lease stopped it: a lost delivery never produces an outcome; no_overlap
# loose skips that check). Prints each key's runs.
no_overlap() {
    calls | LOOSE=${1:-} /usr/bin/python3 -c '
import os
import json, sys
runs = {}
for c in json.load(sys.stdin):
    if c["method"] == "POST":
        runs.setdefault(c["idempotency_key"], []).append(c)
bad = 0
for key, rs in sorted(runs.items()):
    rs.sort(key=lambda c: c["time"])
    print("%s: %s" % (key, ", ".join("%.2f-%s%s" % (c["time"] % 1000, "%.2f" % (c["end"] % 1000) if c["end"] else "running",
                                                       " (left)" if c["aborted"] else "") for c in rs)))
    for a, b in zip(rs, rs[1:]):
        if a["end"] is None or a["end"] > b["time"]:
            print("OVERLAP: %s ran twice at once (%.2f s)" % (key, (a["end"] or 1e18) - b["time"]))
            bad = 1
        if a["end"] is not None and not a["aborted"] and not os.environ["LOOSE"]:
            print("%s: a run before the last one answered (%.2f): its outcome was not cut off by the lease" % (key, a["end"] % 1000))
            bad = 1
    if rs[-1]["end"] is None:
        print("%s: its last run never ended" % key)
        bad = 1
sys.exit(bad)' || fail "two runs of one job overlapped"
}

# nothing_in_flight: every in-flight list of the queue is empty.
nothing_in_flight() {
    local k n=0
    for k in $(r --scan --pattern "$SYNCQ_PREFIX:{default}:inflight:*"); do
        n=$(( n + $(r LLEN "$k") ))
    done
    [ "$n" = 0 ]
}
