#!/bin/bash
# Exec handlers at volume: the example Python per_job handler
# (examples/handlers/greet.py) runs 1,000 mutation jobs to success, one
# process per job (it_exec_php1000.sh: the persistent PHP one). A thousand
# interpreter starts take long on a loaded machine: it gets 15 minutes.
# test-timeout: 900
. "$(dirname "$0")/../lib.sh"

export EXEC_SECRET=unused
export SYNCQ_SERVICES="tests/services/exec.json"
start_worker -c 4 -q urgent

batch() { # service count file
    for i in $(seq 1 "$2"); do
        printf '{"kind":"mutation","service":"%s","action":"greet","target_id":"t%d","payload":{"name":"n%d"}}\n' "$1" "$i" "$i"
    done > "$3"
}
succeeded() { [ "$(count "service = '$1' AND status = 'success'")" = "$2" ]; }

batch py 1000 "$W/py.ndjson"
bin/syncq enqueue --batch "$W/py.ndjson" > /dev/null
wait_for 840 "1000 python jobs" succeeded py 1000
assert_eq "$(count "status <> 'success'")" 0 "jobs not succeeded"
assert_eq "$(q "SELECT count(DISTINCT result->>'job') FROM syncq_jobs WHERE service = 'py'")" 1000 "results naming their own job"
assert_eq "$(q "SELECT result->>'greeting' FROM syncq_jobs WHERE service = 'py' AND target_id = 't7'")" "hello, n7" "python result in the audit row"
stop_worker
