#!/bin/bash
# Every audit time is Redis TIME (issue 9 item 16): a worker whose host clock
# is 10 minutes slow or fast (faketime) still records enqueued_at <=
# started_at <= finished_at, event times and the history in attempt order,
# all between two readings of Redis's clock taken around the round; `syncq
# health --window 5m` sees the jobs and `syncq stats` counts exactly them in
# the last minute (windows end at Redis TIME).
. "$(dirname "$0")/../lib.sh"

# libfaketime (Debian package faketime, scripts/deps.sh) preloaded into the
# worker itself, so $WORKER_PID is the master (the faketime wrapper would not
# pass it SIGTERM)
FAKELIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n 1)
[ -n "$FAKELIB" ] || fail "libfaketime is not installed (package faketime, scripts/deps.sh)"
export SYNCQ_BACKOFF_BASE_MS=50
ready=$(key urgent ready)
redis_us() { r TIME | tr '\n' ' ' | awk '{ printf "%d%06d", $1, $2 }'; }

# start_faked OFFSET: the worker with its wall clock moved by OFFSET (the
# monotonic clock stays true, as on a host whose clock is merely wrong)
start_faked() {
    # (under SANITIZE=1, ASan accepts a preloaded library ahead of its runtime)
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
        LD_PRELOAD=$FAKELIB FAKETIME=$1 FAKETIME_DONT_FAKE_MONOTONIC=1 \
        bin/syncq-worker -c 2 -q urgent --prefix "$SYNCQ_PREFIX" >>"$W/worker.log" 2>&1 &
    WORKER_PID=$!
    wait_for 10 "worker children registered" worker_ready
}

round() { # OFFSET TAG
    local off=$1 t=$2
    q "DELETE FROM syncq_jobs; DELETE FROM syncq_job_events" >/dev/null # stats and health see this round only
    start_faked "$off"
    local t0
    t0=$(redis_us)
    for i in 1 2 3 4; do
        r FCALL syncq_enqueue 1 "$ready" "{\"id\":\"$t-ok-$i\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\"}" >/dev/null
    done
    r FCALL syncq_enqueue 1 "$ready" "{\"id\":\"$t-flaky\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"flaky\",\"payload\":{\"fail_times\":2}}" >/dev/null
    r FCALL syncq_enqueue 1 "$ready" "{\"id\":\"$t-dead\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"fail\",\"payload\":{\"permanent\":true}}" >/dev/null
    r LPUSH "$ready" "{\"id\":\"$t-raw\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\"}" >/dev/null
    settled() { [ "$(count "job_id LIKE '$t-%' AND status IN ('success', 'dead')")" = 7 ]; }
    wait_for 30 "the $t jobs to settle" settled
    local t1
    t1=$(redis_us)
    T0="to_timestamp(0) + $t0 * interval '1 microsecond'"
    T1="to_timestamp(0) + $t1 * interval '1 microsecond'"
    [ "$(LD_PRELOAD=$FAKELIB FAKETIME=$off date +%s)" -ne "$(date +%s)" ] || fail "libfaketime did not move the clock"

    assert_eq "$(count "job_id LIKE '$t-%' AND (enqueued_at IS NULL OR started_at IS NULL OR finished_at IS NULL)")" 0 \
        "$t ($off): rows without a time"
    assert_eq "$(count "job_id LIKE '$t-%' AND NOT (started_at >= enqueued_at AND finished_at >= started_at)")" 0 \
        "$t ($off): rows started before enqueued or finished before started"
    # (a raw LPUSH's enqueued_at is when a worker first saw it, in whole ms)
    assert_eq "$(count "job_id LIKE '$t-%' AND NOT (enqueued_at >= ($T0) - interval '1 ms' AND started_at >= $T0
                        AND finished_at >= $T0 AND enqueued_at <= $T1 AND started_at <= $T1 AND finished_at <= $T1)")" 0 \
        "$t ($off): rows with a time outside Redis's clock around the round"
    assert_eq "$(q "SELECT count(*) FROM syncq_job_events e JOIN syncq_jobs j USING (job_id)
                    WHERE job_id LIKE '$t-%' AND NOT (e.at >= j.enqueued_at AND e.at <= $T1)")" 0 \
        "$t ($off): events outside the job's life"
    assert_eq "$(q "SELECT string_agg(attempt::text, ',' ORDER BY at, rev) FROM syncq_job_history WHERE job_id = '$t-flaky'")" \
        "1,2,3" "$t ($off): the flaky job's attempts in time order"
    assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE job_id = '$t-flaky' AND NOT (due_at >= at)")" 0 \
        "$t ($off): retries due after their failure"
    local us
    us=$(q "SELECT count(*) FROM syncq_jobs WHERE job_id LIKE '$t-%' AND (extract(microseconds FROM started_at)::bigint % 1000 <> 0
            OR extract(microseconds FROM finished_at)::bigint % 1000 <> 0)")
    [ "$us" -gt 0 ] || fail "$t ($off): no started_at/finished_at with microseconds"
    echo "ok: $t ($off): $us of 7 rows have times in microseconds"

    bin/syncq health --window 5m --json > "$W/health.json"
    python3 - "$W/health.json" "$t ($off)" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t = d["totals"]
assert t.get("success") == 6 and t.get("dead") == 1, (sys.argv[2], t)
assert d["all"]["finished"] == 7, (sys.argv[2], d["all"])
assert any(f["job_id"].endswith("-dead") for f in d["recent_failures"]), d["recent_failures"]
print("ok: %s: health --window 5m sees the 7 jobs" % sys.argv[2])
PY
    bin/syncq stats --json > "$W/stats.json"
    python3 - "$W/stats.json" "$t ($off)" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["last_minute"]
assert d["processed"] == 7 and d["success"] == 6 and d["dead"] == 1, (sys.argv[2], d)
assert d["failed_attempts"] == 3, (sys.argv[2], d)  # the flaky job's two, the dead job's one
print("ok: %s: stats counts the 7 jobs in the last minute" % sys.argv[2])
PY
    bin/syncq jobs show "$t-flaky" > "$W/show.txt"
    grep -E '^[0-9T:.Z-]+ +[0-9] attempt' "$W/show.txt" | awk '{ print $2 }' | tr '\n' ',' > "$W/order"
    assert_eq "$(cat "$W/order")" "1,2,3," "$t ($off): jobs show lists the attempts in order"
    stop_worker
}

