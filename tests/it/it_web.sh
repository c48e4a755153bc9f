#!/bin/bash
# `syncq web` against the real servers, with curl: it refuses to start
# without a users file (and --insecure-local off loopback); no session is a
# 401 (API) or a redirect to the login (pages); a viewer's POST is a 403; a
# POST without the session's CSRF token is refused; a manager's retry and a
# dead-letter replay each make exactly one new job, audited with the user
# as actor; bearer tokens work for /api/ only with the right secret; every
# answer carries the security headers; job values reach the page escaped.
. "$(dirname "$0")/../lib.sh"

unset SYNCQ_WEB_USERS
rc=0
bin/syncq web --port 0 2>"$W/err" || rc=$?
assert_eq "$rc" 64 "no users file, no --insecure-local"
grep -q 'SYNCQ_WEB_USERS' "$W/err" || fail "the refusal does not say what to set: $(cat "$W/err")"
rc=0
bin/syncq web --insecure-local --listen 0.0.0.0 --port 0 2>/dev/null || rc=$?
assert_eq "$rc" 64 "--insecure-local off loopback"
echo 'alice:boss:$y$x' > "$W/bad-users"
rc=0
SYNCQ_WEB_USERS="$W/bad-users" bin/syncq web --port 0 2>"$W/err" || rc=$?
assert_eq "$rc" 64 "a bad users file"
grep -q 'line 1: bad role' "$W/err" || fail "the bad line is not named: $(cat "$W/err")"

export SYNCQ_WEB_USERS="$W/users"
printf 'manager-pw-1\n' | bin/syncq web passwd alice --role manager >/dev/null
printf 'viewer-pw-1\n' | bin/syncq web passwd bob --role viewer >/dev/null
token=$(bin/syncq web token alice)
assert_eq "$(stat -c %a "$W/users")" 600 "the users file's mode"
grep -q 'manager-pw-1' "$W/users" && fail "a password in clear in the users file"
grep -q "${token#alice.}" "$W/users" && fail "a token in clear in the users file"

start_worker -c 1 -q default
bin/syncq enqueue -q default --id dead-1 --service syncq --action fail --payload '{"permanent":true}' >/dev/null
bin/syncq enqueue -q default --id dead-2 --service syncq --action fail --payload '{"permanent":true}' >/dev/null
bin/syncq enqueue -q default --id xss-1 --service syncq --action noop --target-id '"><img src=x onerror=alert(1)>' \
    --payload '{"note":"<script>alert(1)</script>","token":"s3cret-xyz"}' >/dev/null
settled() { [ "$(count "job_id IN ('dead-1', 'dead-2', 'xss-1') AND status IN ('dead', 'success')")" = 3 ]; }
wait_for 20 "the jobs to settle" settled

bin/syncq web --port 0 --port-file "$W/web.port" >"$W/web.log" 2>&1 &
WEB=$!
ON_EXIT="kill $WEB 2>/dev/null; $ON_EXIT"
wait_for 10 "the console to listen" test -s "$W/web.port"
BASE="http://127.0.0.1:$(cat "$W/web.port")"

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
login() { # name password jar: the status of the login POST
    curl -s -c "$3" -b "$3" "$BASE/login" > "$W/login.html"
    local tok
    tok=$(sed -n 's/.*name="login_token" value="\([0-9a-f]*\)".*/\1/p' "$W/login.html")
    code -c "$3" -b "$3" --data-urlencode "name=$1" --data-urlencode "password=$2" --data-urlencode "login_token=$tok" \
        "$BASE/login"
}
csrf() { curl -s -b "$1" "$BASE/jobs" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n 1; }

# no session
assert_eq "$(code "$BASE/api/jobs")" 401 "the API without a session"
assert_eq "$(code "$BASE/jobs")" 303 "a page without a session (to the login)"
assert_eq "$(code -X POST -d id=dead-1 "$BASE/api/job/retry")" 401 "an API POST without a session"
assert_eq "$(code "$BASE/nope")" 404 "an unknown path"

