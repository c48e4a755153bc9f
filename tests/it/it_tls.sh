#!/bin/bash
# Issue 15 part 4: TLS to Redis through the stunnel sidecar, and PostgreSQL
# with sslmode=verify-full. The test makes a CA and server certificates
# (openssl), starts a Redis that listens on a tls-port only (plain port 0)
# and a private PostgreSQL with ssl=on; deploy/stunnel-redis.conf, pointed at
# them, carries a worker's traffic: its jobs run and their audit rows reach
# PostgreSQL over verify-full. A plain-text client on the TLS port gets a clear
# error; PostgreSQL with a wrong CA, or a name the certificate does not carry,
# or a server without SSL, fails closed with libpq's clear error.
. "$(dirname "$0")/../lib.sh"

command -v stunnel4 >/dev/null || fail "stunnel4 is not installed (scripts/deps.sh)"
C="$W/certs"
mkdir -p "$C"
mkca() { # NAME: a self-signed CA
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=syncq test $1" \
        -keyout "$C/$1.key" -out "$C/$1.crt" 2>/dev/null
}
mkcert() { # NAME CA SAN: a server certificate signed by CA
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$C/$1.key" -out "$C/$1.csr" 2>/dev/null
    printf 'subjectAltName=%s\n' "$3" > "$C/$1.ext"
    openssl x509 -req -in "$C/$1.csr" -CA "$C/$2.crt" -CAkey "$C/$2.key" -CAcreateserial -days 2 \
        -extfile "$C/$1.ext" -out "$C/$1.crt" 2>/dev/null
}
mkca ca
mkca otherca
mkcert server ca "DNS:localhost"
[ -s "$C/server.crt" ] || fail "openssl made no certificate"

# ---- Redis on a TLS port only
private_redis redis-tls --tls-port @TLSPORT@ --tls-cert-file "$C/server.crt" --tls-key-file "$C/server.key" \
    --tls-ca-cert-file "$C/ca.crt" --tls-auth-clients no --save '3600 1'
TP=$RPORT
rt() { redis-cli --tls --cacert "$C/ca.crt" --sni localhost -h localhost -p "$TP" "$@"; }
up() { rt PING 2>/dev/null | grep -q PONG; }
wait_for 10 "Redis on its TLS port" up

# ---- the stunnel client, from the shipped config
SP=$(_sq_pick_port) || fail "no free port"
sed -e "s|^accept = .*|accept = 127.0.0.1:$SP|" -e "s|^connect = .*|connect = 127.0.0.1:$TP|" \
    -e "s|^CAfile = .*|CAfile = $C/ca.crt|" -e "s|^checkHost = .*|checkHost = localhost|" \
    deploy/stunnel-redis.conf > "$W/stunnel.conf"
[ "$(diff deploy/stunnel-redis.conf "$W/stunnel.conf" | grep -c "^>")" = 4 ] || fail "the shipped config changed shape"
stunnel4 "$W/stunnel.conf" > "$W/stunnel.log" 2>&1 &
STUNNEL=$!
ON_EXIT="kill $STUNNEL 2>/dev/null; $ON_EXIT"
through() { [ "$(redis-cli -p "$SP" PING 2>/dev/null)" = PONG ]; }
wait_for 10 "PING through stunnel" through

# ---- a private PostgreSQL with ssl=on
PGD="$W/pg"
mkdir -p "$PGD"
_sq_pg_reachable "$PGD" || fail "the postgres user cannot reach $PGD"
[ "$(id -u)" = 0 ] && chown postgres "$PGD" "$C" && chown postgres "$C/server.key" "$C/server.crt" "$C/ca.crt"
chmod 600 "$C/server.key"
_sq_as_pg "$SQ_PG_BIN/initdb" -D "$PGD/data" -A trust -U postgres > "$W/initdb.log" 2>&1 || { cat "$W/initdb.log"; fail initdb; }
# a free port can be taken by another process between the pick and the bind: try another
for try in 1 2 3; do
    PP=$(_sq_pick_port) || fail "no free port"
    _sq_as_pg "$SQ_PG_BIN/pg_ctl" -D "$PGD/data" -l "$PGD/pg.log" -w -t 60 start -o "-p $PP -k $PGD -c listen_addresses=127.0.0.1 \
        -c ssl=on -c ssl_cert_file=$C/server.crt -c ssl_key_file=$C/server.key" > /dev/null && break
    grep -q "Address already in use" "$PGD/pg.log" && [ "$try" -lt 3 ] || { cat "$PGD/pg.log"; fail "PostgreSQL with ssl=on"; }
done
ON_EXIT="_sq_as_pg '$SQ_PG_BIN/pg_ctl' -D '$PGD/data' -m immediate -w stop >/dev/null 2>&1; $ON_EXIT"
psql -X -q -h 127.0.0.1 -p "$PP" -U postgres -d postgres -c "CREATE DATABASE syncq" || fail "create database"
GOOD="host=localhost hostaddr=127.0.0.1 port=$PP user=postgres dbname=syncq sslmode=verify-full sslrootcert=$C/ca.crt"

