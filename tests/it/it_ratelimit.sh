#!/bin/bash
# A service's rate limit is shared by every worker on every host (a token
# bucket in Redis): two masters with two children each send 15 creates to
# a service limited to 5 requests/s with a burst of 1; the provider sees
# them spread over at least (15 - 1) / 5 = 2.8 s, and every job succeeds
# (a long wait is a deferral, not a failed attempt).
. "$(dirname "$0")/../lib.sh"

ON_EXIT='[ -z "${B:-}" ] || kill -KILL "$B" 2>/dev/null'
start_mock
sed "s/@PORT@/$port/" tests/services/dns.json.in |
    sed 's/"timeout_ms": 5000,/"timeout_ms": 5000, "rate_limit": {"per_second": 5, "burst": 1},/' > "$W/services.json"
grep -q rate_limit "$W/services.json" || fail "could not add the rate limit to the services file"
export SYNCQ_SERVICES="$W/services.json"
start_worker -c 2 -q urgent
bin/syncq-worker -c 2 -q urgent --prefix "$SYNCQ_PREFIX" >>"$W/worker-b.log" 2>&1 &
B=$!
for i in $(seq 1 15); do
    bin/syncq enqueue --service dns --action create_record --scope rl.example \
        --payload "{\"name\":\"h$i\",\"type\":\"A\",\"content\":\"192.0.2.$i\",\"ttl\":60}" >/dev/null
done
all() { [ "$(count "action = 'create_record' AND status = 'success'")" = 15 ]; }
wait_for 30 "15 rate-limited creates" all
span=$(curl -s "http://127.0.0.1:$port/_admin/calls" | /usr/bin/python3 -c "
import json, sys
t = sorted(c['time'] for c in json.load(sys.stdin) if c['method'] == 'POST')
print(len(t), int((t[-1] - t[0]) * 1000))")
echo "POST calls and their span (ms): $span"
set -- $span
assert_eq "$1" 15 "calls the provider saw"
[ "$2" -ge 2600 ] || fail "15 calls in $2 ms: faster than 5/s with a burst of 1"
assert_eq "$(q "SELECT count(*) FROM syncq_jobs WHERE action = 'create_record' AND attempts <> 1")" 0 "jobs that used more than one attempt"
kill -TERM "$B"; wait "$B"; B=""
stop_worker
