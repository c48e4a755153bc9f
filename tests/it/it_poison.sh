#!/bin/bash
# (d) poison inputs, each pushed raw between valid jobs: every one lands in
# the queue's dead-letter set with a clear error and an audit row; the workers
# stay alive and every valid job succeeds.
. "$(dirname "$0")/../lib.sh"

start_worker -c 2 -q default
ready=$(key default ready)
valid=0
push_valid() {
    valid=$((valid + 1))
    r LPUSH "$ready" "{\"id\":\"ok-$valid\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\"}" > /dev/null
}
push_raw_file() { # file
    r -x LPUSH "$ready" < "$1" > /dev/null
}

printf '%s' '{"kind":"mutation","service":"syncq","act' > "$W/truncated"
printf '%s' '[]' > "$W/array"
printf '%s' '42' > "$W/number"
: > "$W/empty"
head -c 100000 /dev/zero | tr '\0' '[' > "$W/nested"
printf '%s' '{"kind":"mutation","action":"noop"}' > "$W/no_service"
printf '%s' '{"kind":"mutation","service":"syncq","action":"no_such_action"}' > "$W/unknown_action"
{ printf '{"kind":"mutation","service":"syncq","action":"noop","payload":{"blob":"'; head -c 2200000 /dev/zero | tr '\0' 'x'; printf '"}}'; } > "$W/huge"
printf '{"kind":"mutation","service":"syncq","action":"noop","payload":{"s":"a\\u0000b"}}' > "$W/nul_escape"
printf '{"kind":"mutation","service":"syncq","action":"noop","payload":{"s":"\xc0\x80"}}' > "$W/bad_utf8"

poison="truncated array number empty nested no_service unknown_action huge nul_escape bad_utf8"
npoison=0
for p in $poison; do
    push_valid
    push_raw_file "$W/$p"
    npoison=$((npoison + 1))
done
push_valid

settled() { [ "$(count "status IN ('success', 'dead')")" -ge $((valid + npoison)) ]; }
wait_for 60 "every job settled" settled
assert_eq "$(count "status = 'success' AND job_id LIKE 'ok-%'")" "$valid" "valid jobs that succeeded"
assert_eq "$(count "status = 'dead'")" "$npoison" "poison inputs with a dead audit row"
assert_eq "$(r ZCARD "$(key default dead)")" "$npoison" "poison inputs in the dead-letter set"
assert_eq "$(r HLEN "$(key default deadjobs)")" "$npoison" "dead-letter entries"
assert_eq "$(count "status = 'dead' AND (last_error IS NULL OR last_error = '')")" 0 "dead rows without an error"
for want in "not a JSON object|must be a JSON object" "nesting" "too large|over" "service" "unknown handler syncq/no_such_action" "empty" "NUL|\\\\u0000" "UTF-8"; do
    n=$(q "SELECT count(*) FROM syncq_jobs WHERE status = 'dead' AND last_error ~* '$want'")
    [ "$n" -ge 1 ] || fail "no dead row with an error matching /$want/"
done
q "SELECT last_error FROM syncq_jobs WHERE status = 'dead' ORDER BY last_error"
# the raw bytes are kept (unmasked, in Redis only) for inspection and replay
huge_id=$(q "SELECT job_id FROM syncq_jobs WHERE status = 'dead' AND last_error ~* 'too large|over'")
[ "$(r HSTRLEN "$(key default deadjobs)" "$huge_id")" -gt 2200000 ] || fail "the oversize envelope was not kept whole"
kill -0 "$WORKER_PID" || fail "master died"
alive=$(r SCARD "$(fkey workers)")
[ "$alive" -ge 3 ] || fail "workers registered: $alive, expected 2 children + the writer"
if grep -q '"event":"master.child_exit"' "$W/worker.log"; then fail "a child died on poison input"; fi
stop_worker
