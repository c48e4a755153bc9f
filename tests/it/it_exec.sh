#!/bin/bash
# Exec handlers (docs/HANDLERS.md) with the example programs (the 1,000-job
# runs are it_exec_1000.sh): a Node handler in both modes; exit 75 / status retry is retried with backoff and retry_after_ms;
# a program past timeout_ms is killed (its whole process group) and the
# attempt fails as a timeout; a persistent program killed with SIGKILL mid-job
# is restarted and the job retried to success; stdout garbage, a wrong reply
# id and oversize output fail with clear reasons; a payload secret and an env
# secret printed on stderr are masked in the audit row and the logs; a job
# that kills its persistent program 3 times is a poison pill; an exec
# mutation gets its target's snapshot row (null without one).
. "$(dirname "$0")/../lib.sh"

export EXEC_SECRET="env-secret-$RANDOM$RANDOM" SNAPX_EXPORT="$W/{scope}.jsonl"
# exec.json and, for the snapshot rows, a resource listed by a program
/usr/bin/python3 - tests/services/exec.json tests/services/exec_snapx.json "$W/services.json" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
a["services"].update(b["services"])
json.dump(a, open(sys.argv[3], "w"))
PY
export SYNCQ_SERVICES="$W/services.json"
start_worker -c 2 -q urgent

succeeded() { [ "$(count "service = '$1' AND status = 'success'")" = "$2" ]; }

# --- Node, persistent and per_job
bin/syncq enqueue --service node --action greet --target-id n1 --payload '{"name":"js"}' > /dev/null
bin/syncq enqueue --service node --action greet_once --target-id n2 --payload '{"name":"js1"}' > /dev/null
wait_for 30 "node jobs" succeeded node 2
assert_eq "$(q "SELECT string_agg(result->>'greeting', ',' ORDER BY target_id) FROM syncq_jobs WHERE service = 'node'")" "hello, js,hello, js1" "node results"

# --- exit 75 / status retry: retried with backoff, then dead or success
id=$(bin/syncq enqueue --service py --action greet --target-id busy --payload '{"fail":"temporary"}')
pid=$(bin/syncq enqueue --service php --action greet --target-id busy --payload '{"fail":"temporary"}')
id2=$(bin/syncq enqueue --service bad --action run --target-id flaky --payload '{"do":"tempfail","fail_times":2,"retry_after_ms":300}')
dead() { [ "$(count "job_id = '$1' AND status = 'dead'")" = 1 ]; }
done_ok() { [ "$(count "job_id = '$1' AND status = 'success'")" = 1 ]; }
wait_for 30 "python exit 75 job dead" dead "$id"
wait_for 30 "php retry job dead" dead "$pid"
wait_for 30 "flaky job succeeded" done_ok "$id2"
assert_eq "$(q "SELECT last_error FROM syncq_jobs WHERE job_id = '$id'")" \
    "attempts exhausted (3): exit 75 (temporary failure): the greeting service is busy" "exit 75 error"
assert_eq "$(q "SELECT last_error FROM syncq_jobs WHERE job_id = '$pid'")" \
    "attempts exhausted (3): handler: retry: the greeting service is busy" "status retry error"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE job_id = '$id' AND outcome = 'transient' AND due_at IS NOT NULL")" 2 "exit 75 attempts retried with a due time"
assert_eq "$(q "SELECT attempts FROM syncq_jobs WHERE job_id = '$id2'")" 3 "flaky attempts"
gaps=$(q "SELECT count(*) FROM syncq_job_events e WHERE e.job_id = '$id2' AND e.outcome = 'transient' AND e.due_at >= e.at + interval '300 ms'")
assert_eq "$gaps" 2 "retry_after_ms honoured as the least delay"

# --- timeout: per_job killed with its group, attempt fails as a timeout
tid=$(bin/syncq enqueue --service bad --action run_short --target-id slow --max-attempts 1 \
    --payload "{\"do\":\"sleep\",\"ms\":30000,\"pidfile\":\"$W/slow.pid\"}")
