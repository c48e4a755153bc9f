# shellcheck shell=bash
# servers.sh - private Redis + PostgreSQL for the test harness, the demo and the benchmark.
# Source it from bash (not sh):
#
#   . scripts/servers.sh
#   servers_start "$dir"              # DIR/redis, DIR/pg; random free ports, never the defaults
#   trap servers_stop EXIT            # idempotent, safe in EXIT/INT/TERM traps
#   sq_psql postgres -c 'select 1'    # psql against the private server
#   sq_redis ping                     # redis-cli against the private server
#   pg_stop; ...; pg_start            # stop / restart only PostgreSQL, same port
#
# servers_start exports:
#   SQ_DIR          the DIR given to servers_start (absolute)
#   SQ_REDIS_PORT   SQ_REDIS_URL (redis://127.0.0.1:PORT/0)   SQ_REDIS_PID
#   SQ_PG_PORT      SQ_PG_HOST (127.0.0.1)   SQ_PG_BIN (PostgreSQL bindir)
#   SQ_PG_BASE      libpq conninfo without dbname: "host=127.0.0.1 port=PORT user=postgres"
#   SQ_PG_DATA      the cluster's data directory   SQ_PG_SOCK (its unix socket directory)
#
# An initialized cluster under DIR/pg is reused (the demo keeps ./.run/ between runs).
# As root, PostgreSQL runs as the `postgres` OS user (runuser), in DIR/pg owned by that user;
# the directories on the way to DIR get o+x (search only) when that user cannot reach DIR.
# Nothing here sets PGHOST/PGPORT or SYNCQ_*: a test that forgets its URL must fail.

_sq_log() { printf 'servers.sh: %s\n' "$*" >&2; }

# _sq_now_ms: milliseconds since the epoch (for deadlines).
_sq_now_ms() {
    local t
    t=$(date +%s%N 2>/dev/null) || t=""
    case "$t" in
        *N | "") echo $(($(date +%s) * 1000)) ;;
        *) echo $((t / 1000000)) ;;
    esac
}

# _sq_port_free PORT: nothing listens on 127.0.0.1:PORT (and ss, when present, sees no listener).
_sq_port_free() {
    local p=$1
    # shellcheck disable=SC2016  # $1 is expanded by the inner bash
    if timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$p" 2>/dev/null; then
        return 1
    fi
    if command -v ss >/dev/null 2>&1; then
        if [ -n "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; then
            return 1
        fi
    fi
    return 0
}

# _sq_rand: a random number in 0..2^30 ($RANDOM in bash; /dev/urandom when sourced by another sh).
_sq_rand() {
    if [ -n "${RANDOM:-}" ]; then
        echo $((RANDOM * 32768 + RANDOM))
    else
        od -An -N4 -tu4 /dev/urandom | tr -d ' '
    fi
}

# _sq_pick_port: print a free port in 20000-60000, avoiding the ones in $_SQ_AVOID_PORTS.
_sq_pick_port() {
    local i p
    for i in $(seq 1 200); do
        p=$((20000 + $(_sq_rand) % 40001))
        case " ${_SQ_AVOID_PORTS:-} " in *" $p "*) continue ;; esac
        if _sq_port_free "$p"; then
            echo "$p"
            return 0
        fi
        : "$i"
    done
    _sq_log "no free port found in 20000-60000"
    return 1
}

# _sq_alive PID: process exists and is not a zombie.
_sq_alive() {
    local pid=$1 st
    [ -n "$pid" ] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    if [ -r "/proc/$pid/stat" ]; then
        st=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
        st=${st##*) }
        case "$st" in Z* | X*) return 1 ;; esac
    fi
    return 0
}

# _sq_kill_wait PID SECONDS: SIGTERM, wait up to SECONDS, then SIGKILL; reaps it if it is our child.
_sq_kill_wait() {
    local pid=$1 secs=$2 deadline
    [ -n "$pid" ] || return 0
    if _sq_alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        deadline=$(($(_sq_now_ms) + secs * 1000))
        while _sq_alive "$pid" && [ "$(_sq_now_ms)" -lt "$deadline" ]; do
            sleep 0.05
        done
        if _sq_alive "$pid"; then
            _sq_log "pid $pid did not stop in ${secs}s; SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            deadline=$(($(_sq_now_ms) + 5000))
            while _sq_alive "$pid" && [ "$(_sq_now_ms)" -lt "$deadline" ]; do
                sleep 0.05
            done
        fi
    fi
    # Reap it when it is a child of this shell (no-op, status 127, otherwise).
    wait "$pid" 2>/dev/null || true
}