round -10m slow
round +10m fast

# A fleet whose clocks disagree: a worker 10 minutes fast and a true one take
# turns at the attempts of the same jobs; each history is in attempt order.
start_faked +10m
FAST_PID=$WORKER_PID
ON_EXIT="kill -KILL $FAST_PID 2>/dev/null; $ON_EXIT"
start_worker -c 1 -q urgent
for i in 1 2 3 4 5 6; do
    r FCALL syncq_enqueue 1 "$ready" "{\"id\":\"mix-$i\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"flaky\",\"payload\":{\"fail_times\":4}}" >/dev/null
done
mixed() { [ "$(count "job_id LIKE 'mix-%' AND status = 'success'")" = 6 ]; }
wait_for 60 "the mixed-clock jobs to succeed" mixed
# a worker id is host:pid:boot, boot one per master
mixed_jobs=$(q "SELECT count(*) FROM (SELECT job_id FROM syncq_job_history WHERE job_id LIKE 'mix-%' GROUP BY job_id
                HAVING count(DISTINCT split_part(worker, ':', 3)) = 2) x")
[ "$mixed_jobs" -gt 0 ] || fail "no job had attempts on both masters"
echo "ok: $mixed_jobs of 6 jobs had attempts on both masters"
assert_eq "$(q "SELECT string_agg(DISTINCT h, ' ') FROM (SELECT string_agg(attempt::text, ',' ORDER BY at, rev) h
                FROM syncq_job_history WHERE job_id LIKE 'mix-%' GROUP BY job_id) x")" "1,2,3,4,5" \
    "every mixed-clock history in attempt order"
assert_eq "$(count "job_id LIKE 'mix-%' AND NOT (started_at >= enqueued_at AND finished_at >= started_at)")" 0 \
    "mixed clocks: rows started before enqueued or finished before started"
stop_worker
WORKER_PID=$FAST_PID
stop_worker

# The windows end at Redis TIME: a row stamped ten minutes ahead (by a worker
# of an older version) is not in the last minute nor in the last 5 minutes.
before=$(bin/syncq stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["last_minute"]["processed"])')
q "INSERT INTO syncq_jobs (job_id, queue, kind, service, action, status, attempts, enqueued_at, started_at, finished_at)
   VALUES ('future', 'urgent', 'mutation', 'syncq', 'noop', 'success', 1, now(), now() + interval '10 min',
           now() + interval '10 min')" >/dev/null
after=$(bin/syncq stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["last_minute"]["processed"])')
assert_eq "$after" "$before" "stats' last minute with a row from the future"
assert_eq "$(bin/syncq health --window 5m --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["all"]["finished"])')" \
    "$(count "finished_at >= now() - interval '5 min' AND finished_at <= now() AND status IN ('success', 'dead', 'conflict')")" \
    "health --window 5m finished jobs, the future one left out"
