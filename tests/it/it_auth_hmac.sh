#!/bin/bash
# Issue 12 item 3, HMAC request signing (docs/HANDLERS.md "Auth"): jobs of
# three services signed three ways verify at the mock, which checks each
# scheme with its own code (GitHub's X-Hub-Signature-256 over the body,
# Stripe's timestamped Stripe-Signature, a canonical request of method,
# target, timestamp header and body in base64 HMAC-SHA512); a service whose
# key is wrong fails permanently on its first attempt with the reason; the
# keys are found nowhere in PostgreSQL or the logs.
. "$(dirname "$0")/../lib.sh"

export HOOK_KEY="hk-$RANDOM$RANDOM-HMACSECRET" HOOK_WRONG="hw-$RANDOM$RANDOM-WRONGSECRET"
start_mock

svc() { # name auth.hmac members
    cat <<JSON
    "$1": {
      "base_url": "http://127.0.0.1:$port",
      "headers": {"Authorization": "Bearer \${MOCK_TOKEN}"},
      "auth": {"hmac": {$2}},
      "resources": {"records": {"natural_key": ["name", "type"],
        "list": {"path": "/zones/{scope}/records", "items": "data", "pagination": {"style": "page"}},
        "actions": {"create_record": {"op": "create", "method": "POST", "path": "/zones/{scope}/records?src=syncq",
                                      "max_attempts": 3, "backoff_base_ms": 50}}}}
    }
JSON
}
{
    echo '{"services": {'
    svc gh '"key": "${HOOK_KEY}", "header": "X-Hub-Signature-256", "format": "sha256={signature}"'; echo ,
    svc stripe '"key": "${HOOK_KEY}", "header": "Stripe-Signature", "message": "{timestamp}.{body}",
                "format": "t={timestamp},v1={signature}"'; echo ,
    svc canon '"key": "${HOOK_KEY}", "algorithm": "sha512", "encoding": "base64", "header": "X-Signature",
               "message": "{method}\n{path}\n{timestamp}\n{body}", "timestamp_header": "X-Timestamp"'; echo ,
    svc gh_wrong '"key": "${HOOK_WRONG}", "header": "X-Hub-Signature-256", "format": "sha256={signature}"'
    echo '}}'
} > "$W/services.json"
export SYNCQ_SERVICES="$W/services.json"
start_worker -c 2 -q urgent

verdicts() { mock GET /_admin/hmac | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print(d['ok'], d['bad'])"; }
jobs() { # service n
    for i in $(seq 1 "$2"); do
        printf '{"kind":"mutation","service":"%s","action":"create_record","scope":"%s-%d","payload":{"name":"www","type":"A","content":"192.0.2.%d","ttl":300}}\n' "$1" "$1" "$i" "$i"
    done | bin/syncq enqueue --batch - >> "$W/cli.out" 2>&1
}
succeeded() { [ "$(count "service = '$1' AND status = 'success'")" = "$2" ]; }

ok_total=0
for scheme in github:gh stripe:stripe canonical:canon; do
    name=${scheme#*:}
    mock POST /_admin/hmac "{\"scheme\":\"${scheme%%:*}\",\"key\":\"$HOOK_KEY\"}" | grep -q ok || fail "mock hmac ${scheme%%:*}"
    jobs "$name" 5
    wait_for 20 "5 $name jobs" succeeded "$name" 5
    ok_total=$((ok_total + 5))
    assert_eq "$(verdicts)" "$ok_total 0" "signatures verified / refused at the mock after $name"
    assert_eq "$(q "SELECT max(attempts) FROM syncq_jobs WHERE service = '$name'")" 1 "attempts of the $name jobs"
done
mock GET /_admin/records?zone=canon-3 | grep -q '"content":"192.0.2.3"' || fail "the canon-3 record is not at the mock"

# the mock must refuse a request that is not signed right (the checks are real)
mock POST /_admin/hmac "{\"scheme\":\"github\",\"key\":\"$HOOK_KEY\"}" >/dev/null
st=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $MOCK_TOKEN" -H 'X-Hub-Signature-256: sha256=00' \
     "http://127.0.0.1:$port/zones/x/records")
assert_eq "$st" 401 "the mock's answer to a bad signature"

# a wrong key: permanent, first attempt, with the reason
jobs gh_wrong 1
dead() { [ "$(count "service = 'gh_wrong' AND status = 'dead'")" = 1 ]; }
wait_for 20 "the wrong-key job dead" dead
err=$(q "SELECT last_error FROM syncq_jobs WHERE service = 'gh_wrong'")
echo "error: $err"
case "$err" in *"HTTP 401 from gh_wrong"*"signature mismatch"*"signed with auth.hmac: check its key"*) ;;
    *) fail "unclear reason: $err" ;; esac
assert_eq "$(q "SELECT attempts FROM syncq_jobs WHERE service = 'gh_wrong'")" 1 "attempts of the wrong-key job"

stop_worker
dump=$("$SQ_PG_BIN/pg_dump" -h 127.0.0.1 -p "$SQ_PG_PORT" -U postgres --data-only "$DB")
if echo "$dump" | grep -o "HMACSECRET\|WRONGSECRET\|$MOCK_TOKEN" | sort -u | grep .; then fail "a key in PostgreSQL"; fi
if cat "$W/worker.log" "$W/cli.out" | grep -o "HMACSECRET\|WRONGSECRET\|$MOCK_TOKEN" | sort -u | grep .; then
    fail "a key in the log"
fi
redis_text > "$W/redis.txt"
grep -q "gh_wrong" "$W/redis.txt" || fail "the Redis dump misses the dead letter"
if grep -o "HMACSECRET\|WRONGSECRET\|$MOCK_TOKEN" "$W/redis.txt" | sort -u | grep .; then fail "a key in Redis"; fi
echo "ok: no key in PostgreSQL, Redis, the worker log or the CLI output"