# _sq_as_pg CMD...: run CMD as the cluster's OS user (postgres when we are root), from /.
_sq_as_pg() {
    if [ "$(id -u)" = "0" ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

_sq_find_pg_bin() {
    local d=""
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null) || d=""
    fi
    if [ -z "$d" ] || [ ! -x "$d/initdb" ] || [ ! -x "$d/pg_ctl" ]; then
        # pg_config (libpq-dev) may point at /usr/bin; the server lives in a versioned dir on Debian.
        local c best=0 v
        d=""
        for c in /usr/lib/postgresql/*/bin; do
            v=${c#/usr/lib/postgresql/}
            v=${v%%/*}
            case "$v" in '' | *[!0-9]*) continue ;; esac
            if [ -x "$c/initdb" ] && [ "$v" -gt "$best" ]; then
                best=$v
                d=$c
            fi
        done
    fi
    if [ -z "$d" ] || [ ! -x "$d/initdb" ] || [ ! -x "$d/pg_ctl" ]; then
        _sq_log "PostgreSQL server binaries (initdb, pg_ctl) not found; run: sh scripts/deps.sh"
        return 1
    fi
    echo "$d"
}

# _sq_pg_reachable DIR: as root, make sure the postgres OS user can traverse to DIR.
_sq_pg_reachable() {
    local dir=$1 d c rest
    [ "$(id -u)" = "0" ] || return 0
    if runuser -u postgres -- test -x "$dir" 2>/dev/null; then
        return 0
    fi
    # Top-down: a directory can only be tested once its parents are searchable.
    d=""
    rest=${dir#/}
    while [ -n "$rest" ]; do
        c=${rest%%/*}
        case "$rest" in */*) rest=${rest#*/} ;; *) rest="" ;; esac
        [ -n "$c" ] || continue
        d="$d/$c"
        if ! runuser -u postgres -- test -x "$d" 2>/dev/null; then
            _sq_log "chmod o+x $d (so the postgres user can reach its data directory)"
            chmod o+x "$d" || return 1
        fi
    done
    runuser -u postgres -- test -x "$dir" 2>/dev/null || {
        _sq_log "the postgres user cannot reach $dir"
        return 1
    }
}

# _sq_pg_init: initdb DIR/pg/data unless an initialized cluster of this major version is there.
_sq_pg_init() {
    local pgdir=$SQ_DIR/pg data=$SQ_DIR/pg/data want have
    mkdir -p "$pgdir" || return 1
    if [ "$(id -u)" = "0" ]; then
        if ! id -u postgres >/dev/null 2>&1; then
            _sq_log "running as root but there is no 'postgres' OS user (install the postgresql package)"
            return 1
        fi
        if [ "$(stat -c %U "$pgdir")" != "postgres" ]; then
            chown -R postgres:postgres "$pgdir" || return 1
        fi
        chmod 0755 "$pgdir" || return 1
    fi
    _sq_pg_reachable "$pgdir" || return 1
    want=$("$SQ_PG_BIN/pg_ctl" --version | sed -n 's/.* \([0-9][0-9]*\)[.].*/\1/p')
    if [ -f "$pgdir/.initdone" ] && [ -f "$data/PG_VERSION" ]; then
        have=$(cat "$data/PG_VERSION")
        if [ "$have" = "$want" ]; then
            return 0
        fi
        _sq_log "cluster in $data is PostgreSQL $have, binaries are $want: re-initializing it"
    fi
    rm -rf "$data" "$pgdir/.initdone"
    if ! _sq_as_pg "$SQ_PG_BIN/initdb" -D "$data" -E UTF8 --locale=C.UTF-8 -A trust -U postgres \
        >"$pgdir/initdb.log" 2>&1; then
        _sq_log "initdb failed; $pgdir/initdb.log:"
        tail -n 20 "$pgdir/initdb.log" >&2
        return 1
    fi
    _sq_as_pg touch "$pgdir/.initdone"
}

# _sq_pg_launch PORT: start the cluster on PORT (pg_ctl -w); 0 when it accepts connections.
_sq_pg_launch() {
    local port=$1 opts
    opts="-p $port -k '$SQ_PG_SOCK' -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=100"
    _sq_as_pg "$SQ_PG_BIN/pg_ctl" -D "$SQ_PG_DATA" -o "$opts" -l "$SQ_DIR/pg/postgres.log" \
        -w -t 60 start >/dev/null 2>"$SQ_DIR/pg/pg_ctl.err"
}

_sq_pg_running() {
    [ -n "${SQ_PG_DATA:-}" ] && [ -n "${SQ_PG_BIN:-}" ] && [ -f "$SQ_PG_DATA/postmaster.pid" ] &&
        _sq_as_pg "$SQ_PG_BIN/pg_ctl" -D "$SQ_PG_DATA" status >/dev/null 2>&1
}

_sq_redis_start() {
    local rdir=$SQ_DIR/redis attempt port pid deadline old
    mkdir -p "$rdir" || return 1
    # A redis left behind by a killed run on this DIR.
    if [ -f "$rdir/redis.pid" ]; then
        old=$(cat "$rdir/redis.pid" 2>/dev/null) || old=""
        if [ -n "$old" ] && _sq_alive "$old" &&
            tr '\0' ' ' <"/proc/$old/cmdline" 2>/dev/null | grep -q "redis-server"; then
            _sq_log "stopping a redis-server (pid $old) left behind in $rdir"
            _sq_kill_wait "$old" 10
        fi
        rm -f "$rdir/redis.pid"
    fi
    for attempt in 1 2 3 4 5; do
        port=$(_sq_pick_port) || return 1
        # RDB save points on, as in production (syncq check fails on a Redis without persistence);
        # an hour apart, so a test run never pays for a snapshot
        redis-server --port "$port" --bind 127.0.0.1 --dir "$rdir" --save '3600 1' --appendonly no \
            --daemonize no --logfile "$rdir/redis.log" </dev/null >/dev/null 2>&1 &
        pid=$!
        echo "$pid" >"$rdir/redis.pid"
        deadline=$(($(_sq_now_ms) + 10000))
        while [ "$(_sq_now_ms)" -lt "$deadline" ]; do
            if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = "PONG" ]; then
                SQ_REDIS_PORT=$port
                SQ_REDIS_PID=$pid
                SQ_REDIS_URL="redis://127.0.0.1:$port/0"
                export SQ_REDIS_PORT SQ_REDIS_PID SQ_REDIS_URL
                return 0
            fi
            _sq_alive "$pid" || break
            sleep 0.05
        done
        _sq_log "redis-server on port $port did not answer (attempt $attempt); $rdir/redis.log:"
        tail -n 5 "$rdir/redis.log" >&2 2>/dev/null || true
        _sq_kill_wait "$pid" 5
        rm -f "$rdir/redis.pid"
        _SQ_AVOID_PORTS="${_SQ_AVOID_PORTS:-} $port"
    done
    _sq_log "could not start redis-server"
    return 1
}

