#!/bin/bash
# The services file: an invalid one stops the worker at start with the
# exact location of the problem (exit 65); on SIGHUP a broken file is
# rejected and the old one stays in force; a good one replaces it and the
# children are replaced after their jobs.
. "$(dirname "$0")/../lib.sh"

start_mock
sed "s/@PORT@/$port/" tests/services/dns.json.in > "$W/good.json"
sed 's/"style": "page"/"style": "pages"/' "$W/good.json" > "$W/bad.json"

rc=0
SYNCQ_SERVICES="$W/bad.json" bin/syncq-worker -c 1 -q urgent --prefix "$SYNCQ_PREFIX" 2>"$W/start.log" || rc=$?
assert_eq "$rc" 65 "exit code with an invalid services file"
grep -q 'services.dns.resources.records.list.pagination.style: must be one of page, offset, cursor, link' "$W/start.log" ||
    fail "no exact location in: $(cat "$W/start.log")"

cp "$W/good.json" "$W/services.json"
export SYNCQ_SERVICES="$W/services.json"
start_worker -c 1 -q urgent
ok_() { [ "$(count "job_id = '$1' AND status = '$2'")" = 1 ]; }
a=$(bin/syncq enqueue --service dns --action create_record --scope r.example --payload '{"name":"a","type":"A","content":"192.0.2.1","ttl":60}')
wait_for 15 "a create" ok_ "$a" success

cp "$W/bad.json" "$W/services.json"
kill -HUP "$WORKER_PID"
rejected() { grep -q '"event":"master.reload".*rejected' "$W/worker.log"; }
wait_for 10 "the broken file rejected" rejected
b=$(bin/syncq enqueue --service dns --action create_record --scope r.example --payload '{"name":"b","type":"A","content":"192.0.2.2","ttl":60}')
wait_for 15 "a create under the old file" ok_ "$b" success

/usr/bin/python3 - "$W/good.json" "$W/services.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))
f["services"]["dns"]["resources"]["records"]["actions"]["read_record"] = {
    "op": "call", "method": "GET", "path": "/zones/{scope}/records/{target_id}", "body": "none"}
json.dump(f, open(sys.argv[2], "w"))
PY
kill -HUP "$WORKER_PID"
reloaded() { grep -q '"event":"master.reload".*reloaded' "$W/worker.log"; }
wait_for 10 "the new file" reloaded
rid=$(q "SELECT result->>'external_id' FROM syncq_jobs WHERE job_id = '$a'")
c=$(bin/syncq enqueue --service dns --action read_record --scope r.example --target-id "$rid")
wait_for 15 "the action the new file added" ok_ "$c" success
stop_worker
