#!/bin/bash
# `syncq jobs retry ID`: a dead job still in the dead-letter set is replayed
# with its original bytes (lineage replayed_from, a 'replayed' event); a
# conflict needs --expected-hash or --force and is rebuilt from its audit
# row with the new hash; a job is retried once; a job whose masked payload
# had secrets, or that is not dead or in conflict, is refused.
. "$(dirname "$0")/../lib.sh"

start_worker -c 1 -q default
bin/syncq enqueue -q default --id dead-1 --service syncq --action fail --payload '{"permanent":true,"token":"s3cret"}' >/dev/null
bin/syncq enqueue -q default --id fine-1 --service syncq --action noop >/dev/null
settled() { [ "$(count "job_id IN ('dead-1', 'fine-1') AND status IN ('dead', 'success')")" = 2 ]; }
wait_for 20 "the jobs to settle" settled

out=$(bin/syncq jobs retry dead-1 --actor alice)
echo "$out"
new=${out##* as }
case "$out" in "replayed dead-1 as "*) ;; *) fail "retry of a dead job: $out" ;; esac
replayed() { [ "$(count "job_id = '$new' AND replayed_from = 'dead-1' AND status = 'dead'")" = 1 ]; }
wait_for 20 "the replayed job to run (and fail again)" replayed
assert_eq "$(r HGET "$(key default deadjobs)" "$new" | grep -c s3cret)" 1 "the replay ran the original, unmasked bytes"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE job_id = 'dead-1' AND event = 'replayed' AND error LIKE '%alice%'")" 1 "the replayed event names the actor"
rc=0
bin/syncq jobs retry dead-1 2>"$W/err" || rc=$?
assert_eq "$rc" 65 "a second retry of the same job"
grep -q "already retried as $new" "$W/err" || fail "the second retry does not name the first: $(cat "$W/err")"

# conflicts (rows as a worker writes them: a terminal rev)
q "INSERT INTO syncq_jobs (job_id, queue, kind, service, action, target_type, target_id, status, attempts, payload, rev,
                           enqueued_at, finished_at) VALUES
     ('c-1', 'default', 'mutation', 'syncq', 'noop', 'record', 'www', 'conflict', 1, '{\"ttl\": 300, \"tags\": []}', 7, now(), now()),
     ('c-2', 'default', 'mutation', 'syncq', 'noop', 'record', 'www', 'conflict', 1, '{\"password\": \"********\"}', 7, now(), now())" >/dev/null
rc=0
bin/syncq jobs retry c-1 2>/dev/null || rc=$?
assert_eq "$rc" 64 "a conflict without --expected-hash or --force"
out=$(bin/syncq jobs retry c-1 --expected-hash h-new)
case "$out" in "retried c-1 as "*) ;; *) fail "retry of a conflict: $out" ;; esac
c1=${out##* as }
ran() { [ "$(count "job_id = '$c1' AND replayed_from = 'c-1' AND status = 'success' AND target_id = 'www'")" = 1 ]; }
wait_for 20 "the rebuilt job to run" ran
assert_eq "$(q "SELECT payload::text FROM syncq_jobs WHERE job_id = '$c1'")" '{"ttl": 300, "tags": []}' "the rebuilt payload"
assert_eq "$(q "SELECT status FROM syncq_jobs WHERE job_id = 'c-1'")" conflict "the old row keeps its status"
rc=0
bin/syncq jobs retry c-2 --force 2>"$W/err" || rc=$?
assert_eq "$rc" 65 "a conflict whose payload had secrets"
grep -q 'payload had secrets' "$W/err" || fail "no reason given: $(cat "$W/err")"
assert_eq "$(r EXISTS "$SYNCQ_PREFIX:{default}:retried:c-2")" 0 "a refused retry leaves no claim"
rc=0
bin/syncq jobs retry fine-1 2>/dev/null || rc=$?
assert_eq "$rc" 65 "a successful job"
rc=0
bin/syncq jobs retry nope 2>/dev/null || rc=$?
assert_eq "$rc" 65 "an unknown job"
rc=0
bin/syncq jobs retry c-1 --force --expected-hash x 2>/dev/null || rc=$?
assert_eq "$rc" 64 "--force with --expected-hash"
stop_worker
