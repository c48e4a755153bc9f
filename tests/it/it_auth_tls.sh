#!/bin/bash
# Issue 12 item 3, TLS per service (docs/HANDLERS.md "Auth"): the mock serves
# HTTPS with a certificate of a CA the test makes and asks clients for a
# certificate of another CA (mTLS). With the right CA bundle and client
# certificate (a plain key, and a key encrypted with a password from the
# environment) the jobs succeed; with the wrong CA bundle the job fails
# permanently, on its first attempt, saying TLS refused the certificate;
# without a client certificate the server refuses the connection and the
# job never succeeds (whether the refusal reaches us as a TLS alert, which
# is permanent, or only as a dropped connection, which is retried, is a race
# in the server's close).
. "$(dirname "$0")/../lib.sh"

cd "$W"
ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() { # name
    ec "$1.key"
    openssl req -x509 -new -key "$1.key" -out "$1.crt" -days 2 -subj "/CN=syncq test $1" 2>/dev/null
}
leaf() { # name ca subjectAltName extendedKeyUsage
    ec "$1.key"
    openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
    printf 'subjectAltName=%s\nextendedKeyUsage=%s\n' "$3" "$4" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -out "$1.crt" -days 2 \
        -extfile "$1.ext" 2>/dev/null
}
ca server_ca
ca client_ca
ca other_ca
leaf server server_ca IP:127.0.0.1 serverAuth
leaf client client_ca DNS:syncq-worker clientAuth
export CLIENT_KEY_PASS="kp-$RANDOM$RANDOM-KEYSECRET"
openssl pkey -in client.key -aes256 -passout env:CLIENT_KEY_PASS -out client_enc.key
grep -q ENCRYPTED client_enc.key || fail "the encrypted client key is not encrypted"
cd - >/dev/null

export MOCK_TOKEN="tok-$RANDOM"
/usr/bin/python3 tests/mock/mock_service.py --port 0 --port-file "$W/port" --token "$MOCK_TOKEN" \
    --tls-cert "$W/server.crt" --tls-key "$W/server.key" --tls-client-ca "$W/client_ca.crt" > "$W/mock.log" 2>&1 &
MOCK=$!
ON_EXIT="kill $MOCK 2>/dev/null; $ON_EXIT"
wait_for 10 "the mock service" test -s "$W/port"
port=$(cat "$W/port")
mocks() { curl -s --cacert "$W/server_ca.crt" --cert "$W/client.crt" --key "$W/client.key" "https://127.0.0.1:$port$1"; }
mocks /_admin/health | grep -q '"ok"' || fail "the mock does not answer over mTLS"
st=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$W/server_ca.crt" "https://127.0.0.1:$port/_admin/health" || true)
[ "$st" != 200 ] || fail "the mock let a client without a certificate in"

svc() { # name tls-members
    cat <<JSON
    "$1": {
      "base_url": "https://127.0.0.1:$port",
      "headers": {"Authorization": "Bearer \${MOCK_TOKEN}"},
      "tls": {$2},
      "resources": {"records": {"natural_key": ["name", "type"],
        "list": {"path": "/zones/{scope}/records", "items": "data", "pagination": {"style": "page"}},
        "actions": {"create_record": {"op": "create", "method": "POST", "path": "/zones/{scope}/records",
                                      "max_attempts": 2, "backoff_base_ms": 50}}}}
    }
JSON
}
{
    echo '{"services": {'
    svc good "\"ca_file\": \"$W/server_ca.crt\", \"cert_file\": \"$W/client.crt\", \"key_file\": \"$W/client.key\""; echo ,
    svc enc "\"ca_file\": \"$W/server_ca.crt\", \"cert_file\": \"$W/client.crt\", \"key_file\": \"$W/client_enc.key\",
             \"key_password\": \"\${CLIENT_KEY_PASS}\""; echo ,
    svc wrongca "\"ca_file\": \"$W/other_ca.crt\", \"cert_file\": \"$W/client.crt\", \"key_file\": \"$W/client.key\""; echo ,
    svc nocert "\"ca_file\": \"$W/server_ca.crt\""
    echo '}}'
} > "$W/services.json"
export SYNCQ_SERVICES="$W/services.json"
start_worker -c 2 -q urgent

create() { bin/syncq enqueue --service "$1" --action create_record --scope "$1-zone" \
           --payload '{"name":"www","type":"A","content":"192.0.2.7","ttl":300}'; }
ended() { [ "$(count "job_id = '$1' AND status IN ('success', 'dead')")" = 1 ]; }
status_of() { q "SELECT status || ' ' || attempts FROM syncq_jobs WHERE job_id = '$1'"; }
err_of() { q "SELECT last_error FROM syncq_jobs WHERE job_id = '$1'"; }

g=$(create good); e=$(create enc); w=$(create wrongca); n=$(create nocert)
for id in "$g" "$e" "$w" "$n"; do wait_for 30 "job $id to end" ended "$id"; done

assert_eq "$(status_of "$g")" "success 1" "the job with the right CA and client certificate"
assert_eq "$(status_of "$e")" "success 1" "the job with an encrypted client key"
mocks "/_admin/records?zone=good-zone" | grep -q '"content":"192.0.2.7"' || fail "the record is not at the mock"

assert_eq "$(status_of "$w")" "dead 1" "the job with the wrong CA (permanent: one attempt)"
echo "wrong CA: $(err_of "$w")"
case "$(err_of "$w")" in *"TLS: "*certificate*) ;; *) fail "unclear reason for the wrong CA: $(err_of "$w")" ;; esac

echo "no client certificate: $(status_of "$n"): $(err_of "$n")"
case "$(status_of "$n")" in dead*) ;; *) fail "the job without a client certificate did not fail: $(status_of "$n")" ;; esac

stop_worker
dump=$("$SQ_PG_BIN/pg_dump" -h 127.0.0.1 -p "$SQ_PG_PORT" -U postgres --data-only "$DB")
if echo "$dump" | grep -o "KEYSECRET" | sort -u | grep .; then fail "the key password in PostgreSQL"; fi
if grep -o "KEYSECRET" "$W/worker.log" | sort -u | grep .; then fail "the key password in the log"; fi
echo "ok: the key password is in neither PostgreSQL nor the log"
