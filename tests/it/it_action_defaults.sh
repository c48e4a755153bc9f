#!/bin/bash
# Issue 9 item 4: the per-action defaults of the services file (max_attempts,
# timeout_ms, backoff_base_ms) hold on every failure path, not only when the
# handler itself answers. An action with max_attempts 1 and timeout_ms 300
# against a mock that takes 5 s: (1) the master kills the child at the
# deadline and the job is dead after ONE POST (it was POSTed 5 times); (2) a
# child killed with -9 mid-call (a crash) does not get a second attempt
# either: the next delivery is dead-lettered without calling the service.
. "$(dirname "$0")/../lib.sh"

export SYNCQ_BACKOFF_BASE_MS=50 SYNCQ_KILL_GRACE_MS=300
start_mock
cat > "$W/services.json" <<JSON
{"services": {"dns": {"base_url": "http://127.0.0.1:$port",
  "headers": {"Authorization": "Bearer \${MOCK_TOKEN}"}, "timeout_ms": 20000,
  "resources": {"records": {"list": {"path": "/zones/{scope}/records", "items": "data", "pagination": {"style": "page", "size": 100, "size_param": "per_page", "page_param": "page"}},
    "actions": {
      "create_record": {"op": "create", "method": "POST", "path": "/zones/{scope}/records",
                        "max_attempts": 1, "timeout_ms": 300},
      "slow_create": {"op": "create", "method": "POST", "path": "/zones/{scope}/records",
                      "max_attempts": 1, "timeout_ms": 60000}}}}}}}
JSON
export SYNCQ_SERVICES="$W/services.json"
posts() { mock GET /_admin/calls | /usr/bin/python3 -c "import json,sys; print(sum(1 for x in json.load(sys.stdin) if x['method']=='POST' and '$1' in x['path']))"; }
mock POST /_admin/latency '{"ms": 5000, "match": "/zones/"}' >/dev/null
start_worker -c 1 -q urgent

# (1) timeout kill by the master
t=$(bin/syncq enqueue --service dns --action create_record --scope a.example --payload '{"name":"t","type":"A","content":"192.0.2.1","ttl":300}')
dead() { [ "$(count "job_id = '$1' AND status = 'dead'")" = 1 ]; }
wait_for 30 "the timed-out job to be dead" dead "$t"
assert_eq "$(q "SELECT attempts FROM syncq_jobs WHERE job_id = '$t'")" 1 "attempts of the timed-out job"
assert_eq "$(q "SELECT last_error FROM syncq_jobs WHERE job_id = '$t'")" "attempts exhausted (1): timeout after 300 ms" "its last error"
sleep 1 # a wrongly scheduled retry (50 ms backoff) would POST again by now
assert_eq "$(posts a.example)" 1 "POSTs of the mutation with max_attempts 1 killed at its timeout"

# (2) crash: kill -9 the child during the call
c=$(bin/syncq enqueue --service dns --action slow_create --scope b.example --payload '{"name":"c","type":"A","content":"192.0.2.2","ttl":300}')
called() { [ "$(posts b.example)" = 1 ]; }
wait_for 30 "the POST of the second job" called
pid=$(q "SELECT worker FROM syncq_jobs WHERE job_id = '$c'" | cut -d: -f2)
kill -0 "$pid" || fail "child $pid of the running job is not alive"
kill -9 "$pid"
wait_for 30 "the crashed job to be dead" dead "$c"
assert_eq "$(q "SELECT last_error FROM syncq_jobs WHERE job_id = '$c'")" "attempts exhausted (1): the worker died during attempt 1" "its last error"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE job_id = '$c' AND event = 'dead' AND outcome = 'crash'")" 1 "its dead event"
sleep 1
assert_eq "$(posts b.example)" 1 "POSTs of the mutation with max_attempts 1 after its child crashed"
assert_eq "$(r ZCARD "$(key urgent dead)")" 2 "dead-letter entries"
stop_worker
