#!/bin/bash
# A job that kills its worker every time (syncq/crash aborts the child): each
# crash uses an attempt and counts a delivery; the 3rd crash-delivery makes it
# a poison pill (dead, reason poison) instead of a crash loop. The master logs
# each death, respawns with backoff, and other jobs keep flowing.
. "$(dirname "$0")/../lib.sh"

start_worker -c 1 -q default
ready=$(key default ready)
r LPUSH "$ready" '{"id":"pill","kind":"mutation","service":"syncq","action":"crash"}' >/dev/null
r LPUSH "$ready" '{"id":"after","kind":"mutation","service":"syncq","action":"noop"}' >/dev/null

dead() { [ "$(count "job_id = 'pill' AND status = 'dead'")" = 1 ]; }
wait_for 60 "the pill to be dead-lettered" dead
assert_eq "$(q "SELECT attempts FROM syncq_jobs WHERE job_id = 'pill'")" 3 "attempts used by three crashes"
q "SELECT last_error FROM syncq_jobs WHERE job_id = 'pill'" | grep -q '^poison' || fail "last_error does not say poison"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE job_id = 'pill' AND event = 'lost' AND error ~ 'signal 6.*peak RSS [0-9]+ kB'")" 3 "crashes recorded with the signal and peak RSS"
assert_eq "$(q "SELECT outcome FROM syncq_job_events WHERE job_id = 'pill' AND event = 'dead'")" poison "dead event outcome"
assert_eq "$(r ZSCORE "$(key default dead)" pill | grep -c .)" 1 "pill in the dead-letter set"
ok() { [ "$(count "job_id = 'after' AND status = 'success'")" = 1 ]; }
wait_for 30 "the job behind the pill" ok
assert_eq "$(grep -c '"event":"master.child_exit".*signal 6' "$W/worker.log")" 3 "child deaths logged with their signal"
grep -q '"event":"master.backoff"' "$W/worker.log" || fail "no respawn backoff after a crash loop"
stop_worker
