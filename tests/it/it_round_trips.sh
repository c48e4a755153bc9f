#!/bin/bash
# Between two jobs a child waits for Redis once (issue 14, workload b): the
# acknowledgement step of a finished job is on the wire, unanswered, when the
# fetch of the next job follows it, and both replies come back in one read
# (worker/fetch.c, fetch_behind). Before, the child read the step's reply
# and only then sent the fetch: two round trips a job, each a wait for Redis
# to be scheduled, which with 64 children on 2 cores cost milliseconds.
# Counted, not timed: strace of the one job child while it runs slow jobs
# (each a batch of one), every syncq_fetch it writes after an acknowledging
# syncq_step, and whether it read anything from Redis in between.
# Also: the order still holds (Redis runs the step first), nothing is lost
# or run twice, and a child told to stop reads the replies it is owed.
. "$(dirname "$0")/../lib.sh"

command -v strace >/dev/null || fail "strace is not installed (scripts/deps.sh installs it)"
N=12
start_worker -c 1 -q default
wait_for 10 "the worker registered" worker_ready
wait_for 10 "the child blocking on the queue" \
    bash -c "[ \"\$(redis-cli -p $SQ_REDIS_PORT CLIENT LIST | grep -c 'cmd=blmove')\" -ge 1 ]"
child=""
for p in $(pgrep -P "$WORKER_PID"); do [ "$(cat "/proc/$p/comm")" = syncq-job ] && child=$p; done
[ -n "$child" ] || fail "no job child under the master"
trace=$W/strace.txt
strace -qq -f -e trace=read,write -s 64 -p "$child" -o "$trace" &
spid=$!
wait_for 10 "strace attached" bash -c "grep -q TracerPid:.[1-9] /proc/$child/status"
args=()
# 30 ms: slower than SLOW_JOB_MS (worker/child.c), so every fetch asks for one job
for i in $(seq 1 $N); do args+=("{\"id\":\"rt-$i\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"sleep\",\"payload\":{\"ms\":30}}"); done
r LPUSH "$(key default ready)" "${args[@]}" >/dev/null
done_all() { [ "$(count "job_id LIKE 'rt-%' AND status = 'success'")" = $N ]; }
wait_for 30 "the $N slow jobs" done_all
kill "$spid"
wait "$spid" 2>/dev/null || true

# every fetch that follows an acknowledging step: was the last Redis syscall
# before it that step's write (pipelined), or a read (a second round trip)?
read -r behind apart < <(/usr/bin/python3 - "$trace" <<'PY'
import re, sys
last = None  # the child's last syscall on the Redis socket: ("write", is_step) or ("read",)
fd = None
behind = apart = 0
for line in open(sys.argv[1]):
    m = re.match(r'\s*(?:\d+\s+)?(read|write)\((\d+), "(.*?)"', line)
    if not m:
        continue
    call, f, data = m.group(1), int(m.group(2)), m.group(3)
    if call == "write" and "FCALL" in data and fd is None:
        fd = f  # the Redis connection: the first FCALL the child writes
    if f != fd:
        continue
    if call == "write" and "syncq_fetch" in data:
        if last == ("write", True):
            behind += 1
        elif last == ("read",):
            apart += 1
    if call == "write":
        last = ("write", "syncq_step" in data)
    else:
        last = ("read",)
print(behind, apart)
PY
)
echo "measure: fetches sent behind the unanswered step $behind, after reading its reply $apart"
# the last job's step may wait for the next fetch when the queue ran dry:
# that fetch, too, rides behind it; a few first fetches grow the batch
[ "$behind" -ge $((N - 2)) ] || fail "only $behind of the fetches after a step rode behind it ($apart waited for its reply)"
assert_eq "$apart" 0 "fetches sent only after reading the step's reply"

assert_eq "$(q "SELECT sum(attempts) FROM syncq_jobs WHERE job_id LIKE 'rt-%'")" $N "attempts (each job once)"
assert_eq "$(r LLEN "$(key default ready)")" 0 "jobs left in the queue"
wait_for 10 "the in-flight list empty" bash -c "[ \"\$(redis-cli -p $SQ_REDIS_PORT EVAL \"local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do n = n + redis.call('LLEN', k) end return n\" 0 '$(key default inflight):*')\" = 0 ]"

# a stop right after a job: the owed replies are read, the job is acknowledged once
r LPUSH "$(key default ready)" '{"id":"rt-last","kind":"mutation","service":"syncq","action":"sleep","payload":{"ms":300}}' >/dev/null
wait_for 10 "rt-last running" bash -c "[ \"\$(psql -X -A -t -q -c \"SELECT status FROM syncq_jobs WHERE job_id = 'rt-last'\" \"$SYNCQ_DATABASE_URL\")\" = running ]"
stop_worker
wait_for 10 "rt-last's outcome" bash -c "[ \"\$(psql -X -A -t -q -c \"SELECT status || ' ' || attempts FROM syncq_jobs WHERE job_id = 'rt-last'\" \"$SYNCQ_DATABASE_URL\")\" = 'success 1' ]"
