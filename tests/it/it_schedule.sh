#!/bin/bash
# Scheduled syncs: a resource with every_s 2 and two scopes is synced once
# per period per scope by the whole fleet, however many masters run: with
# two masters, consecutive scheduled syncs of one scope are at least 2 s
# apart (by their enqueued_at, Redis TIME), and each scope is synced.
. "$(dirname "$0")/../lib.sh"

ON_EXIT='[ -z "${B:-}" ] || kill -KILL "$B" 2>/dev/null'
start_mock
curl -s -X POST "http://127.0.0.1:$port/_admin/seed" -d '{"zone":"a.example","count":20}' >/dev/null
curl -s -X POST "http://127.0.0.1:$port/_admin/seed" -d '{"zone":"b.example","count":5}' >/dev/null
sed "s/@PORT@/$port/" tests/services/sync.json.in |
    sed 's/"max_delete_share": 0.5,/"max_delete_share": 0.5, "every_s": 2, "scopes": ["a.example", "b.example"],/' > "$W/services.json"
grep -q every_s "$W/services.json" || fail "could not add the schedule to the services file"
export SYNCQ_SERVICES="$W/services.json"
start_worker -c 1 -q sync
bin/syncq-worker -c 1 -q sync --prefix "$SYNCQ_PREFIX" >>"$W/worker-b.log" 2>&1 &
B=$!
enough() { [ "$(count "actor = 'schedule' AND scope = 'a.example' AND status = 'success'")" -ge 3 ]; }
wait_for 20 "three scheduled syncs of a.example" enough
assert_eq "$(q "SELECT count(*) FROM syncq_snapshots WHERE resource = 'records' AND scope = 'b.example'")" 5 "rows of b.example, synced on schedule"
gaps=$(q "SELECT min(gap) FROM (SELECT extract(epoch FROM enqueued_at - lag(enqueued_at) OVER (PARTITION BY scope ORDER BY enqueued_at)) * 1000 AS gap FROM syncq_jobs WHERE actor = 'schedule') g")
echo "shortest gap between scheduled syncs of one scope: ${gaps%.*} ms"
[ "${gaps%.*}" -ge 1990 ] || fail "two scheduled syncs of one scope only ${gaps%.*} ms apart with two masters"
kill -TERM "$B"; wait "$B"; B=""
stop_worker
