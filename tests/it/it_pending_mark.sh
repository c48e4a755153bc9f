#!/bin/bash
# A mutation marks its snapshot row pending as it starts (readers show it in
# flight) without waiting for a WAL flush of its own (issue 14): the mark is a
# hint the job's durable outcome statement overwrites, so its transaction
# commits with synchronous_commit off, set from inside the statement. Counted
# with pg_stat_wal.wal_sync (WAL flushes) over 40 jobs that update existing
# rows with one child: 2.6 a job before (the mark, the snapshot + outcome
# statement, and a share of the writer's batches), 1.6 now.
. "$(dirname "$0")/../lib.sh"

start_mock
# shellcheck disable=SC2154 # port: set by start_mock
cat > "$W/services.json" <<JSON
{"services": {"calls": {"base_url": "http://127.0.0.1:$port", "timeout_ms": 10000,
  "resources": {"items": {"list": {"path": "/zones/none/records", "items": "data",
      "pagination": {"style": "page", "size": 100, "size_param": "per_page", "page_param": "page"}},
    "actions": {"touch": {"op": "update", "method": "POST", "path": "/_bench/delay?ms=0"},
                "slow": {"op": "update", "method": "POST", "path": "/_bench/delay?ms=3000"}}}}}}}
JSON
export SYNCQ_SERVICES="$W/services.json"
N=40
q "INSERT INTO syncq_snapshots (service, resource, scope, external_id, data, content_hash)
   SELECT 'calls', 'items', '', i::text, '{}'::jsonb, 'x' FROM generate_series(1, $N) i
   UNION ALL SELECT 'calls', 'items', '', 'slow', '{}'::jsonb, 'x'" >/dev/null
status() { q "SELECT sync_status FROM syncq_snapshots WHERE service = 'calls' AND external_id = '$1'"; }

# the mark is still there: a slow job's row reads pending while it runs, synced after
bin/syncq enqueue --queue pm --service calls --action slow --target-id slow --payload '{}' >/dev/null
start_worker -c 1 -q pm
wait_for 10 "the slow job's row marked pending" bash -c "[ \"\$(psql -XAtq -c \"SELECT sync_status FROM syncq_snapshots WHERE service = 'calls' AND external_id = 'slow'\" \"$SYNCQ_DATABASE_URL\")\" = pending ]"
wait_for 20 "the slow job done" bash -c "[ \"\$(psql -XAtq -c \"SELECT count(*) FROM syncq_jobs WHERE queue = 'pm' AND status = 'success'\" \"$SYNCQ_DATABASE_URL\")\" = 1 ]"
assert_eq "$(status slow)" synced "the slow job's row after it"
stop_worker
# pg_stat_wal counts a backend's flushes when it reports, at the latest as it exits
wal() { wait_for 10 "the worker's PostgreSQL sessions gone" bash -c "[ \"\$(psql -XAtq -c \"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()\" \"$SYNCQ_DATABASE_URL\")\" = 0 ]"; q "SELECT wal_sync FROM pg_stat_wal"; }
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"kind\":\"mutation\",\"service\":\"calls\",\"action\":\"touch\",\"target_id\":\"%d\",\"payload\":{}}\n", i }' > "$W/jobs.ndjson"
w0=$(wal)
bin/syncq enqueue --queue pm --batch "$W/jobs.ndjson" >/dev/null
start_worker -c 1 -q pm
wait_for 60 "$N jobs done" bash -c "[ \"\$(psql -XAtq -c \"SELECT count(*) FROM syncq_jobs WHERE queue = 'pm' AND status = 'success'\" \"$SYNCQ_DATABASE_URL\")\" = $((N + 1)) ]"
stop_worker
w1=$(wal)
assert_eq "$(q "SELECT count(*) FROM syncq_snapshots WHERE service = 'calls' AND sync_status = 'synced' AND written_by IS NOT NULL")" $((N + 1)) "rows synced by their jobs"
per=$(awk -v a="$w0" -v b="$w1" -v n="$N" 'BEGIN { printf "%.2f", (b - a) / n }')
echo "measure: WAL flushes per job updating an existing row: $per ($((w1 - w0)) for $N jobs)"
awk -v p="$per" 'BEGIN { exit !(p < 2.1) }' || fail "$per WAL flushes a job: the pending mark waits for its own"
