#!/bin/bash
# Issue 9 item 6. (a) The worker refuses to start on a database without the
# schema it needs (none, or an older one): exit 78 with "run syncq migrate";
# a newer schema is fine. (b) Audit records PostgreSQL refuses are set aside,
# counted by `syncq stats`, `syncq check` (a breach) and /metrics, and go back
# to the writer with `syncq audit refeed` once the cause is fixed.
. "$(dirname "$0")/../lib.sh"

# ---- (a) the schema check at start
EMPTY="${DB}_empty"
sq_psql postgres -c "CREATE DATABASE \"$EMPTY\"" >/dev/null
ON_EXIT="sq_psql postgres -c 'DROP DATABASE IF EXISTS \"$EMPTY\" WITH (FORCE)' >/dev/null 2>&1; $ON_EXIT"
worker_rc() { # DBURL: run a worker (bounded), print its exit code
    local rc=0
    SYNCQ_DATABASE_URL="$1" timeout 30 bin/syncq-worker -c 1 --prefix "$SYNCQ_PREFIX" >"$W/w.log" 2>&1 || rc=$?
    echo "$rc"
}
assert_eq "$(worker_rc "$SQ_PG_BASE dbname=$EMPTY")" 78 "worker exit code on an unmigrated database"
grep -q 'run syncq migrate' "$W/w.log" || { cat "$W/w.log"; fail "no \"run syncq migrate\" for an unmigrated database"; }
q "DELETE FROM syncq_schema_migrations WHERE version = (SELECT max(version) FROM syncq_schema_migrations)"
assert_eq "$(worker_rc "$SYNCQ_DATABASE_URL")" 78 "worker exit code on an older schema"
grep -q 'schema is at version [0-9]*, this build needs [0-9]*: run syncq migrate' "$W/w.log" ||
    { cat "$W/w.log"; fail "no version message for an older schema"; }
assert_eq "$(r LLEN "$(key default rejected)")" 0 "records set aside by a refused start"
bin/syncq migrate >/dev/null
q "INSERT INTO syncq_schema_migrations (version, name) VALUES (9999, 'from_a_newer_release')"
start_worker -c 2 -q default # a newer schema than the binary knows: expand-then-contract upgrades
echo "ok: the worker runs on a newer schema"

# ---- (b) a record PostgreSQL refuses is set aside, shown, and re-fed
addr=$(sed -n 's/.*"event":"master.metrics".*on http:\/\/\([0-9.:]*\)".*/\1/p' "$W/worker.log" | head -n 1)
q "ALTER TABLE syncq_jobs ADD CONSTRAINT t_no_blocked CHECK (actor IS DISTINCT FROM 'blocked')"
ready=$(key default ready)
r FCALL syncq_enqueue 1 "$ready" '{"id":"ok-1","kind":"mutation","service":"syncq","action":"noop","actor":"fine"}' >/dev/null
r FCALL syncq_enqueue 1 "$ready" '{"id":"blk-1","kind":"mutation","service":"syncq","action":"noop","actor":"blocked"}' >/dev/null
r RPUSH "$(key default outbox)" 'not an audit record' >/dev/null
set_aside() { [ "$(r LLEN "$(key default rejected)")" -ge 2 ] && [ "$(count "job_id = 'ok-1' AND status = 'success'")" = 1 ]; }
wait_for 20 "the refused records set aside, the good job written" set_aside
n=$(r LLEN "$(key default rejected)")
echo "set aside: $n records"
assert_eq "$(count "job_id = 'blk-1'")" 0 "audit rows of the refused job"

bin/syncq stats | tee "$W/stats" | grep -E '^default ' >/dev/null || fail "no default queue in stats"
head -n 1 "$W/stats" | grep -q 'REJECTED' || fail "stats has no REJECTED column"
assert_eq "$(awk '$1 == "default" {print $NF}' "$W/stats")" "$n" "stats REJECTED for default"
assert_eq "$(bin/syncq stats --json | /usr/bin/python3 -c 'import json,sys; print([q for q in json.load(sys.stdin)["queues"] if q["name"] == "default"][0]["audit_rejected"])')" "$n" "stats --json audit_rejected"
rc=0
bin/syncq check --max-failure-rate off > "$W/check" || rc=$?
assert_eq "$rc" 1 "check exit code with records set aside"
grep -q "queue default: $n audit records set aside" "$W/check" || { cat "$W/check"; fail "check names no set-aside breach"; }
bin/syncq check --max-failure-rate off --max-rejected "$n" >/dev/null || fail "check --max-rejected $n still breaches"
curl -sf "http://$addr/metrics" > "$W/m"
assert_eq "$(sed -n 's/^syncq_audit_rejected{queue="default"} //p' "$W/m")" "$n" "syncq_audit_rejected gauge"
grep -q '^# HELP syncq_audit_rejected' "$W/m" || fail "no HELP for syncq_audit_rejected"

# fix the cause, re-feed: the refused job's rows arrive; the stray line is set aside again
q "ALTER TABLE syncq_jobs DROP CONSTRAINT t_no_blocked"
bin/syncq audit refeed --queue default | tee "$W/refeed"
grep -q "^default: $n audit record(s) back in the outbox" "$W/refeed" || fail "refeed did not report $n records"
written() { [ "$(count "job_id = 'blk-1' AND status = 'success'")" = 1 ]; }
wait_for 20 "the re-fed job's audit row" written
assert_eq "$(q "SELECT actor FROM syncq_jobs WHERE job_id = 'blk-1'")" blocked "the re-fed row's actor"
left() { [ "$(r LLEN "$(key default rejected)")" = 1 ]; }
wait_for 20 "only the stray line left aside" left
assert_eq "$(r LRANGE "$(key default rejected)" 0 -1)" "not an audit record" "what stays aside"
rc=0
bin/syncq audit refeed --queue nope --bogus >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 64 "refeed usage error"
stop_worker
