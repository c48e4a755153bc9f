#!/bin/bash
# (c) PostgreSQL stopped for 10 s in the middle of a run: workers keep
# working while the outbox has room, stop fetching once it passes
# SYNCQ_OUTBOX_MAX (Redis does not grow without bound), and every job's row
# arrives after PostgreSQL is back.
. "$(dirname "$0")/../lib.sh"
ON_EXIT='pg_start >/dev/null 2>&1'

export SYNCQ_OUTBOX_MAX=200
start_worker -c 2 -q default
ready=$(key default ready)
outbox=$(key default outbox)
push() { # from to
    for i in $(seq "$1" "$2"); do
        printf "LPUSH %s '{\"id\":\"pg-%d\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\"}'\n" "$ready" "$i"
    done | r > /dev/null
}

push 1 200
first() { [ "$(count "status = 'success'")" -ge 200 ]; }
wait_for 30 "the first 200 rows" first

pg_stop
down_at=$(now_ms)
push 201 900
grew() { [ "$(r LLEN "$outbox")" -gt 0 ]; }
wait_for 10 "outcome records waiting in the outbox" grew
# the outage lasts 10 s; the assertions below are about state, not timing
while [ $(( $(now_ms) - down_at )) -lt 10000 ]; do sleep 0.2; done
left=$(r LLEN "$ready")
ob=$(r LLEN "$outbox")
echo "after 10 s without PostgreSQL: ready=$left outbox=$ob"
[ "$left" -lt 700 ] || fail "no job ran while PostgreSQL was down"
[ "$left" -gt 0 ] || fail "workers kept fetching past the outbox limit"
[ "$ob" -le 300 ] || fail "outbox grew to $ob, past its limit of 200 (plus one batch per child)"
grep -q '"event":"audit.db_down"' "$W/worker.log" || fail "the outage was not logged"
kill -0 "$WORKER_PID" || fail "master died while PostgreSQL was down"

pg_start
all() { [ "$(count "status = 'success'")" -ge 900 ]; }
wait_for 60 "all 900 rows after PostgreSQL returned" all
assert_eq "$(count "true")" 900 "rows"
assert_eq "$(q "SELECT count(DISTINCT job_id) FROM syncq_jobs WHERE job_id LIKE 'pg-%'")" 900 "distinct job ids"
assert_eq "$(r LLEN "$outbox")" 0 "outbox drained"
grep -q '"event":"audit.db_up"' "$W/worker.log" || fail "the recovery was not logged"
stop_worker
