#!/bin/bash
# Issue 15 part 5. `syncq migrate` loads the Redis function library, so a
# producer enqueues with FCALL before any worker has started; a Redis that can
# lose jobs (eviction policy, no persistence) makes every worker warn loudly
# and `syncq check` fail; and the worker and the CLI run as the least-privilege
# PostgreSQL roles of deploy/postgres-roles.sql, which cannot DROP, ALTER,
# TRUNCATE or CREATE (and the worker's role cannot DELETE audit rows).
. "$(dirname "$0")/../lib.sh"

# ---- a private, volatile Redis that has never seen syncq
private_redis redis2 --save '' --appendonly no --maxmemory-policy allkeys-lru
P2=$RPORT
r2() { redis-cli -p "$P2" "$@"; }
up() { r2 PING 2>/dev/null | grep -q PONG; }
wait_for 10 "the private Redis" up
export SYNCQ_REDIS_URL="redis://127.0.0.1:$P2/0"

assert_eq "$(r2 FUNCTION LIST LIBRARYNAME syncq | grep -c syncq || true)" 0 "libraries before migrate"
bin/syncq migrate > "$W/migrate.txt"
cat "$W/migrate.txt"
grep -q "^Redis function library loaded at redis://127.0.0.1:$P2/0" "$W/migrate.txt" || fail "migrate did not load the library"
# a producer's raw FCALL, no worker anywhere
out=$(r2 FCALL syncq_enqueue 1 "$SYNCQ_PREFIX:{urgent}:ready" '{"kind":"mutation","service":"syncq","action":"noop"}')
echo "$out"
echo "$out" | grep -q '^queued$' || fail "FCALL syncq_enqueue before any worker: $out"
assert_eq "$(r2 LLEN "$SYNCQ_PREFIX:{urgent}:ready")" 1 "jobs waiting"

# migrate with Redis unreachable: the schema part still succeeds, with a warning
rc=0
SYNCQ_REDIS_URL="redis://127.0.0.1:$(_sq_pick_port)/0" bin/syncq migrate > /dev/null 2> "$W/migrate2.err" || rc=$?
cat "$W/migrate2.err"
assert_eq "$rc" 0 "migrate exit code with Redis unreachable"
grep -q 'warning: cannot reach Redis .*function library is not loaded' "$W/migrate2.err" || fail "no warning"

# ---- syncq check fails on the volatile Redis, naming both problems
rc=0
bin/syncq check --max-failure-rate off > "$W/check.txt" || rc=$?
cat "$W/check.txt"
assert_eq "$rc" 1 "check exit code on an evicting Redis without persistence"
grep -q '^redis: maxmemory-policy is allkeys-lru, not noeviction: .*; persistence is off (no RDB save points, appendonly no)' \
    "$W/check.txt" || fail "check does not name both problems"
bin/syncq check --max-failure-rate off --redis-durability off > /dev/null || fail "check --redis-durability off breached"

# ---- the worker warns loudly (and still runs)
bin/syncq-worker -c 1 -q urgent --prefix "$SYNCQ_PREFIX" >>"$W/worker.log" 2>&1 &
WORKER_PID=$!
warned() { grep -q '"event":"master.durability".*THIS REDIS CAN LOSE JOBS: maxmemory-policy is allkeys-lru' "$W/worker.log"; }
wait_for 10 "the durability warning" warned
grep '"event":"master.durability"' "$W/worker.log" | head -1
grep -q '"level":"warn","pid":[0-9]*,"event":"master.durability"' "$W/worker.log" || fail "the durability line is not a warning"
ran() { [ "$(count "status = 'success'")" = 1 ]; }
wait_for 20 "the job enqueued before the worker ran" ran
stop_worker

# one setting at a time: AOF alone is persistence enough; the policy alone still breaches
r2 CONFIG SET appendonly yes >/dev/null
rc=0
out=$(bin/syncq check --max-failure-rate off) || rc=$?
assert_eq "$rc" 1 "check exit code with AOF but allkeys-lru"
case "$out" in *persistence*) fail "AOF on, but check says persistence is off: $out" ;; esac
r2 CONFIG SET maxmemory-policy noeviction >/dev/null
bin/syncq check --max-failure-rate off > "$W/check3.txt" || { cat "$W/check3.txt"; fail "check breached on a safe Redis"; }
export SYNCQ_REDIS_URL="$SQ_REDIS_URL"