# headers
curl -s -D "$W/headers" -o /dev/null "$BASE/login"
grep -qi "^content-security-policy: default-src 'none'; script-src 'self'" "$W/headers" || fail "no strict CSP: $(cat "$W/headers")"
grep -qi '^x-frame-options: DENY' "$W/headers" || fail "no X-Frame-Options"
grep -qi '^x-content-type-options: nosniff' "$W/headers" || fail "no nosniff"

# logins
assert_eq "$(login bob wrong-password "$W/bob")" 401 "a wrong password"
assert_eq "$(login bob viewer-pw-1 "$W/bob")" 303 "the viewer logs in"
grep -q 'syncq_session' "$W/bob" || fail "no session cookie"
curl -s -D "$W/h2" -o /dev/null -c "$W/tmpjar" -b "$W/tmpjar" "$BASE/login"
tok=$(curl -s -c "$W/j3" -b "$W/j3" "$BASE/login" | sed -n 's/.*name="login_token" value="\([0-9a-f]*\)".*/\1/p')
curl -s -D "$W/h3" -o /dev/null -c "$W/j3" -b "$W/j3" -d "name=bob&password=viewer-pw-1&login_token=$tok" "$BASE/login"
grep -qi '^set-cookie: syncq_session=[0-9a-f]*; Path=/; HttpOnly; SameSite=Strict' "$W/h3" || fail "the session cookie's flags: $(grep -i set-cookie "$W/h3")"
assert_eq "$(code -c "$W/j4" -b "$W/j4" -d "name=bob&password=viewer-pw-1&login_token=forged" "$BASE/login")" 403 "a login without the form's token"
assert_eq "$(code -b "$W/bob" "$BASE/jobs")" 200 "the viewer reads the jobs page"
assert_eq "$(code -b "$W/bob" "$BASE/api/jobs?status=dead")" 200 "the viewer reads the API with the cookie"
bcsrf=$(csrf "$W/bob")
[ -n "$bcsrf" ] || fail "no CSRF token on the viewer's page"
assert_eq "$(code -b "$W/bob" -d "id=dead-1&csrf=$bcsrf" "$BASE/job/retry")" 403 "a viewer's retry"
assert_eq "$(code -b "$W/bob" -d "queue=default&op=pause&csrf=$bcsrf" "$BASE/queues")" 403 "a viewer's pause"
curl -s -b "$W/bob" "$BASE/job?id=dead-1" > "$W/bob-dead.html"
grep -q 'id="retry"' "$W/bob-dead.html" && fail "the viewer sees a retry button"
curl -s -b "$W/bob" "$BASE/dlq" > "$W/bob-dlq.html"
grep -q 'Replay' "$W/bob-dlq.html" && fail "the viewer sees replay buttons"
assert_eq "$(count "replayed_from IS NOT NULL")" 0 "no job made by the refused POSTs"

# the manager
assert_eq "$(login alice manager-pw-1 "$W/alice")" 303 "the manager logs in"
assert_eq "$(code -b "$W/alice" -d "id=dead-1" "$BASE/job/retry")" 403 "a POST without the CSRF token"
assert_eq "$(code -b "$W/alice" -d "id=dead-1&csrf=$bcsrf" "$BASE/job/retry")" 403 "a POST with another session's token"
acsrf=$(csrf "$W/alice")
assert_eq "$(code -b "$W/alice" -d "id=dead-1&csrf=$acsrf" "$BASE/job/retry")" 303 "the manager's retry"
assert_eq "$(count "replayed_from = 'dead-1'")" 1 "exactly one new job from the retry"
assert_eq "$(code -b "$W/alice" -d "id=dead-1&csrf=$acsrf" "$BASE/job/retry")" 303 "a second retry (refused, reported)"
curl -s -b "$W/alice" "$BASE/job?id=dead-1" | grep -q 'already' || fail "the refusal is not shown on the job page"
replayed_event() { [ "$(q "SELECT count(*) FROM syncq_job_events WHERE job_id = 'dead-1' AND event = 'replayed' AND error LIKE '%web:alice%'")" = 1 ]; }
wait_for 10 "the replayed event naming web:alice" replayed_event
assert_eq "$(count "replayed_from = 'dead-1'")" 1 "still exactly one new job"

