#!/bin/bash
# Issue 9 item 9: a remote error body is masked before it is cut (a URL
# password across byte 300 is masked in full); a secret header value from
# the environment that the service echoes back is scrubbed by value from the
# audit and the logs; a 10 MB JSON error body does not grow the child's
# memory (VmHWM read from /proc, no timing).
. "$(dirname "$0")/../lib.sh"

export MOCK_ACCOUNT="acct-$RANDOM-ECHOSECRET"
start_mock
mock_services dns.json.in
sed -i 's/"headers": {"Authorization": "Bearer ${MOCK_TOKEN}"}/"headers": {"Authorization": "Bearer ${MOCK_TOKEN}", "X-Account": "${MOCK_ACCOUNT}"}/' "$W/services.json"
grep -q X-Account "$W/services.json" || fail "the services file has no X-Account header"
start_worker -c 1 -q urgent

rule() { mock POST /_admin/fail "$1" | grep -q '"ok"' || fail "mock rule $1"; }
create() { bin/syncq enqueue --service dns --action create_record --scope "$1" --payload '{"name":"www","type":"A","content":"192.0.2.1","ttl":300}'; }
ended() { [ "$(count "job_id = '$1' AND status = 'dead'")" = 1 ]; }
err_of() { q "SELECT last_error FROM syncq_jobs WHERE job_id = '$1'"; }

# the service quotes the X-Account header back, in text and in JSON
rule '{"match":"echo-text","status":400,"text":"account mismatch for ","echo_header":"X-Account"}'
rule '{"match":"echo-json","status":400,"body":{"error":"account mismatch"},"echo_header":"X-Account"}'
e1=$(create echo-text)
e2=$(create echo-json)
wait_for 20 "the echo-text job dead" ended "$e1"
wait_for 20 "the echo-json job dead" ended "$e2"
err_of "$e1"; err_of "$e2"
err_of "$e1" | grep -q "account mismatch for \*\*\*\*\*\*\*\*" || fail "the echoed value is not masked in the text error: $(err_of "$e1")"
err_of "$e2" | grep -q '"echo":"\*\*\*\*\*\*\*\*"' || fail "the echoed value is not masked in the JSON error: $(err_of "$e2")"

# a URL password that crosses the 300-byte cut
pad=$(printf 'x%.0s' $(seq 280))
rule "{\"match\":\"cut-zone\",\"status\":400,\"text\":\"$pad https://u:CUTSECRET99@h/\"}"
c1=$(create cut-zone)
wait_for 20 "the cut job dead" ended "$c1"
err_of "$c1" | grep -q 'u:\*\*\*\*' || fail "the excerpt does not reach the masked password: $(err_of "$c1")"
if err_of "$c1" | grep -o 'CUTS[A-Z0-9]*'; then fail "part of the password across the cut is stored"; fi
echo "ok: the password across the cut is masked"

# a 10 MB JSON error body: the child's peak RSS must not follow it
children() { pgrep -P "$WORKER_PID" | sort; }
hwm_kb() { local m=0 v; for p in $(children); do v=$(awk '/^VmHWM/{print $2}' "/proc/$p/status"); [ "$v" -gt "$m" ] && m=$v; done; echo "$m"; }
before_pids=$(children)
before=$(hwm_kb)
rule '{"match":"huge-zone","status":400,"huge":10000000}'
h1=$(create huge-zone)
wait_for 60 "the huge-body job dead" ended "$h1"
after=$(hwm_kb)
assert_eq "$(children)" "$before_pids" "the same children before and after (none replaced)"
echo "peak RSS of the children: $before kB before, $after kB after a 10 MB error body"
[ $((after - before)) -lt 32768 ] || fail "a 10 MB error body grew a child's peak RSS by $((after - before)) kB"
err_of "$h1" | grep -q "HTTP 400 from dns: .*(cut)" || fail "the huge body's error: $(err_of "$h1")"
mock GET /_admin/calls | grep -q huge-zone || fail "the mock never saw the huge-zone call"

stop_worker
dump=$("$SQ_PG_BIN/pg_dump" -h 127.0.0.1 -p "$SQ_PG_PORT" -U postgres --data-only "$DB")
if echo "$dump" | grep -o "ECHOSECRET\|CUTSECRET99\|$MOCK_TOKEN" | sort -u | grep .; then fail "a secret in PostgreSQL"; fi
if grep -o "ECHOSECRET\|CUTSECRET99\|$MOCK_TOKEN" "$W/worker.log" | sort -u | grep .; then fail "a secret in the worker log"; fi
echo "ok: no echoed, cut or token secret in the audit or the log"
