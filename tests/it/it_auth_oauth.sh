#!/bin/bash
# Issue 12 item 3, OAuth2 client credentials (docs/HANDLERS.md "Auth"): 200
# jobs over 4 children on 2 masters fetch the token exactly once (the mock
# counts its token requests; the token endpoint answers slowly, so children
# of both masters miss the cache together and must wait for one fetch); a
# token the service then refuses with 401 is dropped fleet-wide and fetched
# again once, and the job succeeds on that attempt; once the (short) expiry
# of that token passes, the next jobs fetch exactly one more and no request
# carries an expired token; a wrong client secret fails permanently with the
# token endpoint's reason. The client secret and every token issued are
# found nowhere in PostgreSQL, the logs or the CLI's output, and Redis holds
# the token only sealed.
. "$(dirname "$0")/../lib.sh"

export OAUTH_CLIENT_ID="syncq-app" OAUTH_CLIENT_SECRET="cs-$RANDOM$RANDOM-OAUTHSECRET" OAUTH_WRONG="wrong-$RANDOM-XSECRET"
start_mock
mock POST /_admin/oauth "{\"client_id\":\"$OAUTH_CLIENT_ID\",\"client_secret\":\"$OAUTH_CLIENT_SECRET\",\"expires_in\":60}" |
    grep -q ok || fail "mock oauth setup"
mock POST /_admin/latency '{"ms":300,"match":"/oauth/token"}' | grep -q ok || fail "mock latency"

svc() { # name client_secret_var client_auth
    cat <<JSON
    "$1": {
      "base_url": "http://127.0.0.1:$port",
      "auth": {"oauth2": {"token_url": "http://127.0.0.1:$port/oauth/token", "client_id": "\${OAUTH_CLIENT_ID}",
                          "client_secret": "\${$2}", "scope": "records:write", "client_auth": "$3"}},
      "resources": {"records": {"natural_key": ["name", "type"],
        "list": {"path": "/zones/{scope}/records", "items": "data", "pagination": {"style": "page"}},
        "actions": {"create_record": {"op": "create", "method": "POST", "path": "/zones/{scope}/records",
                                      "max_attempts": 3, "backoff_base_ms": 50}}}}
    }
JSON
}
{
    echo '{"services": {'
    svc dns OAUTH_CLIENT_SECRET basic; echo ,
    svc dns_post OAUTH_CLIENT_SECRET post; echo ,
    svc dns_bad OAUTH_WRONG basic
    echo '}}'
} > "$W/services.json"
export SYNCQ_SERVICES="$W/services.json"

start_worker -c 2 -q urgent
bin/syncq-worker -c 2 -q urgent --prefix "$SYNCQ_PREFIX" >>"$W/worker-b.log" 2>&1 &
B=$!
ON_EXIT="kill -KILL $B 2>/dev/null; $ON_EXIT"
six() { [ "$(r SCARD "$(fkey workers)")" -ge 6 ]; } # 2 masters x (2 children + 1 writer)
wait_for 10 "both masters' children registered" six

oauth() { mock GET /_admin/oauth | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
batch() { # first count
    for i in $(seq "$1" $(($1 + $2 - 1))); do
        printf '{"kind":"mutation","service":"dns","action":"create_record","scope":"z%d","payload":{"name":"www","type":"A","content":"192.0.2.1","ttl":300}}\n' "$i"
    done | bin/syncq enqueue --batch - >> "$W/cli.out" 2>&1
}
done_n() { [ "$(count "status = 'success'")" -ge "$1" ]; }

# 1. 200 jobs, 4 children, 2 masters: one token request
batch 1 200
wait_for 60 "200 jobs done" done_n 200
assert_eq "$(count "status = 'success'")" 200 "jobs succeeded"
assert_eq "$(oauth fetches)" 1 "token requests for 200 jobs over 4 children on 2 masters"
workers=$(q "SELECT count(DISTINCT worker) FROM syncq_jobs")
masters=$(q "SELECT count(DISTINCT split_part(worker, ':', 3)) FROM syncq_jobs")
echo "the jobs ran on $workers children of $masters masters"
[ "$masters" = 2 ] || fail "the jobs did not run on both masters ($masters)"
assert_eq "$(oauth rejected)" 0 "requests with an expired token"

# 2. the service stops accepting the token: refreshed once, the job succeeds on its first attempt
mock POST /_admin/oauth "{\"client_id\":\"$OAUTH_CLIENT_ID\",\"client_secret\":\"$OAUTH_CLIENT_SECRET\",\"expires_in\":2}" >/dev/null
mock POST /_admin/oauth/expire | grep -q ok || fail "mock expire"
batch 201 1
wait_for 20 "the job after the 401" done_n 201
assert_eq "$(q "SELECT attempts FROM syncq_jobs WHERE scope = 'z201'")" 1 "attempts of the job answered 401 once"
assert_eq "$(oauth rejected)" 1 "requests refused for the expired token"
assert_eq "$(oauth fetches)" 2 "token requests after the 401"
grep -hq '"oauth2.refused"' "$W"/worker*.log || fail "no oauth2.refused in the worker logs"

# 3. that token lives 2 s: once Redis has dropped it, the next 20 jobs fetch exactly one more
gone() { [ "$(r EXISTS "$SYNCQ_PREFIX:oauth2:dns")" = 0 ]; }
wait_for 10 "the 2-second token to leave Redis" gone
mock POST /_admin/oauth "{\"client_id\":\"$OAUTH_CLIENT_ID\",\"client_secret\":\"$OAUTH_CLIENT_SECRET\",\"expires_in\":60}" >/dev/null
batch 202 20
wait_for 30 "20 more jobs" done_n 221
assert_eq "$(oauth fetches)" 3 "token requests after the short token expired"
assert_eq "$(oauth rejected)" 1 "requests with an expired token (none new: it was dropped before its expiry)"
sealed=$(r GET "$SYNCQ_PREFIX:oauth2:dns")
[ -n "$sealed" ] || fail "no token in Redis"
case "$sealed" in *mock-at-*) fail "Redis holds the token in clear" ;; esac
echo "ok: Redis holds the token sealed (${#sealed} bytes of base64)"

