#!/bin/bash
# C plugins (docs/HANDLERS.md): the example plugin examples/plugins/hello.c,
# built by `make plugins` and loaded from the services file's "plugins", runs
# jobs and its results reach the audit rows; a handler returning transient is
# retried with backoff no sooner than its retry_after_ms; the HTTP helper
# sends with the service's base URL and auth (an OAuth2 token: the mock
# answers 401 without one) and refuses another origin; a payload secret
# quoted in a reason is masked; a mutation waits for its target's lock; a
# plugin built for another handler ABI, a missing file and a plugin init
# that fails each stop the worker with exit 78 and the file named.
. "$(dirname "$0")/../lib.sh"

B=${BUILD_DIR:-build/rel}
mk=""
[ "${SANITIZE:-0}" = 1 ] && mk="SANITIZE=1"
make --no-print-directory -s plugins $mk > "$W/make.log" 2>&1 || fail "make plugins: $(tail -5 "$W/make.log")"
hello="$PWD/$B/plugins/hello.so"
other="$PWD/$B/plugins/other_abi.so"

# --- refused at the start: another ABI, no file, a failing init
refused() { # what-for expected-text [env...]: the worker exits 78 and logs the text
    local what=$1 want=$2 rc=0
    shift 2
    env "$@" bin/syncq-worker -c 1 -q urgent --prefix "$SYNCQ_PREFIX" > "$W/refused.log" 2>&1 || rc=$?
    assert_eq "$rc" 78 "exit code for $what"
    grep -qF "$want" "$W/refused.log" || fail "$what: no \"$want\" in: $(cat "$W/refused.log")"
    echo "ok: $what: $want"
}
refused "a plugin of another ABI" \
    "plugin $other was built for handler ABI 2, but this syncq-worker speaks handler ABI 1: rebuild it against this version's syncq/handler.h" \
    SYNCQ_PLUGINS="$other"
refused "a missing plugin" "plugin $W/nope.so: cannot load it: $W/nope.so: cannot open shared object file" \
    SYNCQ_PLUGINS="$hello,$W/nope.so"
cat > "$W/bad_init.c" <<'C'
#include <syncq/handler.h>
SYNCQ_PLUGIN_DECLARE;
static syncq_outcome noop(const syncq_job *j) { (void)j; return syncq_success(0); }
int syncq_plugin_init(uint32_t v, syncq_registry *r) { (void)v; return r->add(r, "syncq", "noop", noop, 0) < 0; }
C
cc -std=c11 -shared -fPIC -Iinclude -o "$W/bad_init.so" "$W/bad_init.c" || fail "building bad_init.so"
refused "a failing init" "plugin $W/bad_init.so: syncq_plugin_init returned 1: add(\\\"syncq\\\", \\\"noop\\\"): the service name syncq is the built-ins'" \
    SYNCQ_PLUGINS="$W/bad_init.so"
assert_eq "$(r SCARD "$(fkey workers)")" 0 "workers registered by the refused starts"

# --- the example plugin, named by the services file
start_mock
mock POST /_admin/seed '{"zone":"example.org","count":7}' > /dev/null
export OAUTH_CLIENT_ID="syncq-plugin" OAUTH_CLIENT_SECRET="cs-$RANDOM$RANDOM"
mock POST /_admin/oauth "{\"client_id\":\"$OAUTH_CLIENT_ID\",\"client_secret\":\"$OAUTH_CLIENT_SECRET\",\"expires_in\":60}" |
    grep -q ok || fail "mock oauth setup"
sed -e "s/@PORT@/$port/" -e "s|@HELLO@|$hello|" tests/services/plugin.json.in > "$W/services.json"
export SYNCQ_SERVICES="$W/services.json" SYNCQ_BACKOFF_BASE_MS=50
start_worker -c 2 -q urgent
ended() { [ "$(count "job_id = '$1' AND status IN ('success', 'dead')")" = 1 ]; }
res() { q "SELECT result::text FROM syncq_jobs WHERE job_id = '$1'"; }

