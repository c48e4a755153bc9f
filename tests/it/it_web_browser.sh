#!/bin/bash
# syncq web in a real browser: Debian chromium driven by playwright-core
# (tests/web/browser.mjs, installed here from tests/web/package-lock.json).
# A manager logs in, filters the jobs page, opens a dead job, retries it and
# sees the new job succeed; a viewer finds no action button; a payload with
# <script> and a target with "><img onerror> show as text and fire no
# dialog. Screenshots of each page go to $WEB_SHOTS (default: the test's
# directory); WEB_SHOTS=docs/screenshots refreshes the README's.
# test-timeout: 240
. "$(dirname "$0")/../lib.sh"

command -v chromium >/dev/null || fail "chromium is missing (apt-get install chromium; scripts/deps.sh)"
if [ ! -d tests/web/node_modules/playwright-core ]; then
    (cd tests/web && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in tests/web"
fi
SHOTS=${WEB_SHOTS:-$W/shots}
mkdir -p "$SHOTS"

export MOCK_TOKEN="tok-$RANDOM"
start_mock
mock_services dns.json.in
start_worker -c 2 -q urgent,default
# the first create is refused for good (400): dead; its retry succeeds
mock POST /_admin/fail '{"match":"/zones/example.org/records","status":400,"times":1}' >/dev/null
bin/syncq enqueue --id www-create --service dns --action create_record --scope example.org --actor user:42 \
    --payload '{"name":"www","type":"A","content":"192.0.2.10","ttl":300}' >/dev/null
dead() { [ "$(count "job_id = 'www-create' AND status = 'dead'")" = 1 ]; }
wait_for 20 "the create to die" dead
for i in 1 2 3 4 5 6; do
    bin/syncq enqueue -q default --service syncq --action noop --actor "user:$i" --target-id "t$i" >/dev/null
done
bin/syncq enqueue -q default --id fails-1 --service syncq --action fail --payload '{"permanent":true,"message":"upstream said no"}' >/dev/null
bin/syncq enqueue -q default --id xss-1 --service syncq --action noop --target-id '"><img src=x onerror=alert(1)>' \
    --payload '{"note":"<script>alert(1)</script>","api_key":"s3cret-xyz"}' >/dev/null
settled() { [ "$(count "status IN ('success', 'dead')")" = 9 ]; }
wait_for 20 "the jobs to settle" settled

export SYNCQ_WEB_USERS="$W/users"
printf 'manager-pw-1\n' | bin/syncq web passwd alice --role manager >/dev/null
printf 'viewer-pw-1\n' | bin/syncq web passwd bob --role viewer >/dev/null
bin/syncq web --port 0 --port-file "$W/web.port" >"$W/web.log" 2>&1 &
WEB=$!
ON_EXIT="kill $WEB 2>/dev/null; $ON_EXIT"
wait_for 10 "the console to listen" test -s "$W/web.port"

BASE="http://127.0.0.1:$(cat "$W/web.port")" SHOTS="$SHOTS" DEAD_ID=www-create XSS_ID=xss-1 \
    timeout 120 node tests/web/browser.mjs || fail "the browser checks (web log: $(tail -n 5 "$W/web.log"))"
echo "screenshots: $SHOTS"
ls "$SHOTS"
stop_worker