export SYNCQ_REDIS_URL="redis://127.0.0.1:$SP/0" SYNCQ_DATABASE_URL="$GOOD"
bin/syncq migrate > "$W/migrate.out" 2>&1 || { cat "$W/migrate.out"; fail "migrate over verify-full and stunnel"; }
cat "$W/migrate.out"
grep -q "Redis function library loaded" "$W/migrate.out" || fail "no library through stunnel"
ssl=$(psql -X -At "$GOOD" -c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
assert_eq "$ssl" t "psql's verify-full session is encrypted"

# ---- a worker: Redis through stunnel, PostgreSQL verify-full
start_worker_tls() {
    bin/syncq-worker -c 2 -q urgent --prefix "$SYNCQ_PREFIX" >>"$W/worker.log" 2>&1 &
    WORKER_PID=$!
}
start_worker_tls
for i in $(seq 1 50); do echo '{"kind":"mutation","service":"syncq","action":"noop"}'; done | bin/syncq enqueue --batch - > "$W/ids.txt"
audited() { [ "$(psql -X -At "$GOOD" -c "SELECT count(*) FROM syncq_jobs WHERE status = 'success'")" = 50 ]; }
wait_for 30 "50 jobs run and audited over TLS" audited
echo "ok: 50 jobs ran with Redis behind stunnel and PostgreSQL over verify-full"
# every audit connection of the worker is encrypted
plain=$(psql -X -At "$GOOD" -c "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
                                WHERE a.datname = 'syncq' AND a.pid <> pg_backend_pid() AND NOT s.ssl")
assert_eq "$plain" 0 "unencrypted PostgreSQL sessions"
stop_worker
grep -q 'connected: 127.0.0.1' "$W/stunnel.log" || grep -qi 'connection' "$W/stunnel.log" || { cat "$W/stunnel.log"; fail "stunnel logged no connection"; }

# ---- plain text to the TLS port: a clear error, exit 69
rc=0
SYNCQ_REDIS_URL="redis://127.0.0.1:$TP/0" bin/syncq stats > /dev/null 2> "$W/plain.err" || rc=$?
cat "$W/plain.err"
assert_eq "$rc" 69 "syncq stats in plain text to the TLS port"
grep -q 'closed the connection.*TLS' "$W/plain.err" || fail "the error does not say TLS"

# ---- rediss://: straight TLS when the build has it (hiredis >= 1.0 with hiredis_ssl), else a
# clear configuration error naming the sidecar (Debian 12's hiredis 0.14: this machine)
rc=0
SYNCQ_REDIS_URL="rediss://localhost:$TP/0?cacert=$C/ca.crt" bin/syncq stats > "$W/rediss.out" 2> "$W/rediss.err" || rc=$?
if grep -q 'needs a build with TLS' "$W/rediss.err"; then
    assert_eq "$rc" 69 "rediss:// without TLS in the build"
    grep -q 'use the stunnel sidecar' "$W/rediss.err" || fail "the error does not point at the sidecar"
    echo "ok: this build has no TLS: $(cat "$W/rediss.err")"
else
    assert_eq "$rc" 0 "syncq stats over rediss:// (a TLS build)"
    rc=0
    SYNCQ_REDIS_URL="rediss://localhost:$TP/0?cacert=$C/otherca.crt" bin/syncq stats > /dev/null 2>&1 || rc=$?
    [ "$rc" -ne 0 ] || fail "rediss:// accepted a server its CA did not sign"
fi

# ---- PostgreSQL fails closed
pgfail() { # WHAT CONNINFO PATTERN
    local rc=0
    SYNCQ_DATABASE_URL="$2" bin/syncq jobs --limit 1 > /dev/null 2> "$W/pgfail.err" || rc=$?
    [ "$rc" -ne 0 ] || fail "$1: connected"
    grep -q "$3" "$W/pgfail.err" || { cat "$W/pgfail.err"; fail "$1: not \"$3\""; }
    echo "ok: $1 refused (exit $rc): $(head -c 240 "$W/pgfail.err")"
}
pgfail "a wrong CA" "${GOOD/ca.crt/otherca.crt}" "certificate verify failed"
pgfail "a name the certificate lacks" "${GOOD/host=localhost/host=127.0.0.1}" 'does not match host name'
pgfail "verify-full to a server without SSL" "host=localhost hostaddr=127.0.0.1 port=$SQ_PG_PORT user=postgres dbname=$DB sslmode=verify-full sslrootcert=$C/ca.crt" \
    "server does not support SSL"
# the worker exits with a clear line rather than running without its audit
rc=0
SYNCQ_DATABASE_URL="${GOOD/ca.crt/otherca.crt}" timeout 5 bin/syncq-worker -c 1 -q urgent --prefix "$SYNCQ_PREFIX" \
    > "$W/w-badca.log" 2>&1 || rc=$?
grep -q 'certificate verify failed' "$W/w-badca.log" || { tail -5 "$W/w-badca.log"; fail "the worker does not say why"; }
echo "ok: worker with a wrong CA: exit $rc, \"certificate verify failed\""
