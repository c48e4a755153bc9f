#!/bin/bash
# Issue 12 item 3 (the plus): AWS Signature Version 4 per service (docs/HANDLERS.md
# "Auth"). Mutations (a POST with a body and a query, a scope that needs
# percent-encoding in the path) and a sync's paged list calls, signed with a
# session token, verify at the mock, whose checker is written from AWS's
# description apart from the C code; a wrong secret key is answered 403 and
# fails permanently with AWS's reason; the secret key and the session token
# are found nowhere in PostgreSQL or the logs.
. "$(dirname "$0")/../lib.sh"

export AWS_KEY_ID="AKIDSYNCQTEST" AWS_SECRET="sk-$RANDOM$RANDOM-AWSSECRET" AWS_TOKEN="st-$RANDOM$RANDOM-AWSTOKEN"
export AWS_WRONG="sw-$RANDOM$RANDOM-AWSWRONG"
start_mock
mock POST /_admin/sigv4 "{\"access_key_id\":\"$AWS_KEY_ID\",\"secret_access_key\":\"$AWS_SECRET\",\"region\":\"eu-west-1\",\"service\":\"execute-api\"}" |
    grep -q ok || fail "mock sigv4 setup"
mock POST /_admin/seed '{"zone":"ex@a","count":250}' >/dev/null

svc() { # name secret_var
    cat <<JSON
    "$1": {
      "base_url": "http://127.0.0.1:$port",
      "auth": {"aws_sigv4": {"region": "eu-west-1", "service": "execute-api", "access_key_id": "\${AWS_KEY_ID}",
                             "secret_access_key": "\${$2}", "session_token": "\${AWS_TOKEN}"}},
      "resources": {"records": {"natural_key": ["name", "type"], "hash_fields": ["name", "type", "content"],
        "list": {"path": "/zones/{scope}/records", "items": "data", "pagination": {"style": "page", "size": 100}},
        "actions": {"create_record": {"op": "create", "method": "POST", "path": "/zones/{scope}/records?src=syncq&a=1",
                                      "max_attempts": 3, "backoff_base_ms": 50}}}}
    }
JSON
}
{ echo '{"services": {'; svc aws AWS_SECRET; echo ,; svc aws_wrong AWS_WRONG; echo '}}'; } > "$W/services.json"
export SYNCQ_SERVICES="$W/services.json"
start_worker -c 2 -q urgent,sync

verdicts() { mock GET /_admin/sigv4 | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print(d['ok'], d['bad'])"; }
for i in 1 2 3 4 5; do
    bin/syncq enqueue --service aws --action create_record --scope "ex@a" \
        --payload "{\"name\":\"new$i\",\"type\":\"A\",\"content\":\"192.0.2.$i\",\"ttl\":300}" >> "$W/cli.out"
done
sid=$(bin/syncq enqueue --kind sync --service aws --action sync_records --scope "ex@a")
done_all() { [ "$(count "service = 'aws' AND status = 'success'")" = 6 ]; }
wait_for 30 "5 creates and a sync" done_all
# 5 creates + 3 pages of 100 (255 records)
assert_eq "$(verdicts)" "8 0" "SigV4 requests verified / refused at the mock"
assert_eq "$(q "SELECT count(*) FROM syncq_snapshots WHERE service = 'aws' AND scope = 'ex@a'")" 255 \
    "snapshot rows of the signed sync"
assert_eq "$(q "SELECT max(attempts) FROM syncq_jobs WHERE service = 'aws'")" 1 "attempts of the signed jobs"

bad=$(bin/syncq enqueue --service aws_wrong --action create_record --scope zw \
      --payload '{"name":"www","type":"A","content":"192.0.2.9","ttl":300}')
dead() { [ "$(count "job_id = '$bad' AND status = 'dead'")" = 1 ]; }
wait_for 20 "the wrong-secret job dead" dead
err=$(q "SELECT last_error FROM syncq_jobs WHERE job_id = '$bad'")
echo "error: $err"
case "$err" in *"HTTP 403 from aws_wrong"*SignatureDoesNotMatch*"signed with auth.aws_sigv4"*) ;; *) fail "unclear reason: $err" ;; esac
assert_eq "$(q "SELECT attempts FROM syncq_jobs WHERE job_id = '$bad'")" 1 "attempts of the wrong-secret job"

stop_worker
dump=$("$SQ_PG_BIN/pg_dump" -h 127.0.0.1 -p "$SQ_PG_PORT" -U postgres --data-only "$DB")
if echo "$dump" | grep -o "AWSSECRET\|AWSTOKEN\|AWSWRONG" | sort -u | grep .; then fail "a secret in PostgreSQL"; fi
if cat "$W/worker.log" "$W/cli.out" | grep -o "AWSSECRET\|AWSTOKEN\|AWSWRONG" | sort -u | grep .; then fail "a secret in the log"; fi
echo "ok: neither secret key nor session token in PostgreSQL or the logs"