# dead-letter replay: a confirmation with the count, then one new job
curl -s -b "$W/alice" -d "op=replay&id=dead-2&csrf=$acsrf" "$BASE/dlq" > "$W/confirm.html"
grep -q 'Replay 1 dead-letter job?' "$W/confirm.html" || fail "no confirmation with the count"
assert_eq "$(count "replayed_from = 'dead-2'")" 0 "nothing replayed before the confirmation"
# a dead-letter action runs in the background: its page shows the progress and then the report
task_done() { curl -s -b "$W/alice" "$BASE$1" | grep -q 'data-done="1"'; }
curl -s -D "$W/rh" -o /dev/null -b "$W/alice" -d "op=replay&id=dead-2&confirm=1&csrf=$acsrf" "$BASE/dlq"
task=$(sed -n 's/^[Ll]ocation: \(\/dlq\/task?id=[0-9]*\).*/\1/p' "$W/rh" | tr -d '\r')
[ -n "$task" ] || fail "the confirmed replay does not lead to its task page: $(cat "$W/rh")"
wait_for 20 "the replay task to end" task_done "$task"
curl -s -b "$W/alice" "$BASE$task" | grep -q '1 of 1 replayed' || fail "the task page's progress: $(curl -s -b "$W/alice" "$BASE$task")"
assert_eq "$(count "replayed_from = 'dead-2'")" 1 "exactly one new job from the dead-letter replay"
curl -s -D "$W/rh" -o /dev/null -b "$W/alice" -d "op=replay&id=dead-2&confirm=1&csrf=$acsrf" "$BASE/dlq"
task=$(sed -n 's/^[Ll]ocation: \(\/dlq\/task?id=[0-9]*\).*/\1/p' "$W/rh" | tr -d '\r')
wait_for 20 "the second replay task to end" task_done "$task"
curl -s -b "$W/alice" "$BASE$task" | grep -q 'not in dead-letter' || fail "the second replay's report"
assert_eq "$(count "replayed_from = 'dead-2'")" 1 "still exactly one"

# purge of all matching: the replays died again (permanent failures); the count first, then the purge
two_dead() { [ "$(r ZCARD "$(key default dead)")" = 2 ]; }
wait_for 20 "the two replays to die" two_dead
curl -s -b "$W/alice" -d "op=purge&matching=1&service=syncq&action=fail&csrf=$acsrf" "$BASE/dlq" > "$W/confirm2.html"
grep -q 'Purge 2 dead-letter jobs (all that match the filters)?' "$W/confirm2.html" || fail "no purge confirmation with the count"
assert_eq "$(r ZCARD "$(key default dead)")" 2 "nothing purged before the confirmation"
assert_eq "$(code -b "$W/alice" -d "op=purge&matching=1&service=syncq&action=fail&confirm=1&csrf=$acsrf" "$BASE/dlq")" 303 "the confirmed purge"
none_dead() { [ "$(r ZCARD "$(key default dead)")" = 0 ]; }
wait_for 20 "every matching dead letter purged" none_dead
purged() { [ "$(q "SELECT count(*) FROM syncq_job_events WHERE event = 'purged' AND error LIKE '%web:alice%'")" = 2 ]; }
wait_for 10 "two purged events naming web:alice" purged
curl -s -H "Authorization: Bearer $token" "$BASE/api/dlq" | grep -q '"matching":0' || fail "the dead-letter API after the purge"

