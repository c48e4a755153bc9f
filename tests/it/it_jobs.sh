#!/bin/bash
# The audit log from the CLI: `syncq jobs` filters and keyset pages (newest
# first; a page and the next one, by the printed cursor, hold every job once),
# `syncq jobs show` (row, history, errors and payload masked), `syncq prune`
# (finished rows older than D and their events; unfinished rows stay).
. "$(dirname "$0")/../lib.sh"
export COLUMNS=400 # whole cells: the lines below match errors to their end

for i in 1 2 3 4 5; do
    bin/syncq enqueue -q default --id "j-$i" --service syncq --action noop --actor "user:$i" --target-id "t$i" \
        --payload "{\"password\":\"pw-$i\",\"n\":$i}" >/dev/null
done
bin/syncq enqueue -q default --id j-bad --service syncq --action fail \
    --payload '{"permanent":true,"message":"Boom at https://u:s3cret@api.example/x"}' >/dev/null
start_worker -c 1 -q default
settled() { [ "$(count "job_id LIKE 'j-%' AND status IN ('success', 'dead')")" = 6 ]; }
wait_for 20 "the six jobs to settle" settled
stop_worker

# a row without enqueued_at (an event-only record can make one): listed first
q "INSERT INTO syncq_jobs (job_id, queue, status, attempts, finished_at) VALUES ('no-time', 'default', 'dead', 0, now())" >/dev/null

ids() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(j["id"] for j in d["jobs"])); print(d["next_cursor"] or "")'; }
want=$(q "SELECT string_agg(job_id, ' ' ORDER BY enqueued_at DESC NULLS FIRST, job_id DESC) FROM syncq_jobs")
case "$want" in "no-time j-bad "*) ;; *) fail "unexpected order in SQL: $want" ;; esac
bin/syncq jobs --json | ids > "$W/all"
assert_eq "$(head -n 1 "$W/all")" "$want" "every job, newest first"
assert_eq "$(sed -n 2p "$W/all")" "" "no cursor after the last page"

bin/syncq jobs --limit 4 --json | ids > "$W/p1"
cursor=$(sed -n 2p "$W/p1")
[ -n "$cursor" ] || fail "no cursor under a full page"
bin/syncq jobs --limit 4 --before "$cursor" --json | ids > "$W/p2"
assert_eq "$(head -n 1 "$W/p1") $(head -n 1 "$W/p2")" "$want" "two pages hold every job once, in order"
assert_eq "$(sed -n 2p "$W/p2")" "" "no cursor after the second page"
bin/syncq jobs --limit 4 | tail -n 1 | grep -qF "next page: --before '$cursor'" || fail "the table does not print the cursor"
bin/syncq jobs --limit 1 --json | ids > "$W/q1"
assert_eq "$(sed -n 2p "$W/q1")" "-,no-time" "the cursor of a row without enqueued_at"
bin/syncq jobs --limit 10 --before "-,no-time" --json | ids > "$W/q2"
assert_eq "no-time $(head -n 1 "$W/q2")" "$want" "the page after a row without enqueued_at"

n() { bin/syncq jobs --json "$@" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["jobs"]))'; }
assert_eq "$(n --status dead)" 2 "--status dead"
assert_eq "$(n --status success,dead)" 7 "--status success,dead"
assert_eq "$(n --service syncq --action noop)" 5 "--service/--action"
assert_eq "$(n --actor user:3)" 1 "--actor"
assert_eq "$(n --target t2)" 1 "--target"
assert_eq "$(n --text bOOm)" 1 "--text in the error, any case"
assert_eq "$(n --text '"n": 4')" 1 "--text in the payload"
assert_eq "$(n --since 1h)" 6 "--since 1h"
assert_eq "$(n --until 1h)" 0 "--until 1h"
bin/syncq jobs --status dead > "$W/dead.txt"
cat "$W/dead.txt"
grep -q 'j-bad .* syncq/fail .* dead .*Boom at https://u:\*\*\*\*' "$W/dead.txt" || fail "the dead row or its masked error"
grep -q s3cret "$W/dead.txt" && fail "a secret in jobs output"

bin/syncq jobs show j-bad > "$W/show.txt"
cat "$W/show.txt"
grep -Eq '^status +dead$' "$W/show.txt" || fail "show: status"
grep -Eq '^payload +\{"message": "Boom at https://u:\*{8}@api.example/x", "permanent": true\}$' "$W/show.txt" ||
    fail "show: the payload as masked in PostgreSQL"
grep -Eq '^[0-9T:.Z-]+ +1 attempt +permanent .*Boom at https://u:\*{8}@' "$W/show.txt" || fail "show: the attempt history"
grep -q s3cret "$W/show.txt" && fail "a secret in jobs show"
grep -q s3cret "$W/worker.log" && fail "a secret quoted by an error reached the worker log"
assert_eq "$(q "SELECT count(*) FROM syncq_job_history WHERE error LIKE '%s3cret%'") $(count "last_error LIKE '%s3cret%'")" "0 0" "secrets quoted by errors in PostgreSQL"
bin/syncq jobs show j-2 --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["status"] == "success" and d["attempts"] == 1 and d["actor"] == "user:2", d
assert d["payload"] == {"password": "********", "n": 2}, d["payload"]
assert [h["outcome"] for h in d["history"]] == ["success"], d["history"]
print("ok: jobs show --json")'
rc=0
bin/syncq jobs show nope 2>/dev/null || rc=$?
assert_eq "$rc" 65 "show of an unknown job"
for bad in "--status bogus" "--before junk" "--limit 0" "--since 5"; do
    rc=0
    # shellcheck disable=SC2086 # two words on purpose
    bin/syncq jobs $bad >/dev/null 2>&1 || rc=$?
    assert_eq "$rc" 64 "jobs $bad"
done

# prune: one old finished job with an event, one old unfinished job
q "INSERT INTO syncq_jobs (job_id, queue, status, attempts, enqueued_at, finished_at) VALUES
     ('old-done', 'default', 'dead', 1, now() - interval '41 days', now() - interval '40 days'),
     ('old-waiting', 'default', 'queued', 0, now() - interval '41 days', NULL);
   INSERT INTO syncq_job_events (job_id, rev, event, outcome, attempt, error, at)
     VALUES ('old-done', 7, 'attempt', 'permanent', 1, 'x', now() - interval '40 days')" >/dev/null
out=$(bin/syncq prune --older-than 30d --dry-run)
case "$out" in "would prune 1 job(s) and 1 event(s) finished before "*) ;; *) fail "prune --dry-run: $out" ;; esac
assert_eq "$(count "job_id = 'old-done'")" 1 "a dry run deletes nothing"
out=$(bin/syncq prune --older-than 30d)
case "$out" in "pruned 1 job(s) and 1 event(s) finished before "*) ;; *) fail "prune: $out" ;; esac
assert_eq "$(count "job_id LIKE 'old-%'")" 1 "jobs left of the old ones (the unfinished one)"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE job_id = 'old-done'")" 0 "events of pruned jobs"
assert_eq "$(count "job_id LIKE 'j-%'")" 6 "recent jobs kept"
rc=0
bin/syncq prune 2>/dev/null || rc=$?
assert_eq "$rc" 64 "prune without --older-than"
