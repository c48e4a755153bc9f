#!/bin/bash
# Collapsing a job's records never loses a column (issue 9 item 15): a
# debounced job's `queued` record (kind, service, action, actor, target,
# enqueued_at) and its `superseded` record (status, result, finished_at) may
# meet in one writer batch; the row must carry the columns of both.
# 1. The reproduction: 50 FCALLs with one debounce_key (sync, debounce_ms
#    2000, 10 ms apart) while one normal master runs.
# 2. The same burst with the worker stopped, so that every record meets in
#    one batch when it starts.
. "$(dirname "$0")/../lib.sh"

sync=$(key sync ready)
fcall() { r FCALL syncq_enqueue 1 "$sync" "$1"; }

# burst PREFIX ACTOR: 50 debounced sync jobs, 10 ms apart
burst() {
    for i in $(seq 1 50); do
        fcall "{\"id\":\"$1-$i\",\"kind\":\"sync\",\"service\":\"syncq\",\"action\":\"noop\",\"target_type\":\"zone\",\"target_id\":\"z-$1\",\"actor\":\"$2\",\"debounce_key\":\"$1\",\"debounce_ms\":2000}" >/dev/null
        sleep 0.01
    done
}
settled() { [ "$(count "job_id LIKE '$1-%' AND status IN ('success', 'superseded')")" = 50 ]; }

# check PREFIX ACTOR: 49 superseded rows, every one with every column
check() {
    assert_eq "$(count "job_id LIKE '$1-%' AND status = 'superseded'")" 49 "$1: superseded rows"
    assert_eq "$(count "job_id LIKE '$1-%' AND status = 'success'")" 1 "$1: the newest job ran"
    bare=$(q "SELECT count(*) FROM syncq_jobs WHERE job_id LIKE '$1-%' AND status = 'superseded'
              AND (kind IS NULL OR service IS NULL OR action IS NULL OR actor IS NULL OR target_type IS NULL
                   OR target_id IS NULL OR enqueued_at IS NULL OR finished_at IS NULL OR result IS NULL)")
    assert_eq "$bare" 0 "$1: superseded rows missing a column"
    assert_eq "$(count "job_id LIKE '$1-%' AND status = 'superseded' AND result->>'superseded_by' = '$1-' || (split_part(job_id, '-', 2)::int + 1)
                        AND kind = 'sync' AND service = 'syncq' AND action = 'noop' AND actor = '$2'
                        AND target_id = 'z-$1' AND finished_at >= enqueued_at")" 49 "$1: superseded rows with the right values"
    n=$(bin/syncq jobs --actor "$2" --limit 100 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["jobs"]))')
    assert_eq "$n" 50 "$1: syncq jobs --actor $2"
}

start_worker -c 1 -q sync
burst live ops:live
wait_for 30 "the live burst to settle" settled live
check live ops:live

# 2. every record of the burst in the outbox before the writer looks
stop_worker
burst cold ops:cold
start_worker -c 1 -q sync
wait_for 30 "the cold burst to settle" settled cold
check cold ops:cold
stop_worker

