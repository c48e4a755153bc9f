#!/bin/bash
# /metrics for the service handlers: every HTTP call counted by service and
# status class (a 503 from the mock DNS service included), a conflict
# counted with its own status, and the master's listener not starved by
# clients that connect and send nothing (each is dropped at its deadline).
. "$(dirname "$0")/../lib.sh"

/usr/bin/python3 tests/mock/mock_service.py --port 0 --port-file "$W/port" --token tok-m > "$W/mock.log" 2>&1 &
MOCK=$!
ON_EXIT='kill "$MOCK" 2>/dev/null'
have_port() { [ -s "$W/port" ]; }
wait_for 10 "the mock service" have_port
port=$(cat "$W/port")
sed "s/@PORT@/$port/" tests/services/dns.json.in > "$W/services.json"
export SYNCQ_SERVICES="$W/services.json" MOCK_TOKEN=tok-m SYNCQ_BACKOFF_BASE_MS=20
start_worker -c 1 -q urgent
addr=$(sed -n 's/.*"event":"master.metrics".*on http:\/\/\([0-9.:]*\)".*/\1/p' "$W/worker.log" | head -n 1)
v() { awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }' "$1"; }

# the first POST answers 503 (a transient failure, retried), then the create succeeds
curl -s -X POST "http://127.0.0.1:$port/_admin/fail" -d '{"match": "/records", "status": 503, "times": 1}' >/dev/null
c1=$(bin/syncq enqueue --service dns --action create_record --scope example.org \
    --payload '{"name":"www","type":"A","content":"192.0.2.1","ttl":300}')
ok_() { [ "$(count "job_id = '$1' AND status = '$2'")" = 1 ]; }
wait_for 20 "the create" ok_ "$c1" success
rid=$(q "SELECT result->>'external_id' FROM syncq_jobs WHERE job_id = '$c1'")
u1=$(bin/syncq enqueue --service dns --action update_record --scope example.org --target-id "$rid" \
    --expected-hash wrong --payload '{"name":"www","type":"A","content":"192.0.2.9","ttl":300}')
wait_for 20 "the conflicting update" ok_ "$u1" conflict

curl -sf "http://$addr/metrics" > "$W/m"
promtool check metrics < "$W/m" || fail "promtool rejects the exposition"
grep '^syncq_http_requests_total\|^syncq_jobs_processed_total{service="dns"' "$W/m" | grep -v ' 0$'
calls=$(curl -s "http://127.0.0.1:$port/_admin/calls" | /usr/bin/python3 -c 'import json,sys; print(sum(1 for c in json.load(sys.stdin) if c["path"].startswith("/zones")))')
assert_eq "$(( $(v "$W/m" 'syncq_http_requests_total{service="dns",class="2xx"}') + $(v "$W/m" 'syncq_http_requests_total{service="dns",class="5xx"}') ))" "$calls" "HTTP calls counted = calls the service saw"
assert_eq "$(v "$W/m" 'syncq_http_requests_total{service="dns",class="5xx"}')" 1 "the 503"
assert_eq "$(v "$W/m" 'syncq_jobs_processed_total{service="dns",action="create_record",status="retrying"}')" 1 "the retried attempt"
assert_eq "$(v "$W/m" 'syncq_jobs_processed_total{service="dns",action="create_record",status="success"}')" 1 "the create"
assert_eq "$(v "$W/m" 'syncq_jobs_processed_total{service="dns",action="update_record",status="conflict"}')" 1 "the conflict"

# idle clients take every slot; they are dropped at their deadline and scrapes go on
/usr/bin/python3 -c '
import socket, sys, time
s = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(12)]
time.sleep(4)' "${addr##*:}" &
idle=$!
sleep 0.3
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$addr/healthz")
assert_eq "$code" 200 "/healthz while idle clients hold the slots"
kill "$idle" 2>/dev/null || true
stop_worker