wait_for 30 "timed-out job dead" dead "$tid"
assert_eq "$(q "SELECT last_error FROM syncq_jobs WHERE job_id = '$tid'")" "attempts exhausted (1): timeout after 5000 ms: the handler was killed" "timeout error"
assert_eq "$(q "SELECT outcome FROM syncq_job_events WHERE job_id = '$tid' AND event = 'attempt'")" "timeout" "timeout outcome"
slow=$(cat "$W/slow.pid")
if kill -0 "$slow" 2>/dev/null; then fail "the timed-out handler $slow still runs"; fi
echo "ok: the timed-out handler is gone"
assert_eq "$(grep -c '"event":"master.timeout"' "$W/worker.log" || true)" 0 "timeouts left to the master"

# --- persistent: a hung program is killed and restarted
hid=$(bin/syncq enqueue --service badp --action run_short --target-id hang --max-attempts 1 --payload '{"do":"hang"}')
wait_for 30 "hung persistent job dead" dead "$hid"
assert_eq "$(q "SELECT last_error FROM syncq_jobs WHERE job_id = '$hid'")" \
    "attempts exhausted (1): timeout after 1500 ms: the handler program was killed and will be restarted" "persistent timeout error"

# --- persistent: SIGKILL mid-job, restarted, the job retried to success
kid=$(bin/syncq enqueue --service badp --action run --target-id kill --payload "{\"do\":\"wait_kill\",\"pidfile\":\"$W/kill.pid\"}")
wait_for 30 "the persistent program to take the job" test -s "$W/kill.pid"
victim=$(cat "$W/kill.pid")
kill -KILL "$victim"
wait_for 30 "killed job retried to success" done_ok "$kid"
assert_eq "$(q "SELECT attempts FROM syncq_jobs WHERE job_id = '$kid'")" 2 "attempts after the kill"
assert_eq "$(q "SELECT error FROM syncq_job_events WHERE job_id = '$kid' AND event = 'attempt'")" \
    "the handler program died during the job (killed by signal 9); it will be restarted" "death reason"
newpid=$(q "SELECT result->>'pid' FROM syncq_jobs WHERE job_id = '$kid'")
[ -n "$newpid" ] && [ "$newpid" != "$victim" ] || fail "the retry ran in the killed program ($newpid)"
echo "ok: retried in a new program ($victim -> $newpid)"

# --- garbage and oversize
g1=$(bin/syncq enqueue --service bad --action run --target-id g1 --payload '{"do":"garbage"}')
g2=$(bin/syncq enqueue --service bad --action run --target-id g2 --payload '{"do":"big"}')
g3=$(bin/syncq enqueue --service badp --action run --target-id g3 --max-attempts 1 --payload '{"do":"garbage"}')
g4=$(bin/syncq enqueue --service badp --action run --target-id g4 --max-attempts 1 --payload '{"do":"big"}')
g5=$(bin/syncq enqueue --service badp --action run --target-id g5 --max-attempts 1 --payload '{"do":"wrong_id"}')
g6=$(bin/syncq enqueue --service bad --action run --target-id g6 --payload '{"do":"signal"}')
for j in $g1 $g2 $g3 $g4 $g5 $g6; do wait_for 30 "job $j dead" dead "$j"; done
err() { q "SELECT last_error FROM syncq_jobs WHERE job_id = '$1'"; }
assert_eq "$(err "$g1")" "exit 0 but stdout is not the JSON object the protocol asks for (invalid JSON near byte 0)" "per_job garbage"
assert_eq "$(err "$g2")" "stdout over 1048576 bytes: the handler was killed" "per_job oversize"
assert_eq "$(err "$g3")" "attempts exhausted (1): the handler answered garbage (invalid JSON near byte 0): it was killed and will be restarted" "persistent garbage"
assert_eq "$(err "$g4")" "attempts exhausted (1): reply over 1048576 bytes: the handler program was killed and will be restarted" "persistent oversize"
assert_eq "$(err "$g5")" "attempts exhausted (1): the handler answered garbage (the id is not this job's): it was killed and will be restarted" "persistent wrong id"
assert_eq "$(err "$g6")" "killed by signal 9" "per_job signal"
ok2=$(bin/syncq enqueue --service badp --action run --target-id after --payload '{"do":"ok"}')
wait_for 30 "a job after the restarts" done_ok "$ok2"

