#!/bin/bash
# The README's first runnable example ("First job, end to end", between the
# quickstart markers) runs line for line against the bundled mock: the job
# succeeds and the record exists at the mock. Before the fix it died with
# "unknown handler dns/create_record" (no services file) or "path needs
# {scope}". Then `syncq status` names a waiting job whose handler no running
# worker has.
. "$(dirname "$0")/../lib.sh"

sed -n '/^<!-- quickstart -->$/,/^<!-- \/quickstart -->$/p' README.md | sed '/^<!--/d; /^```/d' > "$W/quickstart.sh"
[ "$(wc -l < "$W/quickstart.sh")" -ge 5 ] || fail "no quickstart block in README.md"
cat "$W/quickstart.sh"
export TMPDIR="$W"
# run it as the README shows it: in the repository, in this shell (for $id, $MOCK_URL)
set +e
. "$W/quickstart.sh" > "$W/quickstart.out" 2>&1
set -e
cat "$W/quickstart.out"
# the README's background jobs: the mock, then the worker
pids=($(jobs -p))
[ "${#pids[@]}" = 2 ] || fail "expected the mock and the worker in the background, got: ${pids[*]}"
WORKER_PID=${pids[1]}
ON_EXIT="kill ${pids[0]} 2>/dev/null; $ON_EXIT"

[ -n "${id:-}" ] || fail "the enqueue printed no job id"
done_ok() { [ "$(count "job_id = '$id' AND status = 'success'")" = 1 ]; }
wait_for 60 "the README's job to succeed" done_ok
assert_eq "$(q "SELECT result->>'external_id' IS NOT NULL FROM syncq_jobs WHERE job_id = '$id'")" t "the created record's id in the audit row"
assert_eq "$(curl -s "$MOCK_URL/_admin/records?zone=example.org" | python3 -c 'import json,sys; print([r["name"] + " " + r["content"] for r in json.load(sys.stdin)])')" \
    "['www 192.0.2.10']" "the record at the mock"
bin/syncq status "$id" | grep -q "^$id: success in queue urgent" || fail "status: $(bin/syncq status "$id")"
echo "ok: syncq status says success"

# --- a waiting job whose handler no running worker has
bin/syncq queue pause urgent > /dev/null
sleep 1.5 # a fetch already blocked on the queue takes one more job; the state is asserted next
known=$(bin/syncq enqueue --service dns --action create_record --scope example.org --payload '{"name":"a","type":"A"}')
unknown=$(bin/syncq enqueue --service dns --action create_recrod --scope example.org --payload '{"name":"a","type":"A"}')
bin/syncq status "$known" > "$W/s1"
bin/syncq status "$unknown" > "$W/s2"
cat "$W/s1" "$W/s2"
grep -q "queued in queue urgent" "$W/s1" || fail "the known job is not queued"
if grep -q "^note:" "$W/s1"; then fail "a note for a handler the worker has"; fi
grep -qx "note: no running worker on queue urgent has handler dns/create_recrod (is SYNCQ_SERVICES set for the workers, with this action?)" "$W/s2" ||
    fail "no note for an unknown handler"
echo "ok: status names the missing handlers"
bin/syncq queue resume urgent > /dev/null
stop_worker
