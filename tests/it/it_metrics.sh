#!/bin/bash
# The master's /metrics and /healthz: the exposition passes `promtool check
# metrics`; job counters move by exactly the jobs run (per service, action
# and status, and the duration histogram); they survive a child's death
# (the master folds a reaped child's table into its totals); crashes are
# counted by signal; labels carry no producer text; /healthz says ok, and
# 503 with the reason when the master cannot reach Redis.
. "$(dirname "$0")/../lib.sh"

command -v promtool >/dev/null || fail "promtool not installed (Debian package prometheus; sh scripts/deps.sh)"
# the README's sample alert rules are valid and name metrics that exist (checked below)
awk '/^```yaml$/ { on = 1; next } /^```$/ { on = 0 } on' README.md > "$W/rules.yml"
grep -q 'alert: SyncqJobsWaiting' "$W/rules.yml" || fail "no sample alert rules in the README"
promtool check rules "$W/rules.yml" || fail "promtool rejects the README's alert rules"
export SYNCQ_METRICS_ADDR=127.0.0.1:0
start_worker -c 2 -q default
addr=$(sed -n 's/.*"event":"master.metrics".*on http:\/\/\([0-9.:]*\)".*/\1/p' "$W/worker.log" | head -n 1)
[ -n "$addr" ] || fail "the master did not log its metrics address"
echo "metrics on $addr"

assert_eq "$(curl -s -o "$W/h" -w '%{http_code}' "http://$addr/healthz") $(cat "$W/h")" "200 ok" "/healthz"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/nope")" 404 "an unknown path"
curl -sf -D "$W/headers" "http://$addr/metrics" > "$W/m0"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$W/headers" || fail "not the 0.0.4 content type"
promtool check metrics < "$W/m0" || fail "promtool rejects the idle exposition"

# v FILE SERIES: the value of one series (0 when absent)
v() { awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }' "$1"; }
ok='syncq_jobs_processed_total{service="syncq",action="noop",status="success"}'
dead='syncq_jobs_processed_total{service="syncq",action="fail",status="dead"}'
retry='syncq_jobs_processed_total{service="syncq",action="flaky",status="retrying"}'
flaky_ok='syncq_jobs_processed_total{service="syncq",action="flaky",status="success"}'
unknown='syncq_jobs_processed_total{service="_unknown",action="_unknown",status="dead"}'
hist='syncq_job_duration_seconds_count{service="syncq",action="noop"}'
inf='syncq_job_duration_seconds_bucket{service="syncq",action="noop",le="+Inf"}'

export SYNCQ_BACKOFF_BASE_MS=20
ready=$(key default ready)
for i in $(seq 1 10); do r LPUSH "$ready" "{\"id\":\"ok-$i\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\"}" >/dev/null; done
for i in 1 2 3; do r LPUSH "$ready" "{\"id\":\"bad-$i\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"fail\",\"payload\":{\"permanent\":true}}" >/dev/null; done
r LPUSH "$ready" '{"id":"fl-1","kind":"mutation","service":"syncq","action":"flaky","payload":{"fail_times":2}}' >/dev/null
r LPUSH "$ready" '{"id":"weird","kind":"mutation","service":"evil\"} 1\nsvc","action":"sk_live_SECRET"}' >/dev/null
settled() { [ "$(count "status IN ('success', 'dead')")" = 15 ]; }
wait_for 30 "15 settled jobs" settled
curl -sf "http://$addr/metrics" > "$W/m1"
promtool check metrics < "$W/m1" || fail "promtool rejects the exposition after jobs"
assert_eq "$(( $(v "$W/m1" "$ok") - $(v "$W/m0" "$ok") ))" 10 "noop successes counted"
assert_eq "$(( $(v "$W/m1" "$dead") - $(v "$W/m0" "$dead") ))" 3 "permanent failures counted dead"
assert_eq "$(v "$W/m1" "$retry") $(v "$W/m1" "$flaky_ok")" "2 1" "a flaky job: two retrying attempts, one success"
assert_eq "$(v "$W/m1" "$unknown")" 1 "an unknown handler counts as _unknown"
assert_eq "$(v "$W/m1" "$hist") $(v "$W/m1" "$inf")" "10 10" "noop duration observations"
assert_eq "$(v "$W/m1" 'syncq_jobs_failed_total{service="syncq",action="fail"}')" 3 "failed attempts of fail"
assert_eq "$(v "$W/m1" 'syncq_queue_ready{queue="default"}')" 0 "ready gauge"
assert_eq "$(v "$W/m1" 'syncq_queue_dead{queue="default"}')" 4 "dead gauge"
assert_eq "$(v "$W/m1" 'syncq_children{role="job"}') $(v "$W/m1" 'syncq_children{role="writer"}')" "2 1" "children alive"
assert_eq "$(v "$W/m1" 'syncq_redis_up')" 1 "redis up"
grep -q 'evil\|SECRET' "$W/m1" && fail "producer text reached a label"
for m in $(grep -o 'syncq_[a-z_]*' "$W/rules.yml" | sort -u); do
    grep -q "^# TYPE $m " "$W/m1" || fail "the README's alert rules use $m, which /metrics does not have"
