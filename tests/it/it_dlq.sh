#!/bin/bash
# syncq dlq against dead letters a worker made (a permanent failure, an
# unknown handler, unparsable bytes): ls (table, JSON, filters), show (masked
# unless --reveal), replay (dry run; two operators at once make one job; the
# new job carries its lineage and runs again; the old one gets a 'replayed'
# event), purge (refused without a terminal; filters; 'purged' events).
. "$(dirname "$0")/../lib.sh"

PY=/usr/bin/python3 # Debian's python3 (another one may be first on PATH)
SQ=bin/syncq
start_worker -c 1 -q default
ready=$(key default ready)
dead=$(key default dead)
deadjobs=$(key default deadjobs)
out="$W/out.log" # every output shown without --reveal, checked for the secret at the end

# run CMD...: run a syncq command, keep its output (stdout and stderr) in $out
# and in $W/last, and set $rc.
run() {
    rc=0
    "$@" > "$W/last" 2>&1 || rc=$?
    cat "$W/last" >> "$out"
    { echo "\$ $* -> $rc"; sed 's/^/  | /' "$W/last"; } >&2 # stdout may be captured
}
last() { cat "$W/last"; }
has() { grep -qF -- "$1" "$W/last" || fail "output of the last command lacks \"$1\""; }
lacks() { if grep -qF -- "$1" "$W/last"; then fail "output of the last command holds \"$1\""; fi; }
json_ids() { "$PY" -c 'import sys, json; [print(json.loads(l)["id"]) for l in sys.stdin]' < "$W/last"; }

# ---- three dead letters: a permanent failure, an unknown handler, bytes that are not JSON
fail_id=$($SQ enqueue --queue default --service syncq --action fail --actor user:7 --target-type zone \
    --target-id z1 --payload '{"permanent":true,"password":"hunter2"}')
unk_id=$($SQ enqueue --queue default --service syncq --action no_such_action --payload '{"token":"hunter2"}')
r LPUSH "$ready" '{bad' > /dev/null
three_dead() { [ "$(r ZCARD "$dead")" -eq 3 ]; }
wait_for 30 "three dead letters" three_dead
bad_id=$(r ZRANGE "$dead" 0 -1 | grep -vxF -e "$fail_id" -e "$unk_id")
[ -n "$bad_id" ] || fail "no id for the unparsable entry"
echo "fail=$fail_id unknown=$unk_id bad=$bad_id"

# ---- ls
run $SQ dlq ls
assert_eq "$rc" 0 "ls exit code"
for id in "$fail_id" "$unk_id" "$bad_id"; do has "$id"; done
has "3 shown of 3 matching"
has "ID"
has "syncq/fail"
has "syncq/no_such_action"
has "permanent failure requested"
[ "$(last | awk 'length > 120' | wc -l)" -eq 0 ] || fail "a table line is wider than 120 columns"

run $SQ dlq ls --json
assert_eq "$(json_ids | tr '\n' ' ')" "$(r ZREVRANGE "$dead" 0 -1 | tr '\n' ' ')" "JSON lines, newest first"
pick() { # id field: one field of the JSON line of id
    "$PY" -c 'import sys, json
for l in sys.stdin:
    o = json.loads(l)
    if o["id"] == sys.argv[1]: print(json.dumps(o[sys.argv[2]]))' "$1" "$2" < "$W/last"
}
assert_eq "$(pick "$fail_id" service)" '"syncq"' "service of the failed job"
assert_eq "$(pick "$fail_id" target_id)" '"z1"' "target of the failed job"
assert_eq "$(pick "$fail_id" actor)" '"user:7"' "actor of the failed job"
assert_eq "$(pick "$fail_id" payload)" '{"permanent": true, "password": "********"}' "masked payload"
assert_eq "$(pick "$bad_id" service)" null "no service for unparsable bytes"
assert_eq "$(pick "$bad_id" payload)" null "no payload for unparsable bytes"
case "$(pick "$fail_id" dead_at)" in \"20[0-9][0-9]-*T*Z\") ;; *) fail "dead_at is not RFC 3339" ;; esac

