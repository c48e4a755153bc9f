#!/bin/bash
# Issue 15 part 3: the least-privilege Redis users of deploy/redis-users.acl.
# A private Redis loads the file (passwords made here, stored as SHA-256);
# the operator's `syncq migrate` loads the library, the worker runs as
# syncq-worker with its password from SYNCQ_REDIS_PASSWORD_FILE, a producer
# enqueues (raw FCALL and `syncq enqueue`) and reads status as
# syncq-producer, the operator lists dead letters and pauses a queue. Then
# each is refused what it does not need: the producer cannot FLUSHALL, read
# another queue's dead letters, enqueue to another queue or call any other
# function; the worker cannot FLUSHALL, FUNCTION FLUSH or CONFIG SET. No
# password appears in any output or log, and Redis's ACL LOG shows that
# nobody was refused anything during the normal run.
. "$(dirname "$0")/../lib.sh"

pw() { head -c 18 /dev/urandom | base64 | tr -d '/+=' ; }
PP="p$(pw)" WP="w$(pw)" OP="o$(pw)" AP="a$(pw)"
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
# the file as shipped, for this test's prefix; plus an admin user for the checks
sed -e "s/@PRODUCER_SHA256@/$(sha "$PP")/" -e "s/@WORKER_SHA256@/$(sha "$WP")/" \
    -e "s/@OPERATOR_SHA256@/$(sha "$OP")/" -e "s/~syncq:/~$SYNCQ_PREFIX:/g" deploy/redis-users.acl > "$W/users.acl"
echo "user sqadmin on >$AP ~* &* +@all" >> "$W/users.acl"
grep -q "$PP\|$WP\|$OP" "$W/users.acl" && fail "the ACL file holds a password"

private_redis redis2 --aclfile "$W/users.acl" --save '3600 1'
P2=$RPORT
adm() { REDISCLI_AUTH="$AP" redis-cli -p "$P2" --user sqadmin "$@"; }
as() { local u=$1 p=$2; shift 2; REDISCLI_AUTH="$p" redis-cli -p "$P2" --user "$u" "$@" 2>&1; }
up() { adm PING 2>/dev/null | grep -q PONG; }
wait_for 10 "the ACL Redis" up
adm ACL LOG RESET >/dev/null
# anonymous access is off
out=$(redis-cli -p "$P2" PING 2>&1) || true
case "$out" in *NOAUTH*) echo "ok: no anonymous access ($out)" ;; *) fail "default user answered: $out" ;; esac

U="$SYNCQ_PREFIX:{urgent}" D="$SYNCQ_PREFIX:{default}"
# ---- the operator migrates (loads the library); credentials in the URL
SYNCQ_REDIS_URL="redis://syncq-operator:$OP@127.0.0.1:$P2/0" bin/syncq migrate > "$W/migrate.out" 2> "$W/migrate.err" ||
    { cat "$W/migrate.err"; fail "migrate as syncq-operator"; }
grep -q "Redis function library loaded at redis://syncq-operator:\*\*\*\*\*\*\*\*@127.0.0.1:$P2/0" "$W/migrate.out" ||
    { cat "$W/migrate.out"; fail "migrate did not load the library (or showed the password)"; }

# ---- the worker: user in the URL, password from a file
printf '%s\n' "$WP" > "$W/worker.pw"
chmod 600 "$W/worker.pw"
export SYNCQ_REDIS_URL="redis://syncq-worker@127.0.0.1:$P2/0" SYNCQ_REDIS_PASSWORD_FILE="$W/worker.pw"
bin/syncq-worker -c 2 -q urgent,default --prefix "$SYNCQ_PREFIX" >>"$W/worker.log" 2>&1 &
WORKER_PID=$!
registered() { [ "$(adm SCARD "$(fkey workers)")" -ge 2 ]; }
wait_for 10 "the worker registered as syncq-worker" registered
unset SYNCQ_REDIS_PASSWORD_FILE

