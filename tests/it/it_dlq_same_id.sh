#!/bin/bash
# Issue 9 item 3: three jobs a producer gave one id ("dup-1") all die. Each
# keeps its own dead letter (before, each overwrote the last one and the
# earlier jobs could no longer be replayed): the first under its id, the
# others under <id>~<delivery tag>. syncq dlq ls lists all three, each one can
# be replayed or purged by its member, and the audit events land on the
# job's own row (dup-1).
. "$(dirname "$0")/../lib.sh"

start_worker -c 1 -q default
for n in 1 2 3; do
    r LPUSH "$(key default ready)" "{\"id\":\"dup-1\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"fail\",\"payload\":{\"permanent\":true,\"message\":\"job $n\"}}" >/dev/null
done
three() { [ "$(r ZCARD "$(key default dead)")" = 3 ]; }
wait_for 20 "three dead letters" three
assert_eq "$(r HLEN "$(key default deadjobs)")" 3 "dead-letter bodies"
for n in 1 2 3; do
    assert_eq "$(r HVALS "$(key default deadjobs)" | grep -c "job $n")" 1 "dead letters of job $n"
done
members=$(bin/syncq dlq ls --queue default --json | /usr/bin/python3 -c "import json,sys; print(' '.join(sorted(json.loads(l)['id'] for l in sys.stdin)))")
set -- $members
assert_eq "$#" 3 "jobs listed by syncq dlq ls"
assert_eq "$1" dup-1 "the first dead letter's member"
case "$2 $3" in "dup-1~"*" dup-1~"*) echo "ok: the others are $2 and $3" ;; *) fail "unexpected members: $members" ;; esac
first=$(r HGET "$(key default deadjobs)" dup-1 | tail -1)

bin/syncq dlq replay --queue default "$1" "$2" > "$W/replay.out" || fail "replay failed: $(cat "$W/replay.out")"
assert_eq "$(grep -c '^replayed dup-1' "$W/replay.out")" 2 "jobs replayed"
bin/syncq dlq purge --queue default --yes "$3" >/dev/null || fail "purge failed"
events() { [ "$(q "SELECT count(*) FROM syncq_job_events WHERE job_id = 'dup-1' AND event IN ('replayed', 'purged')")" = 3 ]; }
wait_for 20 "the replayed and purged events on dup-1" events
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE job_id = 'dup-1' AND event = 'replayed'")" 2 "replayed events"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE job_id = 'dup-1' AND event = 'purged'")" 1 "purged events"
replays() { [ "$(count "replayed_from = 'dup-1' AND status = 'dead'")" = 2 ]; }
wait_for 20 "both replays to run (and fail again)" replays
assert_eq "$(q "SELECT count(*) FROM syncq_jobs WHERE replayed_from = 'dup-1' AND payload->>'message' IN ('job 1', 'job 2', 'job 3')")" 2 "replays carrying the original payloads"
echo "$first" | grep -q '"job 1"' || fail "the first dead letter was overwritten: $first"
assert_eq "$(r ZCARD "$(key default dead)")" 2 "dead letters of the failed replays (new ids, no collision)"
stop_worker
