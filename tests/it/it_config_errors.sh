#!/bin/bash
# Clear errors for a new user's mistakes (issue 9 item 13): a Redis that wants
# a password says "authentication required (NOAUTH)" and exits 69 in every
# command; a worker with a missing or wrong password or a malformed URL exits
# 78 (EX_CONFIG) after one clear line, while an unreachable server is retried;
# a global flag after the command gets a hint; an unknown queue is not paused
# without --force; an empty health window says why it is refused.
. "$(dirname "$0")/../lib.sh"

# a private Redis with a password, next to the harness's
P2=$(_sq_pick_port) || fail "no free port"
redis-server --port "$P2" --bind 127.0.0.1 --requirepass s3cret-pw --save '' --appendonly no \
    --dir "$W" --logfile "$W/redis2.log" --daemonize yes --pidfile "$W/redis2.pid"
ON_EXIT='kill "$(cat "$W/redis2.pid")" 2>/dev/null; '"$ON_EXIT"
up() { redis-cli -p "$P2" -a s3cret-pw --no-auth-warning PING 2>/dev/null | grep -q PONG; }
wait_for 10 "the password-protected Redis" up
NOPW="redis://127.0.0.1:$P2/0"
GOODPW="redis://:s3cret-pw@127.0.0.1:$P2/0"
BADPW="redis://:wrong@127.0.0.1:$P2/0"
NOAUTH_MSG='authentication required (NOAUTH): set the password in SYNCQ_REDIS_URL'

# expect RC MESSAGE CMD...: CMD exits RC and says MESSAGE on stderr
expect() {
    local want=$1 msg=$2 rc=0
    shift 2
    "$@" >"$W/out" 2>"$W/err" || rc=$?
    [ "$rc" = "$want" ] || { cat "$W/err"; fail "$* exited $rc, not $want"; }
    grep -qF -- "$msg" "$W/err" || { cat "$W/err"; fail "$*: no \"$msg\" on stderr"; }
    echo "ok: $* -> $rc, \"$msg\""
}

# ---- every command, no password: NOAUTH, exit 69
export SYNCQ_REDIS_URL="$NOPW"
expect 69 "$NOAUTH_MSG" bin/syncq stats
expect 69 "$NOAUTH_MSG" bin/syncq check
expect 69 "$NOAUTH_MSG" bin/syncq dlq ls
expect 69 "$NOAUTH_MSG" bin/syncq queue ls
expect 69 "$NOAUTH_MSG" bin/syncq status some-id
expect 69 "$NOAUTH_MSG" bin/syncq enqueue --service syncq --action noop --payload '{}'
expect 69 "WRONGPASS" env SYNCQ_REDIS_URL="$BADPW" bin/syncq queue ls
SYNCQ_REDIS_URL="$GOODPW" bin/syncq queue ls >/dev/null || fail "queue ls with the password failed"

# ---- the worker: configuration errors exit 78 with a clear line; no retry loop
worker_rc() { # URL: run a worker on URL (bounded), print its exit code
    local rc=0
    SYNCQ_REDIS_URL="$1" timeout 30 bin/syncq-worker -c 1 --prefix "$SYNCQ_PREFIX" >"$W/w.log" 2>&1 || rc=$?
    echo "$rc"
}
assert_eq "$(worker_rc "$NOPW")" 78 "worker exit code without the password"
grep -qF "$NOAUTH_MSG" "$W/w.log" || fail "the worker did not say NOAUTH"
assert_eq "$(worker_rc "$BADPW")" 78 "worker exit code with a wrong password"
grep -qF "WRONGPASS" "$W/w.log" || fail "the worker did not say WRONGPASS"
assert_eq "$(worker_rc "redis://127.0.0.1:notaport/0")" 78 "worker exit code with a malformed URL"
grep -qF "bad Redis URL" "$W/w.log" || fail "the worker did not say the URL is bad"
# an unreachable server is an outage, not a mistake: the worker keeps trying
dead=$(_sq_pick_port)
SYNCQ_REDIS_URL="redis://127.0.0.1:$dead/0" bin/syncq-worker -c 1 --prefix "$SYNCQ_PREFIX" >"$W/w2.log" 2>&1 &
WORKER_PID=$!
logged() { grep -q '"event":"master.redis"' "$W/w2.log"; }
wait_for 10 "the unreachable Redis logged" logged
kill -0 "$WORKER_PID" || fail "the worker gave up on an unreachable Redis"
stop_worker
export SYNCQ_REDIS_URL="$SQ_REDIS_URL"

# ---- global flags after the command: say so
expect 64 'unrecognized option "--database"' bin/syncq migrate --database "$SYNCQ_DATABASE_URL"
grep -qF -- '--database is a global option: put it before the command' "$W/err" || fail "no hint for the global flag"
expect 64 '--redis is a global option' bin/syncq stats --redis "$SQ_REDIS_URL"

# ---- unknown queues are refused unless --force
expect 65 'unknown queue "nosuchqueue"' bin/syncq queue pause nosuchqueue
assert_eq "$(r EXISTS "$(key nosuchqueue paused)")" 0 "an unknown queue left unpaused"
expect 65 'unknown queue "nosuchqueue"' bin/syncq queue pause default nosuchqueue
assert_eq "$(r EXISTS "$(key default paused)")" 0 "no partial pause when one name is unknown"
bin/syncq queue pause nosuchqueue --force | grep -q 'nosuchqueue paused' || fail "--force did not pause"
bin/syncq queue resume nosuchqueue | grep -q 'nosuchqueue resumed' || fail "a paused queue could not be resumed"
bin/syncq queue pause default | grep -q 'default paused' || fail "the configured queue could not be paused"
bin/syncq queue resume default >/dev/null

# ---- an empty health window is refused with a reason
expect 64 'give a window longer than 0' bin/syncq health --window 0s