# 3. The row does not depend on batching: one job's records in one batch (A),
#    one record per batch in order (B), and one per batch newest first (C: the
#    older records arrive late) give the same row, by the rules of
#    common/record_merge.h applied in C (A) and in the writer's SQL (B, C).
start_worker -c 1 -q sync
outbox=$(key sync outbox)
# Records are built by column name from the record's column table
# (common/record_cols.h), so a column added or moved there needs no edit here.
record_lines() { # JOB KIND: KIND records (a retried job's, oldest first, or a marker job's queued one)
    /usr/bin/python3 - "$1" "$2" common/record_cols.h <<'PY'
import re, sys
j, kind, table = sys.argv[1], sys.argv[2], open(sys.argv[3]).read()
names = re.findall(r'^\s*X\(\w+, (\w+),', table.split('#define RECORD_COLS(X)')[1].split('\n\n')[0], re.M)
assert len(names) >= 30 and names[0] == 'job_id', names
N = r'\N'
def rec(**c):
    print('r2\t' + '\t'.join(str(c.get(n, N)) for n in names))
if kind == 'marker':
    rec(job_id=j, rev=0, queue='sync', status='queued', attempts=0)
    sys.exit(0)
base = dict(job_id=j, queue='sync')
rec(**base, rev=0, status='queued', attempts=0, kind='sync', service='syncq', action='noop', target_type='zone',
    target_id='z9', scope='s9', actor='ops:merge', payload='{"a": 1}', enqueued_us=1700000000000001)
rec(**base, rev=5, status='running', attempts=1, kind='sync', service='syncq', action='noop', actor='ops:merge',
    worker='w1', enqueued_us=1700000000000000, started_us=1700000001000000, fetch_seq=1700000000900000)
rec(**base, rev=6, status='retrying', attempts=1, worker='w1', finished_us=1700000002000000, duration_ms=1000,
    result='{"r": 1}', last_error='HTTP 503', ev_event='attempt', ev_outcome='transient', ev_error='HTTP 503',
    ev_attempt=1, ev_at_us=1700000002000000, ev_due_us=1700000003000000)
rec(**base, rev=9, status='running', attempts=2, worker='w2', started_us=1700000003500000, fetch_seq=1700000003400000)
rec(**base, rev=11, status='success', attempts=2, worker='w2', finished_us=1700000004000000, duration_ms=500,
    result='{"ok": true}')
rec(**base, rev=0, status='queued', attempts=0, ev_event='duplicate', ev_error='duplicate enqueue #1', ev_attempt=0,
    ev_at_us=1700000004500000, ev_rev=2000001)
PY
}
records() { record_lines "$1" job; }
written() { [ "$(count "job_id = '$1'")" = 1 ]; }
marker() { record_lines "$1" marker; }
one_by_one() { # JOB ORDER(cat|tac)
    local k=0
    while IFS= read -r l; do
        k=$((k + 1))
        # a marker job after it: once the marker's row exists, so does the record's
        r RPUSH "$outbox" "$l" "$(marker "$1-m$k")" >/dev/null
        wait_for 20 "record $k of $1 written" written "$1-m$k"
    done < <(records "$1" | $2)
}
records A > "$W/A"
mapfile -t all < "$W/A"
r RPUSH "$outbox" "${all[@]}" >/dev/null
wait_for 20 "job A written" written A
one_by_one B cat
one_by_one C tac
row() { q "SELECT concat_ws('|', queue, kind, service, action, target_type, target_id, scope, actor, payload, status,
                   attempts, result, last_error, worker, enqueued_at, started_at, finished_at, duration_ms,
                   replayed_from, rev, fetch_seq) FROM syncq_jobs WHERE job_id = '$1'"; }
want='sync|sync|syncq|noop|zone|z9|s9|ops:merge|{"a": 1}|success|2|{"ok": true}|w2|2023-11-14 22:13:20.000001+00|2023-11-14 22:13:23.5+00|2023-11-14 22:13:24+00|500|11|1700000003400000'
assert_eq "$(PGTZ=UTC row A)" "$want" "A: every record in one batch"
assert_eq "$(PGTZ=UTC row B)" "$want" "B: one record per batch"
assert_eq "$(PGTZ=UTC row C)" "$want" "C: one record per batch, newest first"
events() { q "SELECT string_agg(concat_ws('|', rev, event, outcome, attempt, error, worker, at, due_at), ',' ORDER BY rev)
              FROM syncq_job_events WHERE job_id = '$1'"; }
assert_eq "$(events B)" "$(events A)" "B: the same events"
assert_eq "$(events C)" "$(events A)" "C: the same events"

# 4. Records the row already holds change nothing, so the merge writes no new
#    row version (a batch written twice; a job whose outcome marker holds
#    what its final record says, docs/DESIGN.md §8): job A's records once
#    more leave its xmin and columns alone. (Fed one by one they would not:
#    an older record's enqueued_at wins over a newer one's, as in B and C.)
xmin() { q "SELECT xmin FROM syncq_jobs WHERE job_id = '$1'"; }
x0=$(xmin A)
r RPUSH "$outbox" "${all[@]}" "$(marker A-again)" >/dev/null
wait_for 20 "A's records merged again" written A-again
assert_eq "$(xmin A)" "$x0" "A: the row version after its records came again"
assert_eq "$(PGTZ=UTC row A)" "$want" "A: the row after its records came again"
assert_eq "$(events A | tr ',' '\n' | wc -l)" 2 "A: its events once each"
stop_worker
