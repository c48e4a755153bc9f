#!/bin/bash
# A child with lanes (--calls 8, SYNCQ_CHILD_CALLS, worker/calls.c): one process
# holds several jobs' HTTP calls in flight at once, and everything a child
# promises for one job still holds for each of them.
# 1. 16 creates, one child: the mock sees up to 8 calls at once, never
#    more; every job succeeds once, one snapshot row each.
# 2. kill -9 of the child with 8 calls in flight: the master records a
#    crash for each of the 8 (not only one), all are requeued and succeed
#    on their second attempt; nothing is lost or left in flight.
# 3. a job past its deadline kills the child: that job's attempt ends as a
#    timeout, its siblings go back without using an attempt.
# 4. a job whose handler is not concurrent (a sync) runs alone: no create
#    call of the same child overlaps any of its list calls.
# 5. a push reaches a child whose lanes are busy at once: while a lane waits
#    on a slow call, jobs pushed half a second apart start within a few ms
#    of their enqueue (a child that polled the queue, ever less often while
#    it stayed empty, started them 70-100 ms late).
# 6. a stop while the child waits so: the running job finishes, a job pushed
#    meanwhile goes back to the queue unstarted, nothing stays in flight.
. "$(dirname "$0")/../lib.sh"

start_mock
mock_services dns.json.in
export SYNCQ_BACKOFF_BASE_MS=100
start_worker -c 1 --calls 8 -q default # the flag of SYNCQ_CHILD_CALLS
grep -q '"event":"master.start".*1 children of 8 lanes' "$W/worker.log" || fail "the start line does not name the lanes"
child_pid() {
    local p
    for p in $(pgrep -P "$WORKER_PID"); do [ "$(cat "/proc/$p/comm")" = syncq-job ] && echo "$p"; done
}
ok_all() { [ "$(count "job_id LIKE '$1-%' AND status = 'success'")" = "$2" ]; }
creates() { # prefix n zone [extra envelope members]
    local i args=()
    for i in $(seq 1 "$2"); do
        args+=("{\"id\":\"$1-$i\",\"kind\":\"mutation\",\"service\":\"dns\",\"action\":\"create_record\",\"scope\":\"$3\",\"payload\":{\"name\":\"$1-$i\",\"type\":\"A\",\"content\":\"192.0.2.1\",\"ttl\":300}${4:-}}")
    done
    r LPUSH "$(key default ready)" "${args[@]}" >/dev/null # one burst
}
# the most calls the mock had running at once among those matching $1
overlap() {
    mock GET /_admin/calls | /usr/bin/python3 -c "
import json, sys
ev = []
for c in json.load(sys.stdin):
    if '$1' in c['path'] and c['method'] == 'POST':
        ev += [(c['time'], 1), (c['end'] or 1e18, -1)]
n = best = 0
for _, d in sorted(ev, key=lambda e: (e[0], e[1])):
    n += d
    best = max(best, n)
print(best)"
}
in_flight() { # zone n: the mock has n calls of zone running
    [ "$(mock GET /_admin/calls | /usr/bin/python3 -c "import json,sys; print(sum(1 for c in json.load(sys.stdin) if c['end'] is None and '$1' in c['path']))")" = "$2" ]
}
status_is() { [ "$(q "SELECT status FROM syncq_jobs WHERE job_id = '$1'")" = "$2" ]; }
empty_inflight() {
    [ "$(r EVAL "local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do n = n + redis.call('LLEN', k) end return n" 0 "$(key default inflight):*")" = 0 ]
}

# 1. up to 8 at once in one child, never more
mock POST /_admin/latency '{"ms": 1000, "match": "/zones/one.example/"}' >/dev/null
creates one 16 one.example
wait_for 60 "16 creates" ok_all one 16
most=$(overlap /zones/one.example/)
echo "measure: the most create calls in flight at once from one child: $most"
[ "$most" -le 8 ] || fail "$most calls at once: more than SYNCQ_CHILD_CALLS=8"
[ "$most" -ge 4 ] || fail "only $most calls at once from a child with 8 lanes"
assert_eq "$(q "SELECT sum(attempts) FROM syncq_jobs WHERE job_id LIKE 'one-%'")" 16 "attempts of the 16 creates"
assert_eq "$(q "SELECT count(*) FROM syncq_snapshots WHERE scope = 'one.example'")" 16 "snapshot rows"
wait_for 10 "nothing in flight" empty_inflight

# 2. kill -9 with 8 calls in flight: 8 crashes recorded, 8 retried
mock POST /_admin/latency '{"ms": 3000, "match": "/zones/two.example/"}' >/dev/null
creates two 8 two.example
wait_for 20 "8 calls in flight" in_flight two.example 8
victim=$(child_pid)
[ -n "$victim" ] || fail "no job child"
kill -KILL "$victim"
mock POST /_admin/latency '{"ms": 0, "match": "/zones/two.example/"}' >/dev/null
wait_for 60 "the 8 creates after the crash" ok_all two 8
assert_eq "$(q "SELECT count(DISTINCT job_id) FROM syncq_job_events WHERE job_id LIKE 'two-%' AND outcome = 'crash'")" 8 "jobs with a crash recorded"
assert_eq "$(q "SELECT count(*) FROM syncq_jobs WHERE job_id LIKE 'two-%' AND attempts = 2")" 8 "jobs that succeeded on attempt 2"
assert_eq "$(q "SELECT count(*) FROM syncq_snapshots WHERE scope = 'two.example'")" 8 "snapshot rows (the repeated creates replayed by their Idempotency-Key)"
wait_for 10 "nothing in flight" empty_inflight

