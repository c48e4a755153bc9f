#!/bin/bash
# Issue 14: a job whose queued record is in the writer's batch has no row
# yet, so its row is COPY'd straight into syncq_jobs (no staging table, no
# INSERT ... ON CONFLICT); a row that existed after all makes PostgreSQL
# refuse that COPY, which is undone alone and the rows merged instead.
# 1. Live: jobs enqueued through syncq_enqueue with the worker running get
#    their rows by the direct COPY (the writer's debug log counts them).
# 2. The records of 63 jobs held in Redis while PostgreSQL is down, written
#    twice (every record duplicated, one batch each): the first batch copies
#    every row straight in, the second is refused and merged, and each row
#    is exactly what its records say (times to the microsecond, statuses,
#    the payload, the partition key), one event per failed job.
. "$(dirname "$0")/../lib.sh"
export SYNCQ_LOG_LEVEL=debug
ON_EXIT='pg_start >/dev/null 2>&1'

ndjson() { # PREFIX N: N no-op jobs (ids made by syncq_enqueue), then 3 explicit ids that fail for good
    awk -v p="$1" -v n="$2" 'BEGIN {
        for (i = 1; i <= n; i++)
            printf "{\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\",\"target_type\":\"t\",\"target_id\":\"%s-%d\",\"actor\":\"ops:%s\",\"payload\":{\"n\":%d}}\n", p, i, p, i
        for (i = 1; i <= 3; i++)
            printf "{\"id\":\"%s-fail-%d\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"fail\",\"payload\":{\"permanent\":true}}\n", p, i
    }'
}
copied() { grep '"audit.batch"' "$W/worker.log" | sed -n 's/.*: \([0-9]*\) new job row(s) copied straight in.*/\1/p' | awk '{ s += $1 } END { print s + 0 }'; }

# ---- 1. live
start_worker -c 2 -q default
ndjson live 100 | bin/syncq enqueue --queue default --batch - > /dev/null
settled() { [ "$(count "target_id LIKE 'live-%' AND status = 'success'")" = 100 ] && [ "$(count "job_id LIKE 'live-fail-%' AND status = 'dead'")" = 3 ]; }
wait_for 30 "the live jobs settled" settled
live=$(copied)
[ "$live" -gt 0 ] || fail "no job row was copied straight in (writer log: $(grep -c audit.batch "$W/worker.log") batches)"
echo "ok: $live of 103 live job rows copied straight in"

# ---- 2. the same records twice
pg_stop
ndjson held 60 | bin/syncq enqueue --queue default --batch - > /dev/null
ready=$(key default ready)
drained() { [ "$(r LLEN "$ready")" = 0 ] && [ "$(r ZCARD "$(key default dead)")" = 6 ]; }
wait_for 30 "the held jobs to run while PostgreSQL is down" drained
stop_worker # the writer hands its claimed records back to the outbox
outbox=$(key default outbox)
n=$(r LLEN "$outbox")
[ "$n" -ge 189 ] || fail "expected at least 189 waiting records (3 a job), found $n"
r LRANGE "$outbox" 0 -1 > "$W/records.txt"
r EVAL "for _, x in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do redis.call('RPUSH', KEYS[1], x) end" 1 "$outbox" >/dev/null
: > "$W/worker.log"
pg_start
SYNCQ_WRITER_BATCH=$n start_worker -c 1 -q default
written() { [ "$(r LLEN "$outbox")" = 0 ] && [ "$(count "actor = 'ops:held' AND status = 'success'")" = 60 ] &&
    [ "$(count "job_id LIKE 'held-fail-%' AND status = 'dead'")" = 3 ]; }
wait_for 30 "the doubled records written" written
stop_worker
assert_eq "$(copied)" 63 "job rows copied straight in by the first batch"
grep -q '"audit.direct".*63 new job row(s) was refused.*merging them' "$W/worker.log" ||
    fail "the second batch's direct COPY was not refused and merged: $(grep -E 'audit\.(batch|direct)' "$W/worker.log" | head -3)"
assert_eq "$(count "actor = 'ops:held' OR job_id LIKE 'held-fail-%'")" 63 "rows of the held jobs"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE job_id LIKE 'held-fail-%'")" 3 "events of the held jobs"

# every row as its records say: the newest record's status and rev, the
# oldest enqueued time and the newest attempt's start and finish, to the us
/usr/bin/python3 - "$W/records.txt" > "$W/want.txt" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1], encoding="utf-8"):
    c = line.rstrip("\n").split("\t")
    if len(c) < 31 or c[0] != "r2":
        continue
    c = c[1:]
    job, rev = c[0], int(c[1])
    r = rows.setdefault(job, {"rev": -1, "enq": None, "enq_rev": 1 << 30, "att": {}})
    if c[16] != "\\N" and rev < r["enq_rev"]:  # OLDEST: the oldest record's (record_merge.h)
        r["enq"], r["enq_rev"] = c[16], rev
    a = r["att"].setdefault(rev // 4, {})
    for k, i in (("start", 17), ("finish", 18)):
        if c[i] != "\\N":
            a[k] = c[i]
    if rev > r["rev"]:
        r.update(rev=rev, status=c[11], payload=c[10])
for job, r in sorted(rows.items()):
    a = r["att"][r["rev"] // 4]
    print("|".join([job, str(r["rev"]), r["status"], r["enq"], a.get("start", ""), a.get("finish", "")]))
PY
us() { echo "COALESCE((extract(epoch FROM $1) * 1000000)::bigint::text, '')"; }
q "SELECT job_id, rev, status, $(us enqueued_at), $(us started_at), $(us finished_at) FROM syncq_jobs
   WHERE actor = 'ops:held' OR job_id LIKE 'held-fail-%' ORDER BY job_id COLLATE \"C\"" > "$W/got.txt"
LC_ALL=C sort -o "$W/want.txt" "$W/want.txt"
assert_eq "$(wc -l < "$W/want.txt")" 63 "jobs in the held records"
diff "$W/want.txt" "$W/got.txt" > "$W/diff.txt" || fail "rows differ from their records: $(head -6 "$W/diff.txt")"
assert_eq "$(count "(actor = 'ops:held' OR job_id LIKE 'held-fail-%') AND id_at <> syncq_id_time(job_id)")" 0 "rows off their partition key"
assert_eq "$(count "actor = 'ops:held' AND (payload->>'n')::int BETWEEN 1 AND 60 AND target_id = 'held-' || (payload->>'n')")" 60 "payloads and targets"
assert_eq "$(count "job_id LIKE 'held-fail-%' AND id_at = 'epoch'")" 3 "explicit ids in the _raw partition"
echo "ok: 63 rows copied straight in, the doubled batch merged, every row as its records say"
