#!/bin/bash
# Producers in other languages, run for real: examples/enqueue.php (phpredis)
# and examples/enqueue.py (redis-py, Debian's python3-redis under
# /usr/bin/python3) call FCALL syncq_enqueue; their jobs end success, the
# duplicate gets the first id, bad envelopes are refused with the reason.
. "$(dirname "$0")/../lib.sh"

start_worker -c 2 -q urgent,default,sync
export SYNCQ_REDIS_PORT="$SQ_REDIS_PORT"

php examples/enqueue.php > "$W/php.out"
cat "$W/php.out"
read -r pid pstate < <(sed -n 1p "$W/php.out")
assert_eq "$pstate" queued "PHP job state"
assert_eq "$(sed -n 2p "$W/php.out")" "$pid duplicate" "PHP duplicate answer"
grep -q '^refused: .*missing required field "action"' "$W/php.out" || fail "PHP bad envelope not refused clearly"

/usr/bin/python3 examples/enqueue.py > "$W/py.out"
cat "$W/py.out"
read -r sid sstate < <(sed -n 1p "$W/py.out")
read -r did dstate < <(sed -n 2p "$W/py.out")
assert_eq "$sstate" debounced "Python sync job state"
assert_eq "$dstate" delayed "Python delayed job state"
grep -q '^refused: .*missing required field "action"' "$W/py.out" || fail "Python bad envelope not refused clearly"

done_() { [ "$(count "job_id IN ('$pid', '$sid', '$did') AND status = 'success'")" = 3 ]; }
wait_for 20 "the PHP and Python jobs" done_
assert_eq "$(q "SELECT payload->>'api_token' FROM syncq_jobs WHERE job_id = '$pid'")" "********" "PHP payload secret masked"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE job_id = '$pid' AND event = 'duplicate'")" 1 "the duplicate counted"
stop_worker
