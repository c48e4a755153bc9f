#!/bin/bash
# Issue 9 item 8: a dead job's error text is masked before it is stored in
# Redis (the dead-letter wrapper's err=), so syncq status and any reader of
# Redis never see the secrets it quotes.
. "$(dirname "$0")/../lib.sh"

# redis_text: every value under this test's prefix, as text
redis_text() {
    r --scan --pattern "$SYNCQ_PREFIX*" | while read -r k; do
        case "$(r TYPE "$k")" in
            string) r GET "$k" ;;
            list) r LRANGE "$k" 0 -1 ;;
            hash) r HGETALL "$k" ;;
            zset) r ZRANGE "$k" 0 -1 ;;
            set) r SMEMBERS "$k" ;;
        esac
    done
}

msg='postgres://app:DEADSECRET1@db/x password: DEADSECRET2'
id=$(bin/syncq enqueue --queue default --service syncq --action fail \
    --payload "{\"permanent\":true,\"message\":\"$msg\"}")
start_worker -c 1 -q default
dead() { bin/syncq status "$id" | grep -q "dead in queue default"; }
wait_for 20 "the job dead-lettered" dead
out=$(bin/syncq status "$id" 2>&1)
echo "$out"
echo "$out" | grep -q "app:\*\*\*\*\*\*\*\*@db" || fail "status does not show the masked error: $out"
if echo "$out" | grep -o 'DEADSECRET[0-9]'; then fail "syncq status printed a secret"; fi
# The dead letter keeps the envelope as sent (dlq show --reveal needs it), so
# look at the wrapper lines only: their err= is the error text.
redis_text | grep -a '^~syncq1' > "$W/headers.txt" || true
cat "$W/headers.txt"
grep -q " err=.*dead=" "$W/headers.txt" || fail "no dead-letter wrapper with an error in Redis"
if grep -o 'DEADSECRET[0-9]' "$W/headers.txt" | sort -u | grep .; then fail "secret in a wrapper line in Redis"; fi
echo "ok: no secret in $(wc -l < "$W/headers.txt") wrapper lines in Redis"
wait_for 20 "the dead audit row" test "$(count "job_id = '$id' AND status = 'dead'")" = 1
if q "SELECT last_error FROM syncq_jobs" | grep -o 'DEADSECRET[0-9]'; then fail "secret in the audit"; fi
stop_worker
if grep -o 'DEADSECRET[0-9]' "$W/worker.log" | sort -u | grep .; then fail "secret in the worker log"; fi
echo "ok"
