# lib.sh - helpers for tests/it/*.sh (bash). The harness (tests/run.sh) has
# started Redis and PostgreSQL and exported SQ_*; every test gets a fresh
# database cloned from the migrated template and a fresh key prefix.
set -eu
set -o pipefail
cd "$(dirname "$0")/../.."
. scripts/servers.sh

T=$(basename "$0" .sh)
W=$(mktemp -d "${SQ_TMP:-/tmp}/$T.XXXXXX")
DB="t_${T}_$$"
export SYNCQ_PREFIX="t$$r$RANDOM"
export SYNCQ_REDIS_URL="$SQ_REDIS_URL"
export SYNCQ_DATABASE_URL="$SQ_PG_BASE dbname=$DB"
export SYNCQ_LOG_LEVEL=${SYNCQ_LOG_LEVEL:-info}
# every master serves /metrics; on port 0 two of them never collide (it logs the port)
export SYNCQ_METRICS_ADDR=${SYNCQ_METRICS_ADDR:-127.0.0.1:0}
WORKER_PID=""

sq_psql postgres -c "CREATE DATABASE \"$DB\" TEMPLATE ${SQ_TEMPLATE:-syncq_tpl}" >/dev/null

# ON_EXIT: extra cleanup a test needs (stop a mock, restart PostgreSQL);
# run here, after the exit status is saved, never from a trap of its own
# (a trap running a command first would lose the status and pass a failure).
ON_EXIT=""

_cleanup() {
    local rc=$?
    [ -z "$ON_EXIT" ] || eval "$ON_EXIT" || true
    if [ -n "$WORKER_PID" ] && kill -0 "$WORKER_PID" 2>/dev/null; then
        kill -KILL "$WORKER_PID" 2>/dev/null || true
    fi
    # children die with their master (PDEATHSIG); give them a moment
    sleep 0.2
    sq_psql postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    if [ "$rc" -ne 0 ] && [ -f "$W/worker.log" ]; then
        echo "--- worker log (tail)"
        tail -n 30 "$W/worker.log"
    fi
    exit "$rc"
}
trap _cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

now_ms() { date +%s%3N; }

# wait_for SECONDS DESCRIPTION CMD...: poll CMD every 100 ms until it succeeds.
wait_for() {
    local secs=$1 what=$2
    shift 2
    local deadline=$(( $(now_ms) + secs * 1000 ))
    until "$@"; do
        [ "$(now_ms)" -lt "$deadline" ] || fail "timed out after ${secs}s waiting for: $what"
        sleep 0.1
    done
}

q() { psql -X -A -t -q -v ON_ERROR_STOP=1 -c "$1" "$SYNCQ_DATABASE_URL"; }
r() { redis-cli -p "$SQ_REDIS_PORT" "$@"; }
key() { printf '%s:{%s}:%s' "$SYNCQ_PREFIX" "$1" "$2"; }
fkey() { printf '%s:{%s:fleet}:%s' "$SYNCQ_PREFIX" "$SYNCQ_PREFIX" "$1"; } # fleet-wide keys (common/keys.h)

