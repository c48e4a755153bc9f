#!/bin/bash
# Jobs waiting with nobody to run them are visible and alertable: with old
# enqueued_at and no workers, `syncq stats` shows the oldest job's age and
# `syncq check --max-oldest-age 60` exits 1 naming the queue; once a worker
# has drained the queue, check exits 0. A check that cannot reach Redis or
# PostgreSQL exits 69 and says which (password masked); stats without
# PostgreSQL still prints the Redis part.
. "$(dirname "$0")/../lib.sh"

old=$(date -u -d '-10 min' +%Y-%m-%dT%H:%M:%SZ)
for i in 1 2 3; do
    r LPUSH "$(key default ready)" "{\"id\":\"old-$i\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\",\"enqueued_at\":\"$old\"}" >/dev/null
done
r ZADD "$(key default retry)" "$(( $(now_ms) + 3600000 ))" '{"kind":"mutation","service":"syncq","action":"noop"}' >/dev/null

bin/syncq stats > "$W/stats.txt"
cat "$W/stats.txt"
grep -Eq '^default +active +3 +10m0[0-9]s +0 +1 +in (59m|1h00m)' "$W/stats.txt" ||
    fail "stats does not show default with 3 ready, ~10 min old, 1 retry due in an hour"
grep -q '^WORKERS: 0 live' "$W/stats.txt" || fail "stats shows workers"
grep -q '^LAST MINUTE: 0 processed' "$W/stats.txt" || fail "stats lacks the last minute"
age=$(bin/syncq stats --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print([q for q in d["queues"] if q["name"]=="default"][0]["oldest_age_ms"])')
[ "$age" -ge 600000 ] && [ "$age" -lt 620000 ] || fail "stats --json oldest_age_ms $age is not ~10 min"
echo "ok: oldest age $age ms"

rc=0
bin/syncq check --max-oldest-age 60 > "$W/check.txt" || rc=$?
cat "$W/check.txt"
assert_eq "$rc" 1 "check exit code with a 10-minute-old job"
grep -q '^queue default: the oldest ready job has waited 10m0[0-9]s, over 1m00s (3 ready)$' "$W/check.txt" ||
    fail "check does not name the breach"
assert_eq "$(wc -l < "$W/check.txt")" 1 "breach lines"

start_worker -c 2 -q default
drained() { [ "$(count "job_id LIKE 'old-%' AND status = 'success'")" = 3 ]; }
wait_for 20 "the old jobs to run" drained
rc=0
bin/syncq check --max-oldest-age 60 > "$W/check2.txt" || rc=$?
cat "$W/check2.txt"
assert_eq "$rc" 0 "check exit code once drained"
grep -q '^ok: 3 queue(s) within every threshold' "$W/check2.txt" || fail "check does not say ok"

bin/syncq stats > "$W/stats2.txt"
cat "$W/stats2.txt"
grep -Eq '^WORKERS: 3 live \(2 job children, 1 other\)' "$W/stats2.txt" || fail "stats does not list the live workers"
grep -Eq '^[^ ]+ +[0-9]+ +writer +0 +[0-9.]+(ms|s)$' "$W/stats2.txt" || fail "stats lacks the writer's heartbeat age"
grep -Eq '^LAST MINUTE: 3 processed \(3 success' "$W/stats2.txt" || fail "stats does not count the last minute"

# --watch: a snapshot a second (redrawn in place on a terminal)
timeout 2.5 bin/syncq stats --watch > "$W/watch.txt" || true
[ "$(grep -c '^QUEUE ' "$W/watch.txt")" -ge 2 ] || fail "stats --watch did not print a snapshot every second"

# dead letters past --max-dead
r ZADD "$(key default dead)" "$(now_ms)" gone-1 >/dev/null
rc=0
out=$(bin/syncq check --max-dead 0 --max-oldest-age off) || rc=$?
assert_eq "$rc" 1 "check exit code with a dead-letter job and --max-dead 0"
assert_eq "$out" "queue default: 1 dead-letter jobs, over 0" "dead breach line"
bin/syncq check --max-dead 1 >/dev/null || fail "check --max-dead 1 breached with 1 dead job"

# unreachable servers: 69 and a clear message, the password masked
rc=0
err=$(SYNCQ_REDIS_URL='redis://:hunter2@127.0.0.1:1/0' bin/syncq check 2>&1) || rc=$?
echo "$err"
assert_eq "$rc" 69 "check exit code with Redis on a closed port"
case "$err" in
*"cannot reach Redis at redis://:********@127.0.0.1:1/0"*) ;;
*) fail "the message does not name the Redis URL with its password masked" ;;
esac
case "$err" in *hunter2*) fail "the password was printed" ;; esac
rc=0
err=$(SYNCQ_DATABASE_URL='host=127.0.0.1 port=1 password=hunter2 dbname=x' bin/syncq check 2>&1) || rc=$?
echo "$err"
assert_eq "$rc" 69 "check exit code with PostgreSQL on a closed port"
case "$err" in *"cannot reach PostgreSQL at host=127.0.0.1 port=1 password=******** dbname=x"*) ;; *) fail "no clear PostgreSQL message" ;; esac
SYNCQ_DATABASE_URL='host=127.0.0.1 port=1 dbname=x' bin/syncq check --max-failure-rate off >/dev/null ||
    fail "check needs PostgreSQL with --max-failure-rate off"
out=$(SYNCQ_DATABASE_URL='host=127.0.0.1 port=1 dbname=x' bin/syncq stats)
echo "$out" | grep -q '^default ' || fail "stats without PostgreSQL lacks the queues"
echo "$out" | grep -q '^LAST MINUTE: unknown: cannot reach PostgreSQL' || fail "stats without PostgreSQL does not say so"
stop_worker