# 4. a wrong client secret: permanent, with the token endpoint's reason
bad=$(bin/syncq enqueue --service dns_bad --action create_record --scope zb \
      --payload '{"name":"www","type":"A","content":"192.0.2.1","ttl":300}')
dead() { [ "$(count "job_id = '$bad' AND status = 'dead'")" = 1 ]; }
wait_for 20 "the wrong-secret job dead" dead
err=$(q "SELECT last_error FROM syncq_jobs WHERE job_id = '$bad'")
echo "error: $err"
case "$err" in *"OAuth2 token endpoint answered HTTP 401"*invalid_client*) ;; *) fail "unclear reason: $err" ;; esac
assert_eq "$(q "SELECT attempts FROM syncq_jobs WHERE job_id = '$bad'")" 1 "attempts of the wrong-secret job (permanent)"
bin/syncq status "$bad" >> "$W/cli.out" 2>&1 || true

# 5. the client in the form body (client_auth post) instead of HTTP Basic: its own token, one fetch
p=$(bin/syncq enqueue --service dns_post --action create_record --scope zp \
    --payload '{"name":"www","type":"A","content":"192.0.2.1","ttl":300}')
posted() { [ "$(count "job_id = '$p' AND status = 'success'")" = 1 ]; }
wait_for 20 "the client_auth post job" posted
assert_eq "$(oauth fetches)" 4 "token requests after the first dns_post job"

# no secret anywhere: the client secrets, every token issued
kill -TERM "$B"
wait "$B" || fail "master B exit code"
stop_worker
secrets=$(mock GET /_admin/oauth | /usr/bin/python3 -c "import json,sys; print('\n'.join(json.load(sys.stdin)['issued']))")
assert_eq "$(echo "$secrets" | wc -l)" 4 "tokens issued"
printf '%s\n%s\n%s\n' "$secrets" "$OAUTH_CLIENT_SECRET" "$OAUTH_WRONG" > "$W/secrets.txt"
dump=$("$SQ_PG_BIN/pg_dump" -h 127.0.0.1 -p "$SQ_PG_PORT" -U postgres --data-only "$DB")
if echo "$dump" | grep -oFf "$W/secrets.txt" | sort -u | grep .; then fail "a secret in PostgreSQL"; fi
if echo "$dump" | grep -o 'mock-at-[0-9a-f]*' | grep .; then fail "a token in PostgreSQL"; fi
if cat "$W"/worker*.log "$W/cli.out" | grep -oFf "$W/secrets.txt" | sort -u | grep .; then fail "a secret in a log or the CLI output"; fi
if cat "$W"/worker*.log "$W/cli.out" | grep -o 'mock-at-[0-9a-f]*' | grep .; then fail "a token in a log"; fi
redis_text > "$W/redis.txt"
grep -q "oauth2:dns_post" "$W/redis.txt" || fail "the Redis dump misses the token keys"
if grep -oFf "$W/secrets.txt" "$W/redis.txt" | sort -u | grep .; then fail "a secret in Redis"; fi
if grep -o 'mock-at-[0-9a-f]*' "$W/redis.txt" | grep .; then fail "a token in clear in Redis"; fi
echo "ok: neither client secret nor any of the 4 tokens in PostgreSQL, Redis, the logs or the CLI output"