# ---- filters
count_ls() { # flags...: number of jobs ls --json lists
    run $SQ dlq ls --json "$@"
    [ "$rc" -eq 0 ] || fail "ls $* exited $rc"
    json_ids | wc -l
}
assert_eq "$(count_ls --service syncq)" 2 "--service syncq (unparsable bytes have none)"
assert_eq "$(count_ls --service syncq --action fail)" 1 "--service --action"
assert_eq "$(json_ids)" "$fail_id" "--action fail lists the failed job"
assert_eq "$(count_ls --action no_such_action)" 1 "--action no_such_action"
assert_eq "$(count_ls --error 'PERMANENT failure')" 1 "--error (any case)"
assert_eq "$(count_ls --error 'bad envelope')" 1 "--error 'bad envelope'"
assert_eq "$(json_ids)" "$bad_id" "--error finds the unparsable entry"
assert_eq "$(count_ls --error nothing-like-this)" 0 "--error without a match"
assert_eq "$(count_ls --newer-than 1h)" 3 "--newer-than 1h"
assert_eq "$(count_ls --older-than 1h)" 0 "--older-than 1h"
assert_eq "$(count_ls --older-than 0s --service syncq)" 2 "--older-than 0s with --service"
assert_eq "$(count_ls --queue sync)" 0 "--queue sync"
run $SQ dlq ls --limit 1
has "1 shown of 3 matching"
run $SQ dlq ls --older-than 5
assert_eq "$rc" 64 "a duration without a unit is a usage error"
run $SQ dlq ls --yes
assert_eq "$rc" 64 "a flag of another verb is a usage error"

# ---- show
run $SQ dlq show "$fail_id"
assert_eq "$rc" 0 "show exit code"
has "permanent failure requested"
has "********"
has "z1"
run $SQ dlq show "$fail_id" --json
assert_eq "$("$PY" -c 'import sys, json; print(json.load(sys.stdin)["payload"]["password"])' < "$W/last")" "********" "show --json masks"
run $SQ dlq show "$unk_id"
has "no_such_action"
run $SQ dlq show "$bad_id"
has "4 bytes"
lacks "{bad"
run $SQ dlq show "$bad_id" --json
has '"size":4'
lacks "{bad"
rc=0
$SQ dlq show "$fail_id" --reveal > "$W/revealed" 2>&1 || rc=$?
assert_eq "$rc" 0 "show --reveal exit code"
grep -q hunter2 "$W/revealed" || fail "show --reveal does not show the secret"
$SQ dlq show "$bad_id" --reveal --json > "$W/revealed" 2>&1
assert_eq "$("$PY" -c 'import sys, json; print(json.load(sys.stdin)["raw"])' < "$W/revealed")" "{bad" "raw bytes with --reveal"
run $SQ dlq show no-such-job
assert_eq "$rc" 65 "show of a missing id"
has "not in dead-letter"

# ---- replay: dry run, usage
run $SQ dlq replay --all --dry-run
assert_eq "$rc" 0 "replay --dry-run exit code"
has "3 dead-letter job(s) would be replayed"
has "$fail_id"
assert_eq "$(r ZCARD "$dead")" 3 "dead-letter set after a dry run"
assert_eq "$(r HLEN "$deadjobs")" 3 "dead-letter entries after a dry run"
run $SQ dlq replay
assert_eq "$rc" 64 "replay without ids, --all or filters"
run $SQ dlq replay --all --service syncq
assert_eq "$rc" 64 "replay with --all and filters"
run $SQ dlq replay no-such-job --actor ops:alice
assert_eq "$rc" 65 "replay of a missing id"
has "no-such-job: not in dead-letter"

# ---- replay: two operators at once make one job
$SQ dlq replay --actor ops:alice "$fail_id" > "$W/r1.out" 2> "$W/r1.err" &
p1=$!
$SQ dlq replay --actor ops:bob "$fail_id" > "$W/r2.out" 2> "$W/r2.err" &
p2=$!
rc1=0 rc2=0
wait "$p1" || rc1=$?
wait "$p2" || rc2=$?
cat "$W"/r[12].* | tee -a "$out"
assert_eq "$(cat "$W/r1.out" "$W/r2.out" | grep -c '^replayed ')" 1 "replays that won"
assert_eq "$(cat "$W/r1.err" "$W/r2.err" | grep -c 'not in dead-letter')" 1 "replays told the job is gone"
assert_eq "$(echo "$rc1 $rc2" | tr ' ' '\n' | sort | tr '\n' ' ')" "0 65 " "exit codes of the two replays"
winner=alice
[ "$rc1" -eq 0 ] || winner=bob
new_id=$(cat "$W/r1.out" "$W/r2.out" | sed -n "s/^replayed $fail_id as //p")
[ -n "$new_id" ] || fail "no new id in the replay output"
assert_eq "$(r ZSCORE "$dead" "$fail_id")" "" "the replayed job left the dead-letter set"
assert_eq "$(r HEXISTS "$deadjobs" "$fail_id")" 0 "its entry left too"

