#!/bin/bash
# Mutation jobs against the mock DNS service (tests/mock/mock_service.py):
# a create lands in the snapshot with its remote id; a create of an existing
# object adopts it; an expected_hash mismatch ends in conflict without
# calling the service; an update with the right hash succeeds; deleting a
# missing object is success; 429 with Retry-After 2 is retried no sooner
# than 2 s later; the Idempotency-Key is the job id; the header secret from
# the environment reaches no audit row, log line or error text.
. "$(dirname "$0")/../lib.sh"

export MOCK_TOKEN="tok-$RANDOM-SECRETVALUE"
start_mock
mock_services dns.json.in
start_worker -c 2 -q urgent
ok_() { [ "$(count "job_id = '$1' AND status = '$2'")" = 1 ]; }
snap() { q "SELECT $1 FROM syncq_snapshots WHERE service = 'dns' AND resource = 'records' AND scope = 'example.org' AND $2"; }

c1=$(bin/syncq enqueue --service dns --action create_record --scope example.org --payload '{"name":"www","type":"A","content":"192.0.2.1","ttl":300}')
wait_for 15 "the create" ok_ "$c1" success
rid=$(q "SELECT result->>'external_id' FROM syncq_jobs WHERE job_id = '$c1'")
[ -n "$rid" ] || fail "no remote id in the create's result"
assert_eq "$(snap "data->>'content'" "external_id = '$rid'")" "192.0.2.1" "snapshot row of the created record"
assert_eq "$(snap sync_status "external_id = '$rid'")" synced "its sync status"
mock GET /_admin/calls | /usr/bin/python3 -c "import json,sys; c=[x for x in json.load(sys.stdin) if x['method']=='POST']; assert c and c[0]['idempotency_key']=='$c1', c; assert c[0]['authorization_present']" || fail "the create did not carry Idempotency-Key = job id and the token"

c2=$(bin/syncq enqueue --service dns --action create_record --scope example.org --payload '{"name":"www","type":"A","content":"192.0.2.1","ttl":300}')
wait_for 15 "the second create" ok_ "$c2" success
assert_eq "$(q "SELECT result->>'adopted' || ' ' || (result->>'external_id') FROM syncq_jobs WHERE job_id = '$c2'")" "true $rid" "the existing record adopted"

before=$(mock GET /_admin/calls | /usr/bin/python3 -c "import json,sys; print(sum(1 for x in json.load(sys.stdin) if x['method']=='PUT'))")
u1=$(bin/syncq enqueue --service dns --action update_record --scope example.org --target-id "$rid" --expected-hash wrong --payload '{"name":"www","type":"A","content":"192.0.2.9","ttl":300}')
wait_for 15 "the conflicting update" ok_ "$u1" conflict
after=$(mock GET /_admin/calls | /usr/bin/python3 -c "import json,sys; print(sum(1 for x in json.load(sys.stdin) if x['method']=='PUT'))")
assert_eq "$after" "$before" "PUT calls after an expected_hash mismatch"
assert_eq "$(q "SELECT attempts FROM syncq_jobs WHERE job_id = '$u1'")" 1 "attempts of the conflict (not retried)"
# logged as a conflict, not as a dead letter
grep "\"job_id\":\"$u1\"" "$W/worker.log" | grep -q '"event":"job.conflict"' || fail "the conflict is not logged as job.conflict"
grep "\"job_id\":\"$u1\"" "$W/worker.log" | grep -q '"event":"job.dead"' && fail "the conflict is logged as job.dead"

hash=$(snap content_hash "external_id = '$rid'")
u2=$(bin/syncq enqueue --service dns --action update_record --scope example.org --target-id "$rid" --expected-hash "$hash" --payload '{"name":"www","type":"A","content":"192.0.2.9","ttl":300}')
wait_for 15 "the update" ok_ "$u2" success
assert_eq "$(snap "data->>'content'" "external_id = '$rid'")" "192.0.2.9" "snapshot after the update"
[ "$(snap content_hash "external_id = '$rid'")" != "$hash" ] || fail "the content hash did not change"

d1=$(bin/syncq enqueue --service dns --action delete_record --scope example.org --target-id no-such-record)
wait_for 15 "the delete of a missing record" ok_ "$d1" success
d2=$(bin/syncq enqueue --service dns --action delete_record --scope example.org --target-id "$rid")
wait_for 15 "the delete" ok_ "$d2" success
assert_eq "$(snap "count(*)" "external_id = '$rid'")" 0 "snapshot rows after the delete"

mock POST /_admin/throttle '{"times":1,"retry_after":2}' >/dev/null
t=$(bin/syncq enqueue --service dns --action create_record --scope example.org --payload '{"name":"mail","type":"MX","content":"mx.example.org","ttl":300}')
wait_for 20 "the throttled create" ok_ "$t" success
gap=$(q "SELECT (extract(epoch FROM (SELECT started_at FROM syncq_jobs WHERE job_id = '$t')) * 1000 - extract(epoch FROM at) * 1000)::bigint FROM syncq_job_events WHERE job_id = '$t' AND outcome = 'transient'")
echo "retried $gap ms after the 429"
[ "$gap" -ge 2000 ] || fail "retried $gap ms after a Retry-After of 2 s"

# per-action defaults from the services file: the enqueue function reads the
# idempotency window the masters publish; the worker uses max_attempts
assert_eq "$(r HGET "$(key urgent config)" dns/create_record:idempotency_ttl_s)" 600 "published idempotency window"
env_='{"kind":"mutation","service":"dns","action":"create_record","scope":"example.org","idempotency_key":"k-www2","payload":{"name":"www2","type":"A","content":"192.0.2.2","ttl":300}}'
first=$(r FCALL syncq_enqueue 1 "$(key urgent ready)" "$env_" | head -1)
assert_eq "$(r FCALL syncq_enqueue 1 "$(key urgent ready)" "$env_" | tail -1)" duplicate "a second enqueue inside the action's window"
wait_for 15 "the idempotent create" ok_ "$first" success
rid2=$(q "SELECT result->>'external_id' FROM syncq_jobs WHERE job_id = '$first'")
mock POST /_admin/fail "{\"match\":\"/records/$rid2\",\"status\":503,\"times\":10}" >/dev/null
u3=$(bin/syncq enqueue --service dns --action update_record --scope example.org --target-id "$rid2" --payload '{"name":"www2","type":"A","content":"192.0.2.3","ttl":300}')
wait_for 15 "the failing update" ok_ "$u3" dead
assert_eq "$(q "SELECT attempts FROM syncq_jobs WHERE job_id = '$u3'")" 2 "attempts of an update whose action allows 2"
assert_eq "$(snap sync_status "external_id = '$rid2'")" failed "the row's sync status after the failed update"

dump=$("$SQ_PG_BIN/pg_dump" -h 127.0.0.1 -p "$SQ_PG_PORT" -U postgres --data-only "$DB")
if echo "$dump" | grep -q SECRETVALUE; then fail "the header secret reached PostgreSQL"; fi
stop_worker
if grep -q SECRETVALUE "$W/worker.log"; then fail "the header secret reached a log"; fi
echo "ok: the header secret is in no audit row and no log line"
