#!/bin/bash
# The C producer library: examples/enqueue.c links against lib/libsyncq.a,
# enqueues a job (id and enqueued_at filled in, queued audit record written),
# refuses a bad envelope with exit 65 and pushes nothing, and the job runs.
. "$(dirname "$0")/../lib.sh"

cc -std=c11 -Wall -Wextra -Werror -Icommon examples/enqueue.c lib/libsyncq.a \
    $(pkg-config --libs hiredis libcjson) $( [ "${SANITIZE:-0}" = 1 ] && echo -fsanitize=address,undefined ) \
    -o "$W/enqueue"
start_worker -c 1 -q urgent
id=$("$W/enqueue" '{"kind":"mutation","service":"syncq","action":"noop","actor":"c-app","payload":{"apiKey":"k-123"}}')
echo "enqueued $id"
[ ${#id} -eq 36 ] || fail "not a UUID: $id"
rc=0
"$W/enqueue" '{"kind":"mutation","service":"syncq"}' 2>"$W/err" || rc=$?
assert_eq "$rc" 65 "exit code for an envelope without action"
grep -q 'missing required field "action"' "$W/err" || fail "unclear error: $(cat "$W/err")"
done_row() { [ "$(count "job_id = '$id' AND status = 'success'")" = 1 ]; }
wait_for 20 "the C-enqueued job" done_row
assert_eq "$(q "SELECT actor || ' ' || (payload->>'apiKey') || ' ' || (enqueued_at IS NOT NULL) FROM syncq_jobs WHERE job_id = '$id'")" "c-app ******** true" "audit row"
assert_eq "$(count "true")" 1 "rows (the refused envelope pushed nothing)"
stop_worker