# the new job: one row with its lineage; it runs again, fails again, and is dead under its new id
replayed_dead() { [ "$(count "replayed_from = '$fail_id' AND status = 'dead'")" -ge 1 ]; }
wait_for 30 "the replayed job dead again" replayed_dead
assert_eq "$(count "replayed_from = '$fail_id'")" 1 "jobs replayed from the old id"
assert_eq "$(q "SELECT job_id FROM syncq_jobs WHERE replayed_from = '$fail_id'")" "$new_id" "the new job's id"
assert_eq "$(q "SELECT attempts || ' ' || service || '/' || action FROM syncq_jobs WHERE job_id = '$new_id'")" \
    "1 syncq/fail" "the new job ran once"
case "$(r HGET "$deadjobs" "$new_id" | head -n 1)" in
*" from=$fail_id "*"root=$fail_id"*) ;;
*) fail "the new dead-letter entry does not name its origin" ;;
esac
run $SQ dlq ls --json --service syncq --action fail
assert_eq "$(pick "$new_id" replayed_from)" "\"$fail_id\"" "ls shows the lineage"

# the old job: still dead, with a 'replayed' event naming the operator that won
replayed_event() { [ -n "$(q "SELECT 1 FROM syncq_job_events WHERE job_id = '$fail_id' AND event = 'replayed'")" ]; }
wait_for 30 "the replayed event" replayed_event
assert_eq "$(q "SELECT error FROM syncq_job_events WHERE job_id = '$fail_id' AND event = 'replayed'")" \
    "replayed by ops:$winner as $new_id" "replayed event"
assert_eq "$(q "SELECT status FROM syncq_jobs WHERE job_id = '$fail_id'")" "dead" "the old row stays dead"

# a replay of the replay keeps the chain's root
run $SQ dlq replay --actor ops:alice "$new_id"
assert_eq "$rc" 0 "replay of the replayed job"
third=$(last | sed -n "s/^replayed $new_id as //p")
third_dead() { [ "$(r HEXISTS "$deadjobs" "$third")" = 1 ]; }
wait_for 30 "the third job dead" third_dead
case "$(r HGET "$deadjobs" "$third" | head -n 1)" in
*" from=$new_id "*"root=$fail_id"*) ;;
*) fail "the chain lost its root" ;;
esac

# unparsable bytes replay too (by filter), and are dead again as bad data
run $SQ dlq replay --error 'bad envelope' --actor ops:alice
assert_eq "$rc" 0 "replay by filter"
has "replayed $bad_id as "
bad_again() { [ "$(count "replayed_from = '$bad_id' AND status = 'dead'")" -eq 1 ]; }
wait_for 30 "the unparsable bytes dead again" bad_again

# ---- purge
n_before=$(r ZCARD "$dead")
run setsid -w $SQ dlq purge --all < /dev/null
assert_eq "$rc" 64 "purge without --yes and without a terminal"
has "--yes"
assert_eq "$(r ZCARD "$dead")" "$n_before" "nothing purged without confirmation"
run $SQ dlq purge --dry-run --error 'unknown handler'
has "1 dead-letter job(s) would be purged"
run $SQ dlq purge --yes --error 'unknown handler' --actor ops:alice
assert_eq "$rc" 0 "purge --yes exit code"
has "purged 1 dead-letter job(s)"
assert_eq "$(r ZSCORE "$dead" "$unk_id")" "" "purged job out of the set"
assert_eq "$(r HEXISTS "$deadjobs" "$unk_id")" 0 "purged job's entry gone"
assert_eq "$(r ZCARD "$dead")" $((n_before - 1)) "only the matching job purged"
purged_event() { [ -n "$(q "SELECT 1 FROM syncq_job_events WHERE job_id = '$unk_id' AND event = 'purged'")" ]; }
wait_for 30 "the purged event" purged_event
assert_eq "$(q "SELECT error FROM syncq_job_events WHERE job_id = '$unk_id' AND event = 'purged'")" \
    "purged by ops:alice" "purged event"
assert_eq "$(q "SELECT status FROM syncq_jobs WHERE job_id = '$unk_id'")" "dead" "the purged job's row stays"
run $SQ dlq purge --yes "$unk_id"
assert_eq "$rc" 65 "purge of a job no longer there"

# ---- help
run $SQ dlq --help
assert_eq "$rc" 0 "dlq --help"
for verb in ls show replay purge; do has "$verb"; done
for verb in ls show replay purge; do
    run $SQ dlq "$verb" --help
    assert_eq "$rc" 0 "dlq $verb --help"
done
run $SQ dlq replay --help
for flag in --all --dry-run --rate --actor --queue --service --action --error --older-than --newer-than; do has "$flag"; done
run $SQ dlq frobnicate
assert_eq "$rc" 64 "unknown verb"

# ---- nothing printed without --reveal holds the secret
if grep -n hunter2 "$out"; then fail "a secret in the output of ls/show/replay/purge"; fi
echo "ok: no secret in $(wc -l < "$out") lines of output"
stop_worker
