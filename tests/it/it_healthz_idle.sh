#!/bin/bash
# Idle or slow clients cannot starve /healthz (issue 9 item 12): with 100 idle
# TCP connections open (more than the responder's slots) and a client
# dribbling a request byte by byte, /healthz and /metrics still answer at once.
# The bound is functional: a container health check with a 2 s timeout must
# pass; before, 40 idle connections held it for 6 s (8 slots x 2 s).
. "$(dirname "$0")/../lib.sh"

start_worker -c 1 -q default
addr=$(sed -n 's/.*"event":"master.metrics".*on http:\/\/\([0-9.:]*\)".*/\1/p' "$W/worker.log" | head -n 1)
[ -n "$addr" ] || fail "no metrics address logged"

/usr/bin/python3 - "${addr##*:}" "$W/idle.ready" <<'PY' &
import socket, sys, time
port, ready = int(sys.argv[1]), sys.argv[2]
def idle_conn():  # non-blocking: a full backlog must not hold the test here
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    return s
idle = [idle_conn() for _ in range(100)]
time.sleep(0.3)  # let the master take what it can
slow = socket.create_connection(("127.0.0.1", port))
slow.send(b"GET /healthz HTTP/1.0\r\n")  # a request that never ends
open(ready, "w").close()
time.sleep(15)
PY
idle=$!
ON_EXIT="kill $idle 2>/dev/null; $ON_EXIT"
wait_for 10 "100 idle connections open" test -e "$W/idle.ready"

for i in 1 2 3; do
    code=$(curl -s --max-time 2 -o "$W/h" -w '%{http_code}' "http://$addr/healthz" || true)
    assert_eq "$code" 200 "/healthz with 100 idle connections open (try $i)"
    assert_eq "$(cat "$W/h")" ok "/healthz body"
done
code=$(curl -s --max-time 2 -o "$W/m" -w '%{http_code}' "http://$addr/metrics" || true)
assert_eq "$code" 200 "/metrics with 100 idle connections open"
grep -q '^syncq_redis_up 1' "$W/m" || fail "/metrics body incomplete"

# many health checks at once, still among the idle crowd
pids=""
for i in $(seq 1 20); do
    curl -sf --max-time 2 -o /dev/null "http://$addr/healthz" &
    pids="$pids $!"
done
okc=0
for p in $pids; do wait "$p" && okc=$((okc + 1)); done
assert_eq "$okc" 20 "concurrent /healthz answered"
kill "$idle" 2>/dev/null || true
stop_worker