_sq_pg_start_new() {
    local attempt port sock
    SQ_PG_BIN=$(_sq_find_pg_bin) || return 1
    SQ_PG_DATA=$SQ_DIR/pg/data
    SQ_PG_HOST=127.0.0.1
    export SQ_PG_BIN SQ_PG_DATA SQ_PG_HOST
    _sq_pg_init || return 1
    # A server left behind by a killed run on this DIR.
    if _sq_pg_running; then
        _sq_log "stopping a PostgreSQL left behind in $SQ_PG_DATA"
        _sq_as_pg "$SQ_PG_BIN/pg_ctl" -D "$SQ_PG_DATA" -m fast -w stop >/dev/null 2>&1 ||
            _sq_as_pg "$SQ_PG_BIN/pg_ctl" -D "$SQ_PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    # A temporary socket directory of an earlier run that did not stop cleanly.
    if [ -f "$SQ_DIR/pg/sock.tmp" ]; then
        sock=$(cat "$SQ_DIR/pg/sock.tmp" 2>/dev/null) || sock=""
        case "$sock" in /tmp/sq-pgsock.*) rm -rf "$sock" ;; esac
        rm -f "$SQ_DIR/pg/sock.tmp"
    fi
    # Unix socket path must stay under ~107 bytes ("$sock/.s.PGSQL.NNNNN").
    sock=$SQ_DIR/pg/sock
    if [ "${#sock}" -gt 80 ]; then
        sock=$(mktemp -d /tmp/sq-pgsock.XXXXXX) || return 1
        chmod 0755 "$sock"
        echo "$sock" >"$SQ_DIR/pg/sock.tmp"
    fi
    mkdir -p "$sock" || return 1
    if [ "$(id -u)" = "0" ]; then chown postgres:postgres "$sock" || return 1; fi
    SQ_PG_SOCK=$sock
    export SQ_PG_SOCK
    for attempt in 1 2 3 4 5; do
        port=$(_sq_pick_port) || return 1
        if _sq_pg_launch "$port"; then
            SQ_PG_PORT=$port
            SQ_PG_BASE="host=127.0.0.1 port=$port user=postgres"
            export SQ_PG_PORT SQ_PG_BASE
            return 0
        fi
        _sq_log "PostgreSQL did not start on port $port (attempt $attempt):"
        cat "$SQ_DIR/pg/pg_ctl.err" >&2 2>/dev/null || true
        tail -n 5 "$SQ_DIR/pg/postgres.log" >&2 2>/dev/null || true
        if _sq_pg_running; then
            _sq_as_pg "$SQ_PG_BIN/pg_ctl" -D "$SQ_PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
        fi
        _SQ_AVOID_PORTS="${_SQ_AVOID_PORTS:-} $port"
    done
    _sq_log "could not start PostgreSQL"
    return 1
}

