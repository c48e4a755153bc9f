#!/bin/bash
# Exec handlers at volume: the example PHP persistent handler
# (examples/handlers/greet.php) runs 1,000 mutation jobs to success, all in
# at most one program per child (it_exec_py1000.sh: the per_job Python one).
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

batch php 1000 "$W/php.ndjson"
bin/syncq enqueue --batch "$W/php.ndjson" > /dev/null
wait_for 280 "1000 php jobs" succeeded php 1000
assert_eq "$(count "status <> 'success'")" 0 "jobs not succeeded"
assert_eq "$(q "SELECT result->>'by' FROM syncq_jobs WHERE service = 'php' AND target_id = 't7'")" "php" "php result in the audit row"
pids=$(q "SELECT count(DISTINCT result->>'pid') FROM syncq_jobs WHERE service = 'php'")
[ "$pids" -ge 1 ] && [ "$pids" -le 2 ] || fail "1000 persistent jobs ran in $pids PHP processes (2 children: at most 2)"
echo "ok: 1000 persistent PHP jobs ran in $pids process(es)"
stop_worker
