#!/bin/bash
# The per-target lock serializes mutations of one object and nothing else:
# four mutations without a target_id (calls, creates whose id the service
# assigns) run side by side on four children, while two of the same target
# run one after the other. Before, every target-less mutation of a scope
# shared one lock key and they ran one at a time (found by make bench).
# Ordering, not timing: the audit's started_at/finished_at intervals overlap
# or do not.
. "$(dirname "$0")/../lib.sh"

start_mock
cat > "$W/services.json" <<JSON
{"services": {"slow": {"base_url": "http://127.0.0.1:$port", "timeout_ms": 30000,
  "resources": {"things": {"id_field": "id", "list": {"method": "GET", "path": "/zones/{scope}/records", "items": "data", "pagination": {"style": "link"}},
    "actions": {"ping": {"op": "call", "method": "POST", "path": "/_bench/delay?ms=1500"}}}}}}}
JSON
export SYNCQ_SERVICES="$W/services.json"
start_worker -c 4 -q urgent

for i in 1 2 3 4; do
    bin/syncq enqueue --service slow --action ping --scope s1 --actor free > /dev/null
done
all_free() { [ "$(count "actor = 'free' AND status = 'success'")" = 4 ]; }
wait_for 60 "four target-less calls" all_free
assert_eq "$(count "actor = 'free' AND attempts > 1")" 0 "target-less calls deferred by a lock"
overlap=$(q "SELECT max(started_at) < min(finished_at) FROM syncq_jobs WHERE actor = 'free'")
assert_eq "$overlap" t "the four target-less calls ran at the same time"

for i in 1 2; do
    bin/syncq enqueue --service slow --action ping --scope s1 --target-id t1 --actor same > /dev/null
done
both() { [ "$(count "actor = 'same' AND status = 'success'")" = 2 ]; }
wait_for 60 "two calls on one target" both
apart=$(q "SELECT max(started_at) >= min(finished_at) FROM syncq_jobs WHERE actor = 'same'")
assert_eq "$apart" t "two mutations of one target ran one after the other"
stop_worker