# servers_start DIR
servers_start() {
    local dir=${1:?usage: servers_start DIR}
    command -v redis-server >/dev/null 2>&1 || {
        _sq_log "redis-server not found; run: sh scripts/deps.sh"
        return 1
    }
    mkdir -p "$dir" || return 1
    dir=$(cd "$dir" && pwd -P) || return 1
    case "$dir" in
        *"'"* | *'"'* | *"\\"*)
            _sq_log "DIR must not contain quotes or backslashes: $dir"
            return 1
            ;;
    esac
    SQ_DIR=$dir
    export SQ_DIR
    _SQ_AVOID_PORTS=""
    if ! _sq_redis_start; then
        servers_stop
        return 1
    fi
    _SQ_AVOID_PORTS="$SQ_REDIS_PORT"
    if ! _sq_pg_start_new; then
        servers_stop
        return 1
    fi
    _sq_log "redis on 127.0.0.1:$SQ_REDIS_PORT, postgres on 127.0.0.1:$SQ_PG_PORT (under $SQ_DIR)"
}

# pg_stop [MODE]: stop only PostgreSQL (default -m fast). Idempotent.
pg_stop() {
    local mode=${1:-fast}
    if _sq_pg_running; then
        _sq_as_pg "$SQ_PG_BIN/pg_ctl" -D "$SQ_PG_DATA" -m "$mode" -w -t 60 stop >/dev/null 2>&1 || {
            _sq_log "pg_ctl stop -m $mode failed; trying -m immediate"
            _sq_as_pg "$SQ_PG_BIN/pg_ctl" -D "$SQ_PG_DATA" -m immediate -w -t 60 stop >/dev/null 2>&1
        }
    fi
    return 0
}

# pg_start: start PostgreSQL again on the same port (after pg_stop).
pg_start() {
    if [ -z "${SQ_PG_PORT:-}" ] || [ -z "${SQ_PG_DATA:-}" ]; then
        _sq_log "pg_start: servers_start was not run"
        return 1
    fi
    if _sq_pg_running; then
        return 0
    fi
    if ! _sq_pg_launch "$SQ_PG_PORT"; then
        _sq_log "pg_start: PostgreSQL did not start on port $SQ_PG_PORT:"
        cat "$SQ_DIR/pg/pg_ctl.err" >&2 2>/dev/null || true
        tail -n 5 "$SQ_DIR/pg/postgres.log" >&2 2>/dev/null || true
        return 1
    fi
}

# servers_stop: stop PostgreSQL and Redis. Idempotent; safe from EXIT/INT/TERM traps.
servers_stop() {
    local pid sockf sdir
    pg_stop fast || true
    pid=${SQ_REDIS_PID:-}
    if [ -z "$pid" ] && [ -n "${SQ_DIR:-}" ] && [ -f "$SQ_DIR/redis/redis.pid" ]; then
        pid=$(cat "$SQ_DIR/redis/redis.pid" 2>/dev/null) || pid=""
    fi
    if [ -n "$pid" ]; then
        _sq_kill_wait "$pid" 10
    fi
    SQ_REDIS_PID=""
    if [ -n "${SQ_DIR:-}" ]; then
        rm -f "$SQ_DIR/redis/redis.pid"
        sockf=$SQ_DIR/pg/sock.tmp
        if [ -f "$sockf" ] && ! _sq_pg_running; then
            sdir=$(cat "$sockf" 2>/dev/null) || sdir=""
            case "$sdir" in /tmp/sq-pgsock.*) rm -rf "$sdir" ;; esac
            rm -f "$sockf"
        fi
    fi
    return 0
}

# sq_psql DBNAME [psql args...]
sq_psql() {
    local db=${1:?usage: sq_psql DBNAME [psql args...]}
    shift
    # Never fall back to a default port: fail when servers_start has not run.
    if [ -z "${SQ_PG_PORT:-}" ] || [ -z "${SQ_PG_BIN:-}" ]; then
        _sq_log "sq_psql: servers_start has not run"
        return 2
    fi
    "$SQ_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$SQ_PG_PORT" -U postgres -d "$db" "$@"
}

# sq_redis [redis-cli args...]
sq_redis() {
    if [ -z "${SQ_REDIS_PORT:-}" ]; then
        _sq_log "sq_redis: servers_start has not run"
        return 2
    fi
    redis-cli -h 127.0.0.1 -p "$SQ_REDIS_PORT" "$@"
}