# ---- PostgreSQL: least-privilege roles
WR="sq_w_$$" CR="sq_c_$$"
ON_EXIT="sq_psql postgres -c 'DROP ROLE IF EXISTS $WR' -c 'DROP ROLE IF EXISTS $CR' >/dev/null 2>&1; $ON_EXIT"
sq_psql "$DB" -f deploy/postgres-roles.sql >/dev/null
sq_psql "$DB" -f deploy/postgres-roles.sql >/dev/null # idempotent: a second run after an upgrade
sq_psql "$DB" -c "CREATE ROLE $WR LOGIN IN ROLE syncq_worker" -c "CREATE ROLE $CR LOGIN IN ROLE syncq_cli" >/dev/null
AS_W="$SQ_PG_BASE dbname=$DB user=$WR"
AS_W=${AS_W/user=postgres /}
AS_C="$SQ_PG_BASE dbname=$DB user=$CR"
AS_C=${AS_C/user=postgres /}

SYNCQ_DATABASE_URL="$AS_W" start_worker -c 2 -q urgent
for i in $(seq 1 20); do echo '{"kind":"mutation","service":"syncq","action":"noop"}'; done |
    SYNCQ_DATABASE_URL="$AS_C" bin/syncq enqueue --batch - > "$W/ids.txt"
done20() { [ "$(count "status = 'success'")" = 21 ]; }  # and the one from before
wait_for 30 "20 jobs audited by the worker role" done20
stop_worker
grep -q '"level":"error"' "$W/worker.log" && { grep '"level":"error"' "$W/worker.log" | head; fail "the worker logged errors as $WR"; }
echo "ok: the worker ran as its role $WR and wrote the audit"

SYNCQ_DATABASE_URL="$AS_C" bin/syncq jobs --limit 5 > "$W/jobs.txt" || fail "syncq jobs as $CR"
SYNCQ_DATABASE_URL="$AS_C" bin/syncq prune --older-than 1d > "$W/prune.txt" || { cat "$W/prune.txt"; fail "syncq prune as $CR"; }
SYNCQ_DATABASE_URL="$AS_C" bin/syncq check --max-oldest-age off > /dev/null || fail "syncq check as $CR"

denied() { # ROLE_CONNINFO SQL WANT: the statement fails with WANT in the error
    local rc=0
    psql -X -q -v ON_ERROR_STOP=1 -c "$2" "$1" > /dev/null 2> "$W/denied.err" || rc=$?
    [ "$rc" -ne 0 ] || fail "allowed: $2"
    grep -q "$3" "$W/denied.err" || { cat "$W/denied.err"; fail "$2: not \"$3\""; }
    echo "ok: denied: $2 ($(head -1 "$W/denied.err"))"
}
for who in "$AS_W" "$AS_C"; do
    denied "$who" "DROP TABLE syncq_jobs" "must be owner"
    denied "$who" "ALTER TABLE syncq_jobs ADD COLUMN evil int" "must be owner"
    denied "$who" "ALTER TABLE syncq_job_events DROP COLUMN due_at" "must be owner"
    denied "$who" "TRUNCATE syncq_job_events" "permission denied"
    denied "$who" "CREATE TABLE syncq_evil (x int)" "permission denied for schema public"
    denied "$who" "DROP VIEW syncq_job_history" "must be owner"
done
denied "$AS_W" "DELETE FROM syncq_jobs" "permission denied for table syncq_jobs"
rc=0
SYNCQ_DATABASE_URL="$AS_W" bin/syncq migrate > /dev/null 2> "$W/m.err" || rc=$?
cat "$W/m.err"
[ "$rc" -ne 0 ] || fail "syncq migrate succeeded as the worker role"
assert_eq "$(count "true")" 21 "audit rows still there"