# ---- the producer: raw FCALL, then the CLI and status
out=$(as syncq-producer "$PP" FCALL syncq_enqueue 1 "$U:ready" '{"kind":"mutation","service":"syncq","action":"noop","id":"acl-raw"}')
echo "$out" | grep -q '^queued$' || fail "producer FCALL syncq_enqueue: $out"
PURL="redis://syncq-producer:$PP@127.0.0.1:$P2/0"
SYNCQ_REDIS_URL="$PURL" bin/syncq enqueue --service syncq --action noop --id acl-cli > "$W/enq.out" 2> "$W/enq.err" ||
    { cat "$W/enq.err"; fail "syncq enqueue as syncq-producer"; }
SYNCQ_REDIS_URL="$PURL" bin/syncq enqueue --service syncq --action noop --in 1h --id acl-later > /dev/null 2>> "$W/enq.err" ||
    { cat "$W/enq.err"; fail "delayed enqueue as syncq-producer"; }
ran() { [ "$(count "job_id IN ('acl-raw', 'acl-cli') AND status = 'success'")" = 2 ]; }
wait_for 20 "both producer jobs run by the worker" ran
out=$(as syncq-producer "$PP" FCALL syncq_status 1 "$U:ready" acl-later)
echo "$out" | head -1 | grep -q '^delayed$' || fail "producer FCALL syncq_status: $out"

# ---- the operator: dead letters, pause, stats
as syncq-operator "$OP" LPUSH "$D:ready" 'not json' > /dev/null
deadl() { [ "$(adm ZCARD "$D:dead")" = 1 ]; }
wait_for 20 "the bad job dead-lettered" deadl
OURL="redis://syncq-operator:$OP@127.0.0.1:$P2/0"
SYNCQ_REDIS_URL="$OURL" bin/syncq dlq ls --queue default > "$W/dlq.out" 2> "$W/dlq.err" || { cat "$W/dlq.err"; fail "dlq ls as operator"; }
grep -q 'not JSON' "$W/dlq.out" || { cat "$W/dlq.out"; fail "dlq ls does not show the dead letter"; }
SYNCQ_REDIS_URL="$OURL" bin/syncq queue pause default > /dev/null 2> "$W/pause.err" || { cat "$W/pause.err"; fail "queue pause as operator"; }
assert_eq "$(adm EXISTS "$D:paused")" 1 "default paused by the operator"
SYNCQ_REDIS_URL="$OURL" bin/syncq queue resume default > /dev/null 2>> "$W/pause.err" || fail "queue resume as operator"
SYNCQ_REDIS_URL="$OURL" bin/syncq stats > "$W/stats.out" 2> "$W/stats.err" || { cat "$W/stats.err"; fail "stats as operator"; }
SYNCQ_REDIS_URL="$OURL" bin/syncq dlq purge --queue default --all --yes > /dev/null 2> "$W/purge.err" ||
    SYNCQ_REDIS_URL="$OURL" bin/syncq dlq purge --queue default --all > /dev/null 2>> "$W/purge.err" || true

# nobody was refused anything while doing their job
log=$(adm ACL LOG)
[ -z "$log" ] || { echo "$log"; fail "ACL LOG shows refusals during the normal run"; }
echo "ok: ACL LOG empty after the worker, producer and operator did their work"