# --- a job that kills its persistent program every time is a poison pill on the 3rd death
pp=$(bin/syncq enqueue --service badp --action run --target-id poison --max-attempts 10 --payload '{"do":"die"}')
wait_for 30 "poison job dead" dead "$pp"
assert_eq "$(q "SELECT attempts || ' ' || last_error FROM syncq_jobs WHERE job_id = '$pp'")" \
    "3 poison: the handler program died during this job 3 time(s) (last: exit 3); not retried: fatal: cannot handle this one" "poison after 3 program deaths"
assert_eq "$(q "SELECT string_agg(outcome, ',' ORDER BY attempt) FROM syncq_job_events WHERE job_id = '$pp' AND event = 'attempt'")" \
    "transient,transient,poison" "the attempts' outcomes"
assert_eq "$(r HEXISTS "$(key urgent xdeaths)" "$pp")" 0 "the death count forgotten once the job is dead"
ok3=$(bin/syncq enqueue --service badp --action run --target-id after2 --payload '{"do":"ok"}')
wait_for 30 "a job after the poison pill" done_ok "$ok3"

# --- exec mutations get their target's snapshot row
printf '{"id": "t1", "name": "one"}\n{"id": "t2", "name": "two"}\n' > "$W/s1.jsonl"
sy=$(bin/syncq enqueue --kind sync --queue urgent --service snapx --action sync_items --scope s1)
wait_for 30 "the snapx sync" done_ok "$sy"
s1=$(bin/syncq enqueue --service snapx --action touch --scope s1 --target-id t2 --payload '{"do":"snapshot"}')
s2=$(bin/syncq enqueue --service snapx --action touch --scope s1 --target-id t9 --payload '{"do":"snapshot"}')
wait_for 30 "touch t2" done_ok "$s1"
wait_for 30 "touch t9" done_ok "$s2"
want=$(q "SELECT content_hash FROM syncq_snapshots WHERE service = 'snapx' AND scope = 's1' AND external_id = 't2'")
assert_eq "$(q "SELECT (result->'snapshot'->>'external_id') || ' ' || (result->'snapshot'->'data'->>'name') || ' ' || (result->'snapshot'->>'content_hash') || ' ' || (result->'snapshot'->>'sync_status') FROM syncq_jobs WHERE job_id = '$s1'")" \
    "t2 two $want synced" "the snapshot row the program got"
assert_eq "$(q "SELECT jsonb_typeof(result->'snapshot') FROM syncq_jobs WHERE job_id = '$s2'")" null "a target without a row"

# --- secrets on stderr: masked in the audit row and the logs
pw="hunter2-$RANDOM$RANDOM"
sid=$(bin/syncq enqueue --service bad --action run --target-id leak --payload "{\"do\":\"leak\",\"password\":\"$pw\"}")
wait_for 30 "leaky job dead" dead "$sid"
assert_eq "$(err "$sid")" "exit 3: login failed for password=******** with key ********" "stderr masked in the audit error"
assert_eq "$(q "SELECT payload->>'password' FROM syncq_jobs WHERE job_id = '$sid'")" "********" "payload masked"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE error LIKE '%$pw%' OR error LIKE '%$EXEC_SECRET%'")" 0 "secrets in events"
grep -q "login failed for password=\*\*\*\*\*\*\*\*" "$W/worker.log" || fail "the failure is not in the log"
if grep -q -e "$pw" -e "$EXEC_SECRET" "$W/worker.log"; then fail "a secret reached the worker log"; fi
echo "ok: no secret in the worker log"

stop_worker
