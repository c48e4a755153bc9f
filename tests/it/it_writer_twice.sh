#!/bin/bash
# A batch of audit records written twice changes nothing: records wait in
# Redis while PostgreSQL is down, every one of them is duplicated, and after
# PostgreSQL returns each job has one row and each event one row.
. "$(dirname "$0")/../lib.sh"
ON_EXIT='pg_start >/dev/null 2>&1'

start_worker -c 2 -q default
ready=$(key default ready)
pg_stop
for i in $(seq 1 20); do r LPUSH "$ready" "{\"id\":\"tw-$i\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\"}"; done >/dev/null
for i in $(seq 1 5); do r LPUSH "$ready" "{\"id\":\"tf-$i\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"fail\",\"payload\":{\"permanent\":true}}"; done >/dev/null
drained() { [ "$(r LLEN "$ready")" = 0 ] && [ "$(r ZCARD "$(key default dead)")" = 5 ]; }
wait_for 20 "jobs to run while PostgreSQL is down" drained
stop_worker  # the writer hands its claimed records back to the outbox
outbox=$(key default outbox)
before=$(r LLEN "$outbox")
[ "$before" -ge 25 ] || fail "expected at least 25 waiting records, found $before"
r EVAL "for _, x in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do redis.call('RPUSH', KEYS[1], x) end" 1 "$outbox" >/dev/null
assert_eq "$(r LLEN "$outbox")" $((before * 2)) "records after duplicating every one"
pg_start
start_worker -c 1 -q default
written() { [ "$(r LLEN "$outbox")" = 0 ] && [ "$(count "status IN ('success', 'dead')")" = 25 ]; }
wait_for 30 "the doubled records to be written" written
assert_eq "$(count "true")" 25 "job rows"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events")" 5 "event rows (one failed attempt per failing job)"
assert_eq "$(count "status = 'dead' AND attempts = 1")" 5 "dead rows"
stop_worker
