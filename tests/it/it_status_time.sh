#!/bin/bash
# `syncq status` prints every time in one format, RFC 3339 UTC with
# milliseconds like the rest of the CLI: a dead job's "since" (from Redis)
# and a finished job's "finished" (from the audit table), even when the
# PostgreSQL session's time zone is not UTC.
. "$(dirname "$0")/../lib.sh"
export PGTZ=America/New_York

bin/syncq enqueue -q default --id st-ok --service syncq --action noop >/dev/null
bin/syncq enqueue -q default --id st-dead --service syncq --action fail --payload '{"permanent":true}' >/dev/null
start_worker -c 1 -q default
settled() { [ "$(count "job_id LIKE 'st-%' AND status IN ('success', 'dead')")" = 2 ]; }
wait_for 20 "the two jobs to settle" settled
stop_worker

T='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'
ok=$(bin/syncq status st-ok)
echo "$ok"
echo "$ok" | grep -Eq "^st-ok: success in queue default after 1 attempt\(s\) \(audit\), finished $T$" ||
    fail "the finished time is not RFC 3339 UTC"
dead=$(bin/syncq status st-dead)
echo "$dead"
echo "$dead" | grep -Eq "^st-dead: dead in queue default since $T;" || fail "the dead-since time is not RFC 3339 UTC"
