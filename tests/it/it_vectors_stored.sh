#!/bin/bash
# Issue 9 item 2: the enqueue function and the worker give the same verdict
# on the same bytes, and a job keeps its id. Every valid vector in
# tests/vectors/ goes through FCALL syncq_enqueue; the bytes it stored (id and
# enqueued_at spliced in; a delayed job's wrapper taken off) are then run by a
# worker with no handler for them: each must end dead with "unknown handler"
# under the id the function returned, never with "bad envelope" under another
# id (a null id spliced in twice, a payload that fit 1 MiB only before the
# splice). Invalid vectors are refused by the function (it_enqueue) and by the
# C parser (test_envelope).
. "$(dirname "$0")/../lib.sh"

loaded=$(redis-cli -p "$SQ_REDIS_PORT" -x FUNCTION LOAD REPLACE < lib/functions.lua)
assert_eq "$loaded" syncq "FUNCTION LOAD of lib/functions.lua"
ready=$(key vec ready)
: > "$W/ids"
for f in tests/vectors/valid/*; do
    out=$(r -x FCALL syncq_enqueue 1 "$ready" < "$f" 2>&1)
    case "$out" in *syncq:*) fail "valid vector $f refused: $out" ;; esac
    printf '%s\n' "${out%%$'\n'*}" >> "$W/ids" # the first line, with no pipe to die of SIGPIPE under pipefail
done
for f in tests/vectors/invalid/*; do
    out=$(r -x FCALL syncq_enqueue 1 "$ready" < "$f" 2>&1)
    case "$out" in *syncq:*) ;; *) fail "invalid vector $f accepted: $out" ;; esac
done
# delayed and debounced jobs wait wrapped in the retry set: their stored bytes
# follow the wrapper line
moved=$(r EVAL "local n = 0
for _, e in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    redis.call('LPUSH', KEYS[2], string.sub(e, string.find(e, '\n', 1, true) + 1))
    n = n + 1
end
redis.call('DEL', KEYS[1])
return n" 2 "$(key vec retry)" "$ready")
echo "ok: $moved delayed job(s) moved to ready"
n=$(sort -u "$W/ids" | wc -l)
assert_eq "$(r LLEN "$ready")" "$n" "stored jobs (one per distinct id)"

start_worker -c 1 -q vec
ended() { [ "$(count "queue = 'vec' AND status = 'dead'")" = "$n" ]; }
wait_for 30 "every vector job to end" ended
assert_eq "$(count "queue = 'vec' AND last_error LIKE 'bad envelope%'")" 0 "jobs the worker refused though the function accepted them"
assert_eq "$(count "queue = 'vec' AND last_error LIKE 'unknown handler %'")" "$n" "jobs that reached the handler lookup"
sort -u "$W/ids" > "$W/want"
q "SELECT job_id FROM syncq_jobs WHERE queue = 'vec' ORDER BY 1" | sort > "$W/got"
diff "$W/want" "$W/got" || fail "the worker's job ids differ from the ids the function returned"
echo "ok: $n jobs kept the ids syncq_enqueue gave them"

# the issue's reproduction: syncq enqueue with 1,048,456 bytes of padding fits
# before id/enqueued_at are spliced in, not after. Refused by the function now
# (before: accepted, then dead-lettered by the worker under another id).
/usr/bin/python3 -c "import sys; sys.stdout.write('{\"pad\":\"' + 'x' * 1048456 + '\"}')" > "$W/big.json"
rc=0
bin/syncq enqueue --queue vec --service syncq --action noop --payload @"$W/big.json" > "$W/big.out" 2>&1 || rc=$?
if [ "$rc" = 0 ]; then
    big=$(head -1 "$W/big.out")
    done_() { [ "$(count "job_id = '$big' AND status = 'success'")" = 1 ]; }
    wait_for 20 "the big job to run under its id" done_
else
    assert_eq "$rc" 65 "exit code of the oversize enqueue"
    grep -q "over the limit" "$W/big.out" || fail "no reason given: $(cut -c1-300 "$W/big.out")"
    echo "ok: refused: $(cut -c1-200 "$W/big.out")"
fi
assert_eq "$(count "queue = 'vec' AND last_error LIKE 'bad envelope%'")" 0 "jobs the worker refused though the function accepted them"

# a raw LPUSH the worker refuses keeps its producer's id in the dead letter
r LPUSH "$ready" '{"id":"raw-bad-1","kind":"mutation","service":"syncq","action":"noop","max_attempts":0}' >/dev/null
gone() { [ "$(count "job_id = 'raw-bad-1' AND status = 'dead'")" = 1 ]; }
wait_for 20 "the refused raw job's dead row" gone
assert_eq "$(q "SELECT last_error FROM syncq_jobs WHERE job_id = 'raw-bad-1'")" "bad envelope: field \"max_attempts\" must be an integer in 1..1000" "its error"
assert_eq "$(r ZSCORE "$(key vec dead)" raw-bad-1 | cut -c1-2)" "$(date +%s | cut -c1-2)" "its dead letter under the producer's id"
stop_worker