assert_eq() { # actual expected message
    [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
    echo "ok: $3 ($1)"
}

# start_worker ARGS...: syncq-worker in the background, logging to $W/worker.log.
# The worker's argv carries $W so cleanup can find strays.
start_worker() {
    bin/syncq-worker "$@" --prefix "$SYNCQ_PREFIX" >>"$W/worker.log" 2>&1 &
    WORKER_PID=$!
    wait_for 10 "worker children registered" worker_ready
}
worker_ready() { [ "$(r SCARD "$(fkey workers)")" -ge 2 ]; }

# stop_worker: SIGTERM and wait for a clean exit 0.
stop_worker() {
    kill -TERM "$WORKER_PID"
    local rc=0
    wait "$WORKER_PID" || rc=$?
    WORKER_PID=""
    assert_eq "$rc" 0 "worker exit code after SIGTERM"
}

count() { q "SELECT count(*) FROM syncq_jobs WHERE $1"; }

# start_mock: the mock DNS provider (tests/mock/mock_service.py) with a bearer
# token in $MOCK_TOKEN; sets $port and $MOCK and stops it on exit. mock METHOD
# PATH [BODY] calls it; mock_services TEMPLATE writes $W/services.json from a
# tests/services/*.json.in template and exports SYNCQ_SERVICES.
start_mock() {
    export MOCK_TOKEN="${MOCK_TOKEN:-tok-$RANDOM}"
    /usr/bin/python3 tests/mock/mock_service.py --port 0 --port-file "$W/port" --token "$MOCK_TOKEN" \
        > "$W/mock.log" 2>&1 &
    MOCK=$!
    ON_EXIT="kill $MOCK 2>/dev/null; $ON_EXIT"
    wait_for 10 "the mock service" test -s "$W/port"
    port=$(cat "$W/port")
}
mock() { curl -s -X "$1" "http://127.0.0.1:$port$2" ${3:+-d "$3"}; }
mock_services() {
    sed "s/@PORT@/$port/" "tests/services/$1" > "$W/services.json"
    export SYNCQ_SERVICES="$W/services.json"
}

# redis_text: every value under this test's key prefix as text (strings,
# lists, hashes, sets, sorted sets, streams), for tests that grep Redis for
# secrets that must never be stored there.
redis_text() {
    local k
    r --scan --pattern "$SYNCQ_PREFIX*" | while read -r k; do
        echo "== $k"
        case "$(r TYPE "$k")" in
            string) r GET "$k" ;;
            list) r LRANGE "$k" 0 -1 ;;
            hash) r HGETALL "$k" ;;
            set) r SMEMBERS "$k" ;;
            zset) r ZRANGE "$k" 0 -1 WITHSCORES ;;
            stream) r XRANGE "$k" - + ;;
        esac
    done
}

# private_redis NAME ARGS...: a redis-server of the test's own on a free port
# (exported as $RPORT), daemonized, pid in $W/NAME.pid, log in $W/NAME.log,
# stopped on exit; ARGS are its options (--port is added, --tls-port when
# ARGS hold "@TLSPORT@", which is replaced). A port taken between picking
# and binding (other suites run too) is retried on another.
private_redis() {
    local name=$1 try p
    shift
    for try in 1 2 3 4 5; do
        p=$(_sq_pick_port) || fail "no free port"
        rm -f "$W/$name.pid"
        if printf '%s\n' "$@" | grep -q '@TLSPORT@'; then
            redis-server --port 0 --bind 127.0.0.1 "${@//@TLSPORT@/$p}" --daemonize yes --pidfile "$W/$name.pid" \
                --logfile "$W/$name.log" --dir "$W" --dbfilename "$name.rdb"
        else
            redis-server --port "$p" --bind 127.0.0.1 "$@" --daemonize yes --pidfile "$W/$name.pid" \
                --logfile "$W/$name.log" --dir "$W" --dbfilename "$name.rdb"
        fi
        local deadline=$(( $(now_ms) + 5000 ))
        while [ "$(now_ms)" -lt "$deadline" ]; do
            [ -s "$W/$name.pid" ] && ss -Hltn "sport = :$p" 2>/dev/null | grep -q . && break
            sleep 0.05
        done
        if [ -s "$W/$name.pid" ] && ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then
            ON_EXIT="kill \$(cat '$W/$name.pid') 2>/dev/null; $ON_EXIT"
            RPORT=$p
            return 0
        fi
        echo "private_redis $name: not up on port $p (try $try): $(tail -n 2 "$W/$name.log" 2>/dev/null)" >&2
        [ -s "$W/$name.pid" ] && kill "$(cat "$W/$name.pid")" 2>/dev/null
        : "$try"
    done
    fail "could not start redis-server $name"
}
