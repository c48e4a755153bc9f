#!/bin/bash
# syncq status answers from Redis before the audit has caught up (queued,
# delayed, running on which worker, dead), then from the audit row;
# syncq cancel takes a queued or delayed job out atomically, into the
# dead-letter set, and audits it.
. "$(dirname "$0")/../lib.sh"

later=$(bin/syncq enqueue --queue default --service syncq --action noop --in 1h 2>/dev/null)
now_=$(bin/syncq enqueue --queue default --service syncq --action sleep --payload '{"ms":1500}')
bin/syncq status "$later" | grep -q "delayed in queue default, due " || fail "status of a delayed job: $(bin/syncq status "$later")"
bin/syncq status "$now_" | grep -q "queued in queue default, 0 job(s) ahead" || fail "status of a queued job: $(bin/syncq status "$now_")"
bin/syncq cancel "$later" --actor ops:bob | grep -q cancelled || fail "cancel did not answer"
bin/syncq status "$later" | grep -q "dead in queue default.*cancelled by ops:bob" || fail "status after cancel: $(bin/syncq status "$later")"
rc=0; bin/syncq cancel "$later" 2>/dev/null || rc=$?
assert_eq "$rc" 65 "cancelling it again"
rc=0; bin/syncq status no-such-job 2>/dev/null || rc=$?
assert_eq "$rc" 65 "status of an unknown id"

start_worker -c 1 -q default
running() { bin/syncq status "$now_" | grep -q "running in queue default on worker "; }
wait_for 10 "status running on a worker" running
done_() { bin/syncq status "$now_" | grep -q "success in queue default after 1 attempt(s) (audit)"; }
wait_for 10 "status from the audit row" done_
cancelled() { [ "$(count "job_id = '$later' AND status = 'dead' AND last_error = 'cancelled by ops:bob'")" = 1 ]; }
wait_for 10 "the cancel in the audit" cancelled
stop_worker
