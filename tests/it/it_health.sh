#!/bin/bash
# `syncq health --window 1h` over a fixed set of audit rows: totals by
# status, per service/action success, first-attempt and final failure rates,
# p50/p95 duration by PostgreSQL's percentile_cont (interpolated), and the
# 10 newest failures with credentials masked. Rows outside the window do not
# count. Then `check --max-failure-rate` judges the same numbers.
. "$(dirname "$0")/../lib.sh"
export COLUMNS=400 # whole cells: the lines below match errors to their end

q "
INSERT INTO syncq_jobs (job_id, queue, kind, service, action, status, attempts, duration_ms, enqueued_at, finished_at)
SELECT 'dns-' || n, 'urgent', 'mutation', 'dns', 'create_record',
       CASE WHEN n <= 7 THEN 'success' WHEN n = 8 THEN 'success' WHEN n = 9 THEN 'dead' ELSE 'conflict' END,
       CASE WHEN n <= 7 THEN 1 WHEN n = 8 THEN 3 WHEN n = 9 THEN 5 ELSE 1 END,
       n * 10, now() - interval '40 min', now() - interval '30 min' + n * interval '1 s'
  FROM generate_series(1, 10) n;
INSERT INTO syncq_jobs (job_id, queue, kind, service, action, status, attempts, duration_ms, enqueued_at, finished_at)
SELECT 'mail-' || n, 'urgent', 'mutation', 'mail', 'send', 'success', 1, n * 100,
       now() - interval '20 min', now() - interval '10 min'
  FROM generate_series(1, 4) n;
-- outside the window: five dead jobs two hours ago
INSERT INTO syncq_jobs (job_id, queue, kind, service, action, status, attempts, duration_ms, enqueued_at, finished_at)
SELECT 'old-' || n, 'urgent', 'mutation', 'dns', 'create_record', 'dead', 5, 9999,
       now() - interval '3 hours', now() - interval '2 hours'
  FROM generate_series(1, 5) n;
INSERT INTO syncq_jobs (job_id, queue, kind, service, action, status, attempts, duration_ms, enqueued_at, finished_at) VALUES
  ('sup-1', 'sync', 'sync', 'dns', 'list_records', 'superseded', 0, NULL, now() - interval '5 min', now() - interval '4 min'),
  ('q-1', 'urgent', 'mutation', 'dns', 'create_record', 'queued', 0, NULL, now() - interval '2 days', NULL),
  ('q-2', 'urgent', 'mutation', 'dns', 'create_record', 'queued', 0, NULL, now(), NULL),
  ('run-1', 'urgent', 'mutation', 'dns', 'create_record', 'running', 1, NULL, now(), NULL),
  ('retry-1', 'urgent', 'mutation', 'mail', 'send', 'retrying', 2, NULL, now(), NULL);
-- failures: 12 in the window (the newest has a password and a token to mask), one before it
INSERT INTO syncq_job_events (job_id, rev, event, outcome, attempt, error, at)
SELECT 'dns-9', n * 4 + 3, 'attempt', 'transient', n, 'HTTP 503 #' || n, now() - interval '30 min' + n * interval '1 min'
  FROM generate_series(1, 11) n;
INSERT INTO syncq_job_events (job_id, rev, event, outcome, attempt, error, at) VALUES
  ('dns-8', 7, 'attempt', 'transient', 1,
   'connect https://api:s3cretpw@dns.example/zones failed; Authorization: Bearer tok_abcdef', now() - interval '1 min'),
  ('old-1', 3, 'attempt', 'permanent', 1, 'ancient', now() - interval '2 hours');
" >/dev/null

bin/syncq health --window 1h > "$W/health.txt"
cat "$W/health.txt"
t=$(tr -s ' ' < "$W/health.txt")
line() { echo "$t" | grep -qxF "$1" || fail "health lacks the line: $1"; echo "ok: $1"; }
line "JOBS (finished in the last 1h00m, unfinished now): 12 success, 1 dead, 1 conflict, 1 superseded, 2 queued, 1 running, 1 retrying"
line "SERVICE/ACTION FINISHED SUCCESS 1ST FAIL FINAL FAIL P50 P95"
# dns: 10 finished, 8 success, 7 on the first attempt, 1 dead + 1 conflict; durations 10..100 ms
line "dns/create_record 10 80.0% 30.0% 20.0% 55.0ms 95.5ms"
# mail: durations 100, 200, 300, 400 ms: p50 250, p95 = 300 + 0.85 * 100
line "mail/send 4 100.0% 0.0% 0.0% 250.0ms 385.0ms"
line "(all) 14 85.7% 21.4% 14.3% 75.0ms 335.0ms"
line "(durations: percentile_cont over each finished job's last attempt)"
echo "$t" | grep -A1 '^RECENT FAILURES$' | tail -n 1 |
    grep -q ' dns-8 dns/create_record attempt/transient attempt 1: connect https://api:\*\*\*\*\*\*\*\*@dns.example/zones failed; Authorization: Bearer \*\*\*\*\*\*\*\*$' ||
    fail "the newest failure is not first, or its error is not masked"
grep -q 's3cretpw\|tok_abcdef' "$W/health.txt" && fail "a secret reached the output"
assert_eq "$(echo "$t" | sed -n '/^RECENT FAILURES$/,$p' | grep -c 'attempt/')" 10 "recent failures shown"
grep -q 'ancient' "$W/health.txt" && fail "a failure outside the window was shown"

bin/syncq health --window 24h --json > "$W/health.json"
python3 - "$W/health.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["percentile_function"] == "percentile_cont", d
assert d["totals"]["dead"] == 6, d["totals"]            # the old ones count in 24h
dns = [h for h in d["handlers"] if h["service"] == "dns"][0]
assert dns["finished"] == 15 and abs(dns["final_failure_rate"] - 7 / 15) < 1e-5, dns
assert d["all"]["finished"] == 19, d["all"]
assert len(d["recent_failures"]) == 10 and d["recent_failures"][0]["job_id"] == "dns-8"
assert "s3cretpw" not in open(sys.argv[1]).read()
print("ok: health --json over 24h")
EOF

# the same numbers judged by check (final failure rate: dns 0.20 in 1h)
rc=0
out=$(bin/syncq check --max-oldest-age off --window 1h --max-failure-rate 0.1 --min-jobs 5) || rc=$?
assert_eq "$rc" 1 "check exit code past the failure rate"
assert_eq "$out" "dns/create_record: failure rate 0.20 over the last 1h00m (2 of 10 finished jobs dead or in conflict), over 0.10" "failure-rate breach line"
bin/syncq check --window 1h --max-failure-rate 0.2 >/dev/null || fail "check breached at exactly the rate"
bin/syncq check --window 1h --max-failure-rate 0.1 --min-jobs 11 >/dev/null || fail "check judged a rate over too few jobs"
rc=0
bin/syncq health --window 5x 2>/dev/null || rc=$?
assert_eq "$rc" 64 "health with a bad window"