done

# a child killed: its counters stay (folded into the master's totals), the crash is counted
child=$(pgrep -P "$WORKER_PID" | head -n 1)
kill -KILL "$child"
respawned() { curl -sf "http://$addr/metrics" > "$W/m2" && [ "$(v "$W/m2" 'syncq_child_restarts_total')" -ge 1 ] &&
    [ "$(v "$W/m2" 'syncq_children{role="job"}')" = 2 ]; }
wait_for 10 "the killed child to be replaced" respawned
assert_eq "$(v "$W/m2" 'syncq_child_crashes_total{signal="SIGKILL"}')" 1 "crash by signal"
for s in "$ok" "$dead" "$retry" "$hist"; do
    assert_eq "$(v "$W/m2" "$s")" "$(v "$W/m1" "$s")" "after a child's death: $s"
done
for i in 1 2 3 4 5; do r LPUSH "$ready" "{\"id\":\"more-$i\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\"}" >/dev/null; done
more() { [ "$(count "job_id LIKE 'more-%' AND status = 'success'")" = 5 ]; }
wait_for 10 "five more jobs" more
curl -sf "http://$addr/metrics" > "$W/m3"
assert_eq "$(( $(v "$W/m3" "$ok") - $(v "$W/m1" "$ok") ))" 5 "counting goes on after the restart"
promtool check metrics < "$W/m3" || fail "promtool rejects the exposition after a crash"
stop_worker

# a master that cannot reach Redis: /healthz 503 with the reason, /metrics still answers
SYNCQ_REDIS_URL='redis://:pw@127.0.0.1:1/0' bin/syncq-worker -c 1 -q default >"$W/down.log" 2>&1 &
down=$!
ON_EXIT='kill -KILL "$down" 2>/dev/null'
up() { grep -q '"event":"master.metrics"' "$W/down.log"; }
wait_for 10 "the second master's listener" up
addr2=$(sed -n 's/.*"event":"master.metrics".*on http:\/\/\([0-9.:]*\)".*/\1/p' "$W/down.log" | head -n 1)
code=$(curl -s -o "$W/h2" -w '%{http_code}' "http://$addr2/healthz")
cat "$W/h2"
assert_eq "$code" 503 "/healthz without Redis"
grep -q '^redis: unreachable$' "$W/h2" || fail "/healthz does not say why"
grep -q '^children: 0 of 1 alive$' "$W/h2" || fail "/healthz does not count the missing children"
curl -sf "http://$addr2/metrics" > "$W/m4"
assert_eq "$(v "$W/m4" 'syncq_redis_up')" 0 "redis down"
promtool check metrics < "$W/m4" || fail "promtool rejects the exposition without Redis"
grep -q ':pw@' "$W/down.log" && fail "the Redis password reached the log"
grep -q 'Redis at redis://:\*\*\*\*\*\*\*\*@127.0.0.1:1/0' "$W/down.log" || fail "the log does not name the Redis URL (masked)"
kill -TERM "$down"
wait "$down" || true
