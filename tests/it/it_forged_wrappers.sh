#!/bin/bash
# Issue 9 item 1: anything a producer pushes that looks like syncq's wrapper
# line without being one this library made ends as a dead letter with a
# dead row; none stays in flight, and none takes over another job's identity.
# 2,000 forged lines of eight kinds are pushed: a header without a newline
# (stuck in flight forever before, and logged with an empty job id), a
# 200-character tag before a valid envelope, a jid with a control byte, an
# unknown field, a bad %-escape, a bare magic, a CR before the newline, and
# a well-formed header naming a delayed job's real tag and id (a hijack of its
# attempts, dead letter and audit row before). Counted, not timed: every
# in-flight list is empty afterwards.
. "$(dirname "$0")/../lib.sh"

start_worker -c 1 -q default
ready=$(key default ready)
bin/syncq enqueue --queue default --service syncq --action noop --id victim-1 --in 1h >/dev/null
member=$(r ZRANGE "$(key default retry)" 0 0)
tag=${member#\~syncq1 id=}
tag=${tag%% *}
[ -n "$tag" ] || fail "no wrapped delayed job"
# its queued record reaches PostgreSQL through the writer, in its own time
victim_row() { [ -n "$(q "SELECT status FROM syncq_jobs WHERE job_id = 'victim-1'")" ]; }
wait_for 20 "the delayed job's audit row" victim_row
before=$(q "SELECT status || ' ' || attempts FROM syncq_jobs WHERE job_id = 'victim-1'")

N=2000
r EVAL "local env = '{\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\",\"id\":\"victim-1\"}'
local tag = ARGV[2]
for i = 1, tonumber(ARGV[1]) do
    local k, e = i % 8
    if k == 0 then e = '~syncq1 id=abc' .. i .. ' seen=1'
    elseif k == 1 then e = '~syncq1 id=' .. string.rep('t', 200) .. i .. ' seen=1\n' .. env
    elseif k == 2 then e = '~syncq1 id=f' .. i .. ' seen=1 jid=victim-1\1\n' .. env
    elseif k == 3 then e = '~syncq1 id=f' .. i .. ' seen=1 future=1\n' .. env
    elseif k == 4 then e = '~syncq1 id=f' .. i .. ' seen=1 err=%zz\n' .. env
    elseif k == 5 then e = '~syncq1 '
    elseif k == 6 then e = '~syncq1 id=f' .. i .. ' seen=1\r\n' .. env
    else e = '~syncq1 id=' .. tag .. ' seen=1 jid=victim-1\n' .. env end
    redis.call('LPUSH', KEYS[1], e)
end
return 1" 1 "$ready" "$N" "$tag" >/dev/null

dead_rows() { [ "$(count "status = 'dead' AND last_error LIKE 'bad envelope:%'")" = "$N" ]; }
wait_for 90 "$N dead rows" dead_rows
assert_eq "$(r ZCARD "$(key default dead)")" "$N" "dead-letter entries"
assert_eq "$(r HLEN "$(key default deadjobs)")" "$N" "dead-letter bodies"
assert_eq "$(r LLEN "$ready")" 0 "jobs left in ready"
inflight=0
for k in $(r --scan --pattern "$SYNCQ_PREFIX:{default}:inflight:*"); do inflight=$((inflight + $(r LLEN "$k"))); done
assert_eq "$inflight" 0 "jobs left in flight"
assert_eq "$(count "status = 'dead' AND job_id = ''")" 0 "dead rows without a job id"
assert_eq "$(grep '"event":"job.dead_letter"' "$W/worker.log" | grep -vc '"job_id":"[^"]')" 0 "dead-letter log lines without a job id"
# the delayed job is untouched: still waiting, no attempt counted, no dead letter
assert_eq "$(r ZSCORE "$(key default retry)" "$member" | grep -c .)" 1 "the delayed job in the retry set"
assert_eq "$(r HEXISTS "$(key default att)" "$tag")" 0 "attempts counted on its tag"
assert_eq "$(r HEXISTS "$(key default deadjobs)" victim-1)" 0 "a dead letter under its id"
assert_eq "$(q "SELECT status || ' ' || attempts FROM syncq_jobs WHERE job_id = 'victim-1'")" "$before" "its audit row"
stop_worker
