#!/bin/bash
# Integration tests whose property does not depend on how many jobs a child
# runs at once, run again with SYNCQ_CHILD_CALLS=4 (worker/calls.c): a stop,
# a pause, a reload of the services file (the jobs fetched while the order
# came go back unstarted), a killed child, mutations and their per-target
# lock, OAuth2 tokens fetched by one worker for all, rate limits, poison
# pills, timeouts, PostgreSQL going away, and the pending mark. Tests that
# count how jobs spread over children (it_prefetch, it_two_masters) or a
# child's round trips between single jobs (it_round_trips) are not here:
# lanes change that on purpose (it_child_calls checks lanes themselves).
. "$(dirname "$0")/../lib.sh"

export SYNCQ_CHILD_CALLS=4
for t in it_services_reload it_sigterm it_pause it_kill_child it_mutations it_mutation_lock it_auth_oauth \
    it_ratelimit it_poison it_timeout it_pg_down it_pending_mark; do
    t0=$(now_ms)
    if ! bash "tests/it/$t.sh" > "$W/$t.log" 2>&1; then
        tail -n 40 "$W/$t.log"
        fail "$t failed with SYNCQ_CHILD_CALLS=4"
    fi
    echo "ok: $t with 4 lanes a child ($(( ($(now_ms) - t0) / 1000 )) s)"
done
