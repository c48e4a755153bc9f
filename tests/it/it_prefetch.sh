#!/bin/bash
# No job waits behind another in a child's prefetched batch while another
# child could run it (docs/DESIGN.md §7). Fast no-ops first grow both
# children's batches; then, with the queue paused, two slow jobs of an action
# neither child has seen finish are pushed in one LPUSH, and on resume the
# first child to fetch takes both. It must hand the second back before it
# starts the first, so the other child runs it while the first still runs
# (its start comes before the first's end), each in one attempt.
. "$(dirname "$0")/../lib.sh"

export SYNCQ_FETCH_BATCH=16
start_worker -c 2 -q default
args=()
for i in $(seq 1 200); do args+=("{\"id\":\"n-$i\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\"}"); done
r LPUSH "$(key default ready)" "${args[@]}" >/dev/null
noops() { [ "$(count "job_id LIKE 'n-%' AND status = 'success'")" = 200 ]; }
wait_for 30 "the 200 no-ops" noops

bin/syncq queue pause default >/dev/null
sleep 1.5 # more than a blocking fetch: both children now see the pause; state is asserted, not timing
r LPUSH "$(key default ready)" '{"id":"slow-1","kind":"mutation","service":"syncq","action":"sleep","payload":{"ms":3000}}' \
    '{"id":"slow-2","kind":"mutation","service":"syncq","action":"sleep","payload":{"ms":3000}}' >/dev/null
bin/syncq queue resume default >/dev/null
both() { [ "$(count "job_id LIKE 'slow-%' AND status = 'success'")" = 2 ]; }
wait_for 30 "both slow jobs" both

assert_eq "$(q "SELECT count(DISTINCT worker) FROM syncq_jobs WHERE job_id LIKE 'slow-%'")" 2 "children that ran the slow jobs"
assert_eq "$(q "SELECT (SELECT max(started_at) FROM syncq_jobs WHERE job_id LIKE 'slow-%')
                     < (SELECT min(finished_at) FROM syncq_jobs WHERE job_id LIKE 'slow-%')")" t \
    "the later start came before the earlier end (they overlapped)"
assert_eq "$(q "SELECT sum(attempts) FROM syncq_jobs WHERE job_id LIKE 'slow-%'")" 2 "attempts (a hand-back uses none)"
assert_eq "$(r LLEN "$(key default ready)")" 0 "jobs left in the queue"
stop_worker