ids=()
for i in $(seq 1 20); do
    ids+=("$(bin/syncq enqueue --service hello --action greet --target-id "u$i" --payload "{\"name\":\"ada $i\"}")")
done
for id in "${ids[@]}"; do wait_for 30 "greet $id" ended "$id"; done
assert_eq "$(count "service = 'hello' AND action = 'greet' AND status = 'success'")" 20 "greet jobs succeeded"
assert_eq "$(q "SELECT result->>'greeting' || ' by ' || (result->>'by') FROM syncq_jobs WHERE job_id = '${ids[6]}'")" \
    "hello, ada 7 by hello.so" "the plugin's result in the audit row"

fid=$(bin/syncq enqueue --service hello --action flaky --target-id f1 --payload '{"fail_times":2,"retry_after_ms":400}')
wait_for 30 "flaky job" ended "$fid"
assert_eq "$(q "SELECT status || ' ' || attempts FROM syncq_jobs WHERE job_id = '$fid'")" "success 3" "transient twice, then success"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE job_id = '$fid' AND outcome = 'transient' AND due_at >= at + interval '400 ms'")" 2 \
    "retries no sooner than retry_after_ms"
assert_eq "$(q "SELECT error FROM syncq_job_events WHERE job_id = '$fid' AND outcome = 'transient' ORDER BY attempt LIMIT 1")" \
    "the upstream is busy (attempt 1 of the 2 that fail)" "the transient reason"

hid=$(bin/syncq enqueue --service hello --action fetch --scope example.org --target-id z)
oid=$(bin/syncq enqueue --service hello --action fetch --scope example.org --target-id o --payload '{"target":"http://127.0.0.2:9/zones"}')
wait_for 30 "fetch job" ended "$hid"
wait_for 30 "fetch elsewhere" ended "$oid"
assert_eq "$(q "SELECT result->>'http_status' || ' ' || (result->>'records') FROM syncq_jobs WHERE job_id = '$hid'")" "200 7" \
    "GET through the helper, with the service's auth"
assert_eq "$(mock GET /_admin/oauth | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["fetches"])')" 1 \
    "OAuth2 tokens the helper fetched (the mock answers 401 without one)"
assert_eq "$(q "SELECT status || ': ' || last_error FROM syncq_jobs WHERE job_id = '$oid'")" \
    "dead: GET http://127.0.0.2:9/zones: refused: http://127.0.0.2:9/zones is not on the origin of hello's base_url" "another origin"

pw="pw-$RANDOM$RANDOM"
sid=$(bin/syncq enqueue --service hello --action greet --target-id s --payload "{\"fail\":\"permanent\",\"password\":\"$pw\"}")
wait_for 30 "failing greet" ended "$sid"
assert_eq "$(q "SELECT status FROM syncq_jobs WHERE job_id = '$sid'")" dead "a permanent outcome"
q "SELECT last_error FROM syncq_jobs WHERE job_id = '$sid'" | grep -q 'refusing to greet: {"fail":"permanent","password":"\*\*\*\*\*\*\*\*"}' ||
    fail "the reason is not masked as expected: $(q "SELECT last_error FROM syncq_jobs WHERE job_id = '$sid'")"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE error LIKE '%$pw%'") $(count "last_error LIKE '%$pw%'")" "0 0" "the password in the audit"
if grep -q "$pw" "$W/worker.log"; then fail "the password reached the worker log"; fi
echo "ok: the secret the plugin quoted is masked"
# the per-target lock: another job holds (hello, scope, t-locked); this one waits for it
r SET "$SYNCQ_PREFIX:{urgent}:lock:hello:example.org:t-locked" someone-else PX 1500 > /dev/null
lid=$(bin/syncq enqueue --service hello --action greet --scope example.org --target-id t-locked --payload '{"name":"late"}')
wait_for 30 "the locked target's job" ended "$lid"
assert_eq "$(q "SELECT status || ' ' || attempts FROM syncq_jobs WHERE job_id = '$lid'")" "success 1" "a job deferred by the lock, then run"
grep "\"job_id\":\"$lid\"" "$W/worker.log" | grep -q '"event":"job.defer".*another mutation of this target is running' ||
    fail "no deferral of $lid for the lock in the worker log"
echo "ok: the plugin's mutation waited for the target's lock"
bin/syncq status "${ids[0]}" | grep -q ": success in queue urgent" || fail "syncq status of a plugin job: $(bin/syncq status "${ids[0]}")"
stop_worker
