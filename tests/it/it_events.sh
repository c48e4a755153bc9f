#!/bin/bash
# Producer events (docs/PROTOCOL.md "Producer events"): the step that ends a
# job adds one entry (id, status, masked result/error) to the queue's capped
# stream P:{Q}:events, and `syncq status ID --wait` waits on it: success exits
# 0, dead exits 65 with the masked error, a job nobody runs times out with 75.
. "$(dirname "$0")/../lib.sh"

SQ=bin/syncq
events=$(key default events)
secret='hunter2-s3cr3t'

start_worker -c 1 -q default
slow=$($SQ enqueue --queue default --service syncq --action sleep --payload '{"ms":1000}')
rc=0; out=$($SQ status "$slow" --wait --timeout 10s) || rc=$?
assert_eq "$rc" 0 "status --wait on a 1 s job"
echo "$out" | grep -q "^$slow: success in queue default" || fail "final status line: $out"

bad=$($SQ enqueue --queue default --service syncq --action fail \
    --payload "{\"permanent\":true,\"message\":\"call https://bob:$secret@api.example/x?access_token=$secret\"}")
rc=0; out=$($SQ status "$bad" --wait --timeout 10s) || rc=$?
assert_eq "$rc" 65 "status --wait on a job that ends dead"
echo "$out" | grep -q "^$bad: dead in queue default.*permanent failure requested" || fail "final status line: $out"
echo "$out" | grep -q "$secret" && fail "the secret in the status line: $out"
entry=$(r XRANGE "$events" - + | tr '\n' ' ')
echo "$entry" | grep -q "$bad status dead error permanent failure requested" || fail "the dead job's entry: $entry"
echo "$entry" | grep -q "$slow status success" || fail "the success entry: $entry"
echo "$entry" | grep -q "$secret" && fail "the secret in the stream: $entry"

# a job that has already ended answers at once, from the stream or the audit
rc=0; out=$($SQ status "$slow" --wait --timeout 1s) || rc=$?
assert_eq "$rc" 0 "status --wait on a job that ended already"

# a cancelled job ends too: its waiter hears of it
later=$($SQ enqueue --queue default --service syncq --action noop --in 1h)
$SQ status "$later" --wait --timeout 20s >"$W/cancelled" 2>&1 & waiter=$!
sleep 0.5
$SQ cancel "$later" --actor ops:ann >/dev/null || fail "cancel"
rc=0; wait "$waiter" || rc=$?
assert_eq "$rc" 65 "status --wait on a job cancelled meanwhile"
grep -q "dead in queue default.*cancelled by ops:ann" "$W/cancelled" || fail "cancelled: $(cat "$W/cancelled")"
stop_worker

# nobody reads queue idle: the wait ends at the timeout with 75
lone=$($SQ enqueue --queue idle --service syncq --action noop)
rc=0; err=$($SQ status "$lone" --queue idle --wait --timeout 2s 2>&1) || rc=$?
assert_eq "$rc" 75 "status --wait on a job nobody runs"
echo "$err" | grep -q "still queued in queue idle" || fail "timeout message: $err"
rc=0; $SQ status "$lone" --timeout 2s >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 64 "--timeout without --wait"

# a result is masked too: an exec handler that answers with a password
export EXEC_SECRET="env-secret-$RANDOM" SYNCQ_SERVICES="tests/services/exec.json"
start_worker -c 1 -q urgent
res=$($SQ enqueue --queue urgent --service bad --action run --payload "{\"do\":\"secret\",\"value\":\"$secret\"}")
rc=0; out=$($SQ status "$res" --wait --timeout 20s) || rc=$?
assert_eq "$rc" 0 "status --wait on the exec job"
entry=$(r XRANGE "$(key urgent events)" - + | tr '\n' ' ')
echo "$entry" | grep -q "$res status success result {\"do\":\"secret\",\"password\":\"\*\*\*\*\*\*\*\*\"}" ||
    fail "the exec job's masked result: $entry"
echo "$entry$out" | grep -q "$secret" && fail "the secret in the result: $entry $out"
stop_worker
unset SYNCQ_SERVICES

# the stream stays capped: 12000 entries beforehand, then jobs end
r DEL "$events" >/dev/null
seq 12000 | sed "s|.*|XADD $events * id filler status success|" | r >/dev/null
assert_eq "$(r XLEN "$events")" 12000 "filler entries"
start_worker -c 1 -q default
for i in 1 2 3; do id=$($SQ enqueue --queue default --service syncq --action noop); done
$SQ status "$id" --wait --timeout 10s >/dev/null || fail "the last noop did not end"
n=$(r XLEN "$events")
[ "$n" -ge 10000 ] && [ "$n" -le 10200 ] || fail "XLEN $n after the step trimmed (cap ~10000)"
stop_worker
