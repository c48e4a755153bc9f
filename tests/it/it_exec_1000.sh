#!/bin/bash
# Exec handlers at volume: the example Python per_job handler and the example
# PHP persistent handler (examples/handlers/) each run 1,000 mutation jobs to
# success; the PHP jobs all ran in at most one program per child.
. "$(dirname "$0")/../lib.sh"

export EXEC_SECRET=unused
export SYNCQ_SERVICES="tests/services/exec.json"
start_worker -c 2 -q urgent

batch() { # service count file
    for i in $(seq 1 "$2"); do
        printf '{"kind":"mutation","service":"%s","action":"greet","target_id":"t%d","payload":{"name":"n%d"}}\n' "$1" "$i" "$i"
    done > "$3"
}
succeeded() { [ "$(count "service = '$1' AND status = 'success'")" = "$2" ]; }

# --- 1,000 jobs each: Python per_job, PHP persistent
batch py 1000 "$W/py.ndjson"
batch php 1000 "$W/php.ndjson"
bin/syncq enqueue --batch "$W/py.ndjson" > /dev/null
bin/syncq enqueue --batch "$W/php.ndjson" > /dev/null
wait_for 900 "1000 python jobs" succeeded py 1000
wait_for 900 "1000 php jobs" succeeded php 1000
assert_eq "$(count "service IN ('py','php') AND status <> 'success'")" 0 "exec jobs not succeeded"
assert_eq "$(q "SELECT result->>'greeting' FROM syncq_jobs WHERE service = 'py' AND target_id = 't7'")" "hello, n7" "python result in the audit row"
assert_eq "$(q "SELECT result->>'by' FROM syncq_jobs WHERE service = 'php' AND target_id = 't7'")" "php" "php result in the audit row"
pids=$(q "SELECT count(DISTINCT result->>'pid') FROM syncq_jobs WHERE service = 'php'")
[ "$pids" -ge 1 ] && [ "$pids" -le 2 ] || fail "1000 persistent jobs ran in $pids PHP processes (2 children: at most 2)"
echo "ok: 1000 persistent PHP jobs ran in $pids process(es)"

stop_worker
