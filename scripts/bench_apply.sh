#!/bin/bash
# bench_apply.sh - what a mutation's snapshot + outcome statement costs
# PostgreSQL by how many connections send it (issue 14, workload b): pgbench
# runs common/snapshot.c's snap_apply statement on new rows each time, with
# synchronous commit as the worker runs it (the same tables, indexes, CTE and
# conflict targets; the DO UPDATE lists are shortened, as new rows never
# take that path) from 2, 8 and 64 clients, one
# statement a transaction, and from 1 and 2 clients 16 statements a
# transaction (a group commit). Its own private PostgreSQL; prints
# statements/s. BENCH_APPLY_S (8) seconds each.
set -eu
cd "$(dirname "$0")/.."
. scripts/servers.sh
T=${BENCH_APPLY_S:-8}
tmp=$(mktemp -d /tmp/syncq-bench-apply.XXXXXX)
trap 'servers_stop; rm -rf "$tmp"' EXIT
servers_start "$tmp/srv" >/dev/null 2>&1
sq_psql postgres -c "CREATE DATABASE bench" >/dev/null
SYNCQ_REDIS_URL=$SQ_REDIS_URL SYNCQ_DATABASE_URL="$SQ_PG_BASE dbname=bench" bin/syncq migrate >/dev/null 2>&1
id="'0190a0b0-0000-7000-8000-' || lpad(:n::text, 12, '0')"
stmt="WITH snap AS (INSERT INTO syncq_snapshots AS s (service, resource, scope, external_id, data, content_hash,
 sync_status, sync_error, last_synced_at, written_at, written_by) VALUES ('bench', 'calls', '', :n::text,
 '{\"a\":1}'::jsonb, syncq_content_hash('{\"a\":1}'::jsonb, '{}'::text[]), 'synced', NULL, now(), clock_timestamp(), $id)
 ON CONFLICT (service, resource, scope, external_id) DO UPDATE SET data = EXCLUDED.data)
 INSERT INTO syncq_jobs AS j (job_id, queue, status, attempts, result, finished_at, rev, id_at)
 VALUES ($id, 'io', 'success', 1, '{}'::jsonb, now(), 7, syncq_id_time($id))
 ON CONFLICT (job_id, id_at) DO UPDATE SET status = EXCLUDED.status WHERE j.rev <= EXCLUDED.rev;"
stmt=$(tr '\n' ' ' <<<"$stmt")
printf '\\set n random(1, 1000000000)\n%s\n' "$stmt" > "$tmp/one.sql"
{
    echo "BEGIN;"
    for _ in $(seq 1 16); do printf '\\set n random(1, 1000000000)\n%s\n' "$stmt"; done
    echo "COMMIT;"
} > "$tmp/batch.sql"
pgb() { # CLIENTS FILE: transactions/s
    "$SQ_PG_BIN/pgbench" -h "$SQ_PG_HOST" -p "$SQ_PG_PORT" -U postgres -n -M prepared -c "$1" -j "$(($1 < 2 ? 1 : 2))" \
        -T "$T" -f "$2" bench 2>&1 | sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
for c in 2 8 64; do
    printf '  %-44s %8.0f statements/s\n' "$c clients, one statement a transaction" "$(pgb "$c" "$tmp/one.sql")"
done
for c in 1 2; do
    printf '  %-44s %8.0f statements/s\n' "$c client(s), 16 statements a transaction" \
        "$(awk -v t="$(pgb "$c" "$tmp/batch.sql")" 'BEGIN { print t * 16 }')"
done
