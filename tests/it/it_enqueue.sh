#!/bin/bash
# The enqueue function (FCALL syncq_enqueue): validation agrees with the C
# validator on every shared vector; idempotency under 100 concurrent
# producers and after the window; trailing-edge debounce with a maximum wait;
# mutations are never debounced; delayed jobs; a worker does not run a job
# whose idempotency key already succeeded.
. "$(dirname "$0")/../lib.sh"

loaded=$(redis-cli -p "$SQ_REDIS_PORT" -x FUNCTION LOAD REPLACE < lib/functions.lua)
assert_eq "$loaded" syncq "FUNCTION LOAD of lib/functions.lua"
ready=$(key default ready)
fcall() { r FCALL syncq_enqueue 1 "$1" "$2"; }

# 1. shared vectors: the Lua validator agrees with the C one (test_envelope)
for f in tests/vectors/valid/*; do
    out=$(r -x FCALL syncq_enqueue 1 "$(key vec ready)" < "$f")
    case "$out" in ERR*|*syncq:*) fail "valid vector $f refused: $out" ;; esac
done
for f in tests/vectors/invalid/*; do
    out=$(r -x FCALL syncq_enqueue 1 "$(key vec ready)" < "$f" 2>&1)
    case "$out" in *syncq:*) ;; *) fail "invalid vector $f accepted: $out" ;; esac
done
echo "ok: $(ls tests/vectors/valid | wc -l) valid and $(ls tests/vectors/invalid | wc -l) invalid vectors agree"
r DEL "$(key vec ready)" >/dev/null
big=$(head -c 1100000 /dev/zero | tr '\0' 'x')
out=$(printf '{"kind":"sync","service":"s","action":"a","payload":{"b":"%s"}}' "$big" | r -x FCALL syncq_enqueue 1 "$ready" 2>&1)
case "$out" in *"over the limit"*) echo "ok: oversize refused" ;; *) fail "oversize envelope: $out" ;; esac

# 2. 100 concurrent enqueues with one idempotency key -> one job. The window
#    is long here (starting 100 redis-cli processes can take seconds on a busy
#    machine); its expiry is checked below with a key of its own.
for i in $(seq 1 100); do
    fcall "$ready" '{"kind":"mutation","service":"syncq","action":"noop","idempotency_key":"pay-42","idempotency_ttl_s":600}' > "$W/idem.$i" &
done
wait
ids=$(cat "$W"/idem.* | sed -n '1~2p' | sort -u)
assert_eq "$(echo "$ids" | wc -l)" 1 "distinct ids returned"
assert_eq "$(cat "$W"/idem.* | grep -c '^duplicate$')" 99 "duplicate replies"
assert_eq "$(r LLEN "$ready")" 1 "jobs pushed"
# a 2 s window: a duplicate inside it, a new job once it has passed (Redis TIME decides)
short='{"kind":"mutation","service":"syncq","action":"noop","idempotency_key":"pay-43","idempotency_ttl_s":2}'
first=$(fcall "$ready" "$short" | head -1)
t0=$(r TIME | head -1)
out=$(fcall "$ready" "$short")
t1=$(r TIME | head -1)
if [ $((t1 - t0)) -lt 2 ]; then
    [ "$(echo "$out" | head -1)" = "$first" ] && echo "$out" | grep -q '^duplicate$' || fail "inside the window: $out"
fi
sleep 2.2 # the window is 2 s
out=$(fcall "$ready" "$short")
new=$(echo "$out" | head -1)
[ "$new" != "$first" ] && echo "$out" | grep -q '^queued$' || fail "after the window the key did not enqueue a new job: $out"
echo "ok: a new job $new after the window"

# 3. a mutation with a debounce key is refused and pushes nothing
out=$(fcall "$ready" '{"kind":"mutation","service":"syncq","action":"noop","debounce_key":"z"}' 2>&1)
case "$out" in *'only allowed when kind is "sync"'*) ;; *) fail "debounced mutation: $out" ;; esac
assert_eq "$(r LLEN "$ready")" 3 "jobs after the refused mutation"

start_worker -c 2 -q urgent,default,sync
dups() { [ "$(q "SELECT count(*) FROM syncq_job_events WHERE job_id = '$ids' AND event = 'duplicate'")" = 99 ]; }
wait_for 20 "99 duplicate events on the first job" dups

# 4. 50 sync jobs with one debounce key over about 1 s -> one run of the newest (the quiet time
#    is 3 s, so a busy machine that spaces the calls out does not split the burst)
sync=$(key sync ready)
last=""
for i in $(seq 1 50); do
    last=$(fcall "$sync" "{\"id\":\"deb-$i\",\"kind\":\"sync\",\"service\":\"syncq\",\"action\":\"noop\",\"debounce_key\":\"zone-1\",\"debounce_ms\":3000,\"debounce_max_ms\":60000}" | head -1)
    sleep 0.02
done
ran() { [ "$(count "job_id LIKE 'deb-%' AND status = 'success'")" = 1 ] && [ "$(count "job_id LIKE 'deb-%' AND status = 'superseded'")" = 49 ]; }
wait_for 20 "one run and 49 superseded" ran
assert_eq "$(q "SELECT job_id FROM syncq_jobs WHERE job_id LIKE 'deb-%' AND status = 'success'")" "$last" "the newest job ran"
assert_eq "$(q "SELECT count(*) FROM syncq_jobs WHERE job_id LIKE 'deb-%' AND status = 'superseded' AND result->>'superseded_by' = 'deb-' || (substr(job_id, 5)::int + 1)")" 49 "superseded rows pointing at the job that replaced each"

# 5. a steady stream longer than the maximum wait still runs once per max wait
t0=$(now_ms)
while [ $(( $(now_ms) - t0 )) -lt 3500 ]; do
    fcall "$sync" '{"kind":"sync","service":"syncq","action":"noop","actor":"stream","debounce_key":"zone-2","debounce_ms":400,"debounce_max_ms":1000}' >/dev/null
    sleep 0.05
done
streamed() { [ "$(count "actor = 'stream' AND status = 'success'")" -ge 3 ]; }
wait_for 30 "at least 3 runs of a 3.5 s stream with a 1 s maximum wait" streamed  # promotions lag on a loaded machine

# 6. delayed jobs wait in the time-ordered set
t0=$(now_ms)
id=$(bin/syncq enqueue --queue default --service syncq --action noop --in 2s 2>"$W/in.err")
grep -q delayed "$W/in.err" || fail "--in did not delay the job"
late() { [ "$(count "job_id = '$id' AND status = 'success'")" = 1 ]; }
wait_for 10 "the delayed job" late
started=$(q "SELECT (extract(epoch FROM started_at) * 1000)::bigint FROM syncq_jobs WHERE job_id = '$id'")
[ $(( started - t0 )) -ge 1990 ] || fail "the delayed job started after $(( started - t0 )) ms, before its 2 s"
echo "ok: delayed job started $(( started - t0 )) ms after enqueue"

# 7. a raw twin of a job whose idempotency key succeeded is not run again
fcall "$ready" '{"id":"orig","kind":"mutation","service":"syncq","action":"noop","idempotency_key":"k-7","idempotency_ttl_s":60}' >/dev/null
first() { [ "$(count "job_id = 'orig' AND status = 'success'")" = 1 ]; }
wait_for 10 "the first job with key k-7" first
r LPUSH "$ready" '{"id":"twin","kind":"mutation","service":"syncq","action":"fail","payload":{"permanent":true},"idempotency_key":"k-7"}' >/dev/null
skipped() { [ "$(q "SELECT result->>'skipped' IS NOT NULL FROM syncq_jobs WHERE job_id = 'twin' AND status = 'success'")" = t ]; }
wait_for 10 "the twin skipped" skipped
stop_worker
