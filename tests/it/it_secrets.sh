#!/bin/bash
# (e) secrets at several depths and inside arrays, through every path a job
# can take (enqueue, raw LPUSH, success, retry, dead, unknown handler, bad
# envelope): no secret value reaches any PostgreSQL row or any log line.
. "$(dirname "$0")/../lib.sh"

payload='{"user":"ada","password":"SECRET-pw-1","nested":{"deeper":{"apiKey":"SECRET-key-2","list":[{"token":"SECRET-tok-3"},{"ok":"visible"}]}},"Authorization":"Bearer SECRET-bearer-4","tokens":["SECRET-t5","SECRET-t6"],"callback":"https://bob:SECRET-url-7@example.com/hook?access_token=SECRET-qs-8&x=1","client_secret":{"a":"SECRET-obj-9"},"X-Api-Key":"SECRET-hdr-10","note":"Bearer SECRET-bearer-11"}'
export SYNCQ_BACKOFF_BASE_MS=50
start_worker -c 2 -q default
ready=$(key default ready)

ids=""
ids="$ids $(bin/syncq enqueue --queue default --service syncq --action noop --actor user:42 --payload "$payload" 2>>"$W/cli.log")"
ids="$ids $(echo "${payload%\}},\"permanent\":true}" | bin/syncq enqueue --queue default --service syncq --action fail --payload - 2>>"$W/cli.log")"
ids="$ids $(bin/syncq enqueue --queue default --service syncq --action fail --max-attempts 2 --payload "${payload%\}},\"permanent\":false}" 2>>"$W/cli.log")"
ids="$ids $(bin/syncq enqueue --queue default --service nosuch --action thing --payload "$payload" 2>>"$W/cli.log")"
r LPUSH "$ready" "{\"id\":\"raw-1\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\",\"payload\":$payload}" >/dev/null
r LPUSH "$ready" "{\"id\":\"raw-bad\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\",\"payload\":$payload" >/dev/null

settled() { [ "$(count "status IN ('success', 'dead')")" -ge 6 ]; }
wait_for 30 "six settled jobs" settled
q "SELECT job_id, service, action, status, attempts FROM syncq_jobs ORDER BY job_id"
assert_eq "$(count "status = 'success'")" 2 "successful jobs"
assert_eq "$(q "SELECT attempts FROM syncq_jobs WHERE action = 'fail' ORDER BY attempts" | tr '\n' ' ')" "1 2 " "a permanent failure ran once, a transient one twice"

# the masked copy is what the audit keeps
assert_eq "$(q "SELECT payload->>'password' FROM syncq_jobs WHERE job_id = 'raw-1'")" "********" "password masked"
assert_eq "$(q "SELECT payload#>>'{nested,deeper,list,0,token}' FROM syncq_jobs WHERE job_id = 'raw-1'")" "********" "token inside an array masked"
assert_eq "$(q "SELECT payload#>>'{nested,deeper,list,1,ok}' FROM syncq_jobs WHERE job_id = 'raw-1'")" "visible" "plain values kept"
assert_eq "$(q "SELECT payload->>'user' FROM syncq_jobs WHERE job_id = 'raw-1'")" "ada" "user kept"

dump=$("$SQ_PG_BIN/pg_dump" -h 127.0.0.1 -p "$SQ_PG_PORT" -U postgres --data-only "$DB")
grep -q 'ada' <<< "$dump" || fail "the dump does not hold the audit rows"  # not echo | grep -q: pipefail + SIGPIPE
if echo "$dump" | grep -o 'SECRET-[a-z0-9-]*' | sort -u | grep .; then fail "secret values in PostgreSQL"; fi
echo "ok: no secret value in a $(echo "$dump" | wc -c)-byte dump"
stop_worker
if grep -o 'SECRET-[a-z0-9-]*' "$W/worker.log" "$W/cli.log" | sort -u | grep .; then fail "secret values in a log"; fi
echo "ok: no secret value in $(wc -l < "$W/worker.log") worker log lines"