# bearer tokens
assert_eq "$(code -H "Authorization: Bearer $token" "$BASE/api/jobs")" 200 "a bearer token on the API"
assert_eq "$(code -H "Authorization: Bearer alice.00000000" "$BASE/api/jobs")" 401 "a wrong bearer token"
assert_eq "$(code -H "Authorization: Bearer $token" "$BASE/jobs")" 303 "a bearer token is for /api/ only"
curl -s -H "Authorization: Bearer $token" "$BASE/api/job?id=xss-1" > "$W/xss.json"
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["id"]=="xss-1", d' "$W/xss.json" || fail "the job's JSON twin"
grep -q 's3cret-xyz' "$W/xss.json" && fail "the API shows an unmasked secret"
curl -s -H "Authorization: Bearer $token" "$BASE/api/overview" > "$W/overview.json"
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert any(q["name"]=="default" for q in d["queues"]), d' \
    "$W/overview.json" || fail "the overview's JSON twin"

# escaping: the job's values are text on every page
for page in "/job?id=xss-1" "/jobs" "/"; do
    curl -s -b "$W/alice" "$BASE$page" > "$W/page.html"
    grep -q '<script>alert' "$W/page.html" && fail "$page: a <script> from a job reached the page"
    grep -q '<img src=x' "$W/page.html" && fail "$page: an <img> from a job reached the page"
    grep -q 's3cret-xyz' "$W/page.html" && fail "$page: an unmasked secret"
done
curl -s -b "$W/alice" "$BASE/job?id=xss-1" | grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' || fail "the payload is not shown as text"

# queues: pause and resume by the manager
assert_eq "$(code -b "$W/alice" -d "queue=default&op=pause&csrf=$acsrf" "$BASE/queues")" 303 "the manager pauses"
assert_eq "$(r EXISTS "$(key default paused)")" 1 "the queue is paused"
assert_eq "$(code -b "$W/alice" -d "queue=default&op=resume&csrf=$acsrf" "$BASE/queues")" 303 "the manager resumes"
assert_eq "$(r EXISTS "$(key default paused)")" 0 "the queue runs again"

# TLS: HTTPS with a certificate and key (libmicrohttpd's GnuTLS); cookies get Secure
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/key.pem" -out "$W/cert.pem" -days 2 -subj /CN=localhost \
    >/dev/null 2>&1 || fail "openssl could not make a test certificate"
bin/syncq web --port 0 --port-file "$W/tls.port" --cert "$W/cert.pem" --key "$W/key.pem" >"$W/tls.log" 2>&1 &
TLS=$!
ON_EXIT="kill $TLS 2>/dev/null; $ON_EXIT"
wait_for 10 "the TLS console to listen" test -s "$W/tls.port"
TBASE="https://127.0.0.1:$(cat "$W/tls.port")"
tok=$(curl -sk -c "$W/tjar" -b "$W/tjar" "$TBASE/login" | sed -n 's/.*name="login_token" value="\([0-9a-f]*\)".*/\1/p')
curl -sk -D "$W/th" -o /dev/null -c "$W/tjar" -b "$W/tjar" -d "name=bob&password=viewer-pw-1&login_token=$tok" "$TBASE/login"
grep -qi '^set-cookie: syncq_session=[0-9a-f]*; Path=/; HttpOnly; SameSite=Strict; Secure' "$W/th" || fail "no Secure session cookie over TLS: $(grep -i set-cookie "$W/th")"
grep -qi '^strict-transport-security:' "$W/th" || fail "no HSTS over TLS"
assert_eq "$(code -k -b "$W/tjar" "$TBASE/api/jobs")" 200 "the API over TLS with the session"
assert_eq "$(code "http://127.0.0.1:$(cat "$W/tls.port")/login")" 000 "plain HTTP on the TLS port"
rc=0
bin/syncq web --port 0 --cert "$W/cert.pem" 2>/dev/null || rc=$?
assert_eq "$rc" 64 "--cert without --key"

# logout ends the session
assert_eq "$(code -b "$W/alice" -d "csrf=$acsrf" "$BASE/logout")" 303 "logout"
assert_eq "$(code -b "$W/alice" "$BASE/api/jobs")" 401 "the old session after logout"
stop_worker