# 3. a deadline: the late job times out, its siblings lose no attempt
mock POST /_admin/latency '{"ms": 4000, "match": "/zones/late.example/"}' >/dev/null
mock POST /_admin/latency '{"ms": 2500, "match": "/zones/three.example/"}' >/dev/null
creates three 3 three.example
creates late 1 late.example ',"timeout_ms":600,"max_attempts":1'
wait_for 30 "the late job's end" status_is late-1 dead
assert_eq "$(q "SELECT outcome FROM syncq_job_events WHERE job_id = 'late-1' AND event = 'attempt'")" timeout "the late job's attempt"
mock POST /_admin/latency '{"ms": 0, "match": "/zones/three.example/"}' >/dev/null
wait_for 60 "its 3 siblings" ok_all three 3
assert_eq "$(q "SELECT count(*) FROM syncq_jobs WHERE job_id LIKE 'three-%' AND attempts = 1")" 3 "siblings that used one attempt"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE job_id LIKE 'three-%' AND outcome IN ('crash', 'timeout')")" 0 "crash or timeout events of the siblings"
wait_for 10 "nothing in flight" empty_inflight

# 4. a sync runs alone
mock POST /_admin/seed '{"zone": "four.example", "count": 300}' >/dev/null
mock POST /_admin/latency '{"ms": 150, "match": "/zones/four.example/"}' >/dev/null
creates four 6 four.example
sid=$(bin/syncq enqueue -q default --kind sync --service dns --action sync_records --scope four.example)
creates fourb 6 four.example
wait_for 60 "the sync" status_is "$sid" success
wait_for 60 "the 12 creates" ok_all four 6
wait_for 60 "the 12 creates" ok_all fourb 6
mock GET /_admin/calls | /usr/bin/python3 -c "
import json, sys
calls = [c for c in json.load(sys.stdin) if 'four.example' in c['path']]
lists = [c for c in calls if c['method'] == 'GET']
posts = [c for c in calls if c['method'] == 'POST']
assert lists and len(posts) == 12, (len(lists), len(posts))
bad = [(l['time'], p['time']) for l in lists for p in posts if p['time'] < l['end'] and l['time'] < p['end']]
print('measure: list calls %d, create calls %d, overlapping pairs %d' % (len(lists), len(posts), len(bad)))
sys.exit(1 if bad else 0)" || fail "a create ran beside the sync's list calls"
# no create interleaved with the walk, so the snapshot is the remote zone exactly
remote=$(mock GET "/_admin/records?zone=four.example" | /usr/bin/python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
assert_eq "$remote" 312 "remote records of the zone (300 seeded, 12 created)"
assert_eq "$(q "SELECT count(*) FROM syncq_snapshots WHERE scope = 'four.example'")" 312 "snapshot rows of the zone"
wait_for 10 "nothing in flight" empty_inflight

# 5. a push wakes a child whose other lanes are busy
mock POST /_admin/latency '{"ms": 6000, "match": "/zones/five.example/"}' >/dev/null
creates five 1 five.example
wait_for 20 "the slow call in flight" in_flight five.example 1
sleep 1.5 # the queue stays empty meanwhile
for i in 1 2 3 4 5; do
    bin/syncq enqueue -q default --id "push-$i" --kind mutation --service syncq --action noop >/dev/null
    sleep 0.55
done
wait_for 20 "the 5 pushed jobs" ok_all push 5
waits=$(q "SELECT string_agg(round(extract(epoch FROM started_at - enqueued_at) * 1000)::text, ' ' ORDER BY 1)
           FROM syncq_jobs WHERE job_id LIKE 'push-%'")
median=$(q "SELECT round(percentile_disc(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - enqueued_at) * 1000))
           FROM syncq_jobs WHERE job_id LIKE 'push-%'")
echo "measure: enqueue to start of 5 jobs pushed beside a busy lane: $waits ms"
[ "$median" -lt 25 ] || fail "jobs pushed while a lane was busy waited $median ms (median) to start: polled, not woken"
mock POST /_admin/latency '{"ms": 0, "match": "/zones/five.example/"}' >/dev/null
wait_for 30 "the slow create" ok_all five 1
wait_for 10 "nothing in flight" empty_inflight
assert_eq "$(r LLEN "$(key default ready)")" 0 "jobs left in the queue"

# 6. a stop while the child waits for a push beside a busy lane: the slow job finishes within
#    the grace, a job pushed meanwhile goes back to the queue unstarted, nothing stays in flight
mock POST /_admin/latency '{"ms": 2000, "match": "/zones/six.example/"}' >/dev/null
creates six 1 six.example
wait_for 20 "the slow call in flight" in_flight six.example 1
waiting() { [ "$(r CLIENT LIST | grep -c 'cmd=blmove')" -ge 1 ]; }
wait_for 10 "the child waiting in BLMOVE beside its busy lane" waiting
kill -TERM "$WORKER_PID"
r LPUSH "$(key default ready)" '{"id":"term-1","kind":"mutation","service":"syncq","action":"noop"}' >/dev/null
rc=0
wait "$WORKER_PID" || rc=$?
WORKER_PID=""
assert_eq "$rc" 0 "worker exit code after SIGTERM"
assert_eq "$(count "job_id = 'six-1' AND status = 'success'")" 1 "the slow job, finished within the grace"
assert_eq "$(r LLEN "$(key default ready)")" 1 "the job pushed during the stop, back in the queue"
case "$(r LINDEX "$(key default ready)" 0)" in
'~syncq1 '*) echo "measure: the pushed job was moved by the waiting BLMOVE and handed back" ;;
*) echo "measure: the pushed job arrived after the child stopped waiting" ;;
esac
assert_eq "$(count "job_id = 'term-1' AND status IN ('running', 'success')")" 0 "rows of the pushed job that ran"
empty_inflight || fail "jobs left in flight after the stop"