# ---- what each user must not do
refused() { # USER PASS ARGS...: NOPERM
    local u=$1 p=$2 out
    shift 2
    out=$(as "$u" "$p" "$@")
    case "$out" in
        *NOPERM* | *"can't run this command"* | *"no permissions"*) echo "ok: $u refused: $* ($(echo "$out" | head -1))" ;;
        *) fail "$u was allowed: $* -> $out" ;;
    esac
}
refused syncq-producer "$PP" FLUSHALL
refused syncq-producer "$PP" FLUSHDB
refused syncq-producer "$PP" ZRANGE "$D:dead" 0 -1
refused syncq-producer "$PP" HGETALL "$D:deadjobs"
refused syncq-producer "$PP" HGET "$D:deadjobs" some-id
refused syncq-producer "$PP" LRANGE "$D:ready" 0 -1
refused syncq-producer "$PP" FCALL syncq_status 1 "$D:ready" some-id
refused syncq-producer "$PP" FCALL syncq_enqueue 1 "$D:ready" '{"kind":"mutation","service":"syncq","action":"noop"}'
refused syncq-producer "$PP" FCALL syncq_dlq_purge 1 "$U:ready"
refused syncq-producer "$PP" FCALL syncq_fetch 1 "$U:ready"
refused syncq-producer "$PP" FCALL syncq_cancel 1 "$U:ready" acl-later
refused syncq-producer "$PP" FUNCTION FLUSH
refused syncq-producer "$PP" FUNCTION LOAD REPLACE "#!lua name=evil"
refused syncq-producer "$PP" CONFIG GET requirepass
refused syncq-producer "$PP" KEYS '*'
refused syncq-producer "$PP" SMEMBERS "$(fkey workers)"
refused syncq-producer "$PP" EVAL "return 1" 0
refused syncq-producer "$PP" DEL "$D:ready"
refused syncq-worker "$WP" FLUSHALL
refused syncq-worker "$WP" FUNCTION FLUSH
refused syncq-worker "$WP" FUNCTION DELETE syncq
refused syncq-worker "$WP" CONFIG SET appendonly no
refused syncq-worker "$WP" ACL LIST
refused syncq-worker "$WP" GET other:key
refused syncq-operator "$OP" FLUSHALL
refused syncq-operator "$OP" CONFIG SET maxmemory-policy allkeys-lru
refused syncq-operator "$OP" SHUTDOWN
# the producer's CLI cannot reach another queue either
rc=0
SYNCQ_REDIS_URL="$PURL" bin/syncq enqueue --queue default --service syncq --action noop > /dev/null 2> "$W/enq2.err" || rc=$?
[ "$rc" -ne 0 ] || fail "syncq enqueue --queue default as the producer succeeded"
echo "ok: syncq enqueue to another queue refused (exit $rc: $(head -1 "$W/enq2.err"))"

# ---- a wrong password from the file: exit 78, WRONGPASS, password not shown
printf 'wrong-%s\n' "$WP" > "$W/bad.pw"
rc=0
SYNCQ_REDIS_URL="redis://syncq-worker@127.0.0.1:$P2/0" SYNCQ_REDIS_PASSWORD_FILE="$W/bad.pw" timeout 30 \
    bin/syncq-worker -c 1 --prefix "$SYNCQ_PREFIX" > "$W/bad.log" 2>&1 || rc=$?
assert_eq "$rc" 78 "worker exit code with a wrong password file"
grep -q WRONGPASS "$W/bad.log" || { cat "$W/bad.log"; fail "no WRONGPASS"; }
# a password in both the URL and the file is refused
rc=0
SYNCQ_REDIS_URL="$PURL" SYNCQ_REDIS_PASSWORD_FILE="$W/worker.pw" bin/syncq stats > /dev/null 2> "$W/both.err" || rc=$?
[ "$rc" -ne 0 ] && grep -q 'carries a password and a password file is set' "$W/both.err" ||
    { cat "$W/both.err"; fail "URL and file passwords both accepted"; }

stop_worker
# ---- no password anywhere it could leak
for f in "$W"/*.log "$W"/*.out "$W"/*.err; do
    for p in "$PP" "$WP" "$OP"; do
        grep -qF -- "$p" "$f" && fail "a password appears in $(basename "$f")"
    done
done
echo "ok: no password in $(ls "$W"/*.log "$W"/*.out "$W"/*.err | wc -l) logs and outputs"
