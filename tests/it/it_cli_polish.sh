#!/bin/bash
# CLI polish (issue 16 item 5): `syncq jobs`, `health` and `stats` fit
# $COLUMNS, cutting long cells with "…"; --json keeps the whole values.
. "$(dirname "$0")/../lib.sh"

long_target=$(printf 'zone-%.0s0123456789' $(seq 1 8))  # 120 characters
long_queue=default
bin/syncq enqueue -q "$long_queue" --id polish-1 --service syncq --action fail --target-id "$long_target" \
    --payload '{"permanent":true,"message":"a long error, long enough to be cut at any width that fits a terminal"}' >/dev/null
start_worker -c 1 -q default
dead() { [ "$(count "job_id = 'polish-1' AND status = 'dead'")" = 1 ]; }
wait_for 20 "the job to die" dead

widest() { python3 -c 'import sys; print(max((len(l.rstrip("\n")) for l in sys.stdin), default=0))'; }
for cmd in "jobs" "health" "stats"; do
    COLUMNS=80 bin/syncq $cmd > "$W/$cmd.txt"
    cat "$W/$cmd.txt"
    w=$(widest < "$W/$cmd.txt")
    [ "$w" -le 80 ] || fail "COLUMNS=80 syncq $cmd is $w columns wide"
done
grep -q '…' "$W/jobs.txt" || fail "jobs: no cut cell marked with …"
grep -q 'polish-1' "$W/jobs.txt" || fail "jobs: the id is cut"
COLUMNS=80 bin/syncq jobs --json | grep -qF "$long_target" || fail "jobs --json lost the whole target id"
# without COLUMNS and not on a terminal: 100 columns
w=$(env -u COLUMNS bin/syncq jobs | widest)
[ "$w" -le 100 ] || fail "syncq jobs into a pipe is $w columns wide"
COLUMNS=400 bin/syncq jobs | grep -qF "$long_target" || fail "a wide terminal shows the whole target id"
stop_worker
echo "ok: tables fit"
