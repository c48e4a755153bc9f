# shellcheck shell=bash
# cluster.sh - a private Redis Cluster on loopback for make test-cluster and
# make bench (BENCH_CLUSTER=1): 3 masters and 3 replicas, one redis-server
# each (--cluster-enabled yes), joined by redis-cli --cluster create. Source
# it from bash after scripts/servers.sh:
#
#   cluster_start DIR     # exports SQ_CLUSTER_PORTS ("p1 ... p6"), SQ_CLUSTER_URL
#                         # (redis-cluster://127.0.0.1:p1,127.0.0.1:p2/), SQ_CLUSTER_PIDS
#   cluster_stop          # idempotent
#   cr PORT ARGS...       # redis-cli against one node
#
# A node's cluster bus listens on port + 10000, so ports stay below 55000.
# cluster-node-timeout is 15 s: on a loaded machine a shorter one lets a slow master be
# voted out (an automatic failover nobody asked for); the test fails over by hand.

cr() { local p=$1; shift; redis-cli -p "$p" "$@"; }

_cl_pick() {
    local p i
    for i in $(seq 1 200); do
        p=$(_sq_pick_port) || return 1
        [ "$p" -lt 55000 ] && _sq_port_free $((p + 10000)) && { echo "$p"; return 0; }
        : "$i"
    done
    return 1
}

# _cl_node DIR: start one node on a free port, print the port; another
# process may take the port between the pick and the bind, so try again.
_cl_node() {
    local dir=$1 p pid attempt i
    for attempt in 1 2 3 4 5; do
        p=$(_cl_pick) || return 1
        _SQ_AVOID_PORTS="${_SQ_AVOID_PORTS:-} $p $((p + 10000))"
        redis-server --port "$p" --bind 127.0.0.1 --dir "$dir" --cluster-enabled yes \
            --cluster-config-file nodes.conf --cluster-node-timeout 15000 --save '' --appendonly no \
            --logfile "$dir/redis.log" >/dev/null 2>&1 &
        pid=$!
        for i in $(seq 1 100); do
            _sq_alive "$pid" || break
            if cr "$p" PING >/dev/null 2>&1; then
                SQ_CLUSTER_PIDS="$SQ_CLUSTER_PIDS $pid"
                echo "$p"
                return 0
            fi
            sleep 0.05
        done
        _sq_kill_wait "$pid" 2
        : "$attempt $i"
    done
    return 1
}

cluster_start() {
    local dir=$1 p i addrs="" ports=""
    mkdir -p "$dir"
    SQ_CLUSTER_PIDS=""
    for i in 1 2 3 4 5 6; do
        mkdir -p "$dir/n$i"
        _cl_node "$dir/n$i" > "$dir/n$i/port" || { _sq_log "could not start cluster node $i"; return 1; }
        p=$(cat "$dir/n$i/port")
        ports="$ports $p"
        addrs="$addrs 127.0.0.1:$p"
    done
    # shellcheck disable=SC2086  # one word per node
    redis-cli --cluster create $addrs --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1 || {
        cat "$dir/create.log" >&2
        return 1
    }
    for p in $ports; do
        for i in $(seq 1 200); do
            cr "$p" CLUSTER INFO 2>/dev/null | grep -q '^cluster_state:ok' && break
            sleep 0.1
        done
    done
    SQ_CLUSTER_PORTS=${ports# }
    set -- $SQ_CLUSTER_PORTS
    SQ_CLUSTER_URL="redis-cluster://127.0.0.1:$1,127.0.0.1:$2/"
    export SQ_CLUSTER_PORTS SQ_CLUSTER_URL SQ_CLUSTER_PIDS
}

cluster_stop() {
    local pid
    for pid in ${SQ_CLUSTER_PIDS:-}; do _sq_kill_wait "$pid" 5; done
    SQ_CLUSTER_PIDS=""
}

# cluster_master_of SLOT: the port of the master serving SLOT (asks the nodes in turn)
cluster_master_of() {
    local p
    for p in $SQ_CLUSTER_PORTS; do
        /usr/bin/python3 - "$p" "$1" <<'PY' 2>/dev/null && return 0
import sys, redis
r = redis.Redis(port=int(sys.argv[1]), socket_timeout=2)
s = int(sys.argv[2])
for lo, hi, m, *rest in r.execute_command("CLUSTER", "SLOTS"):
    if lo <= s <= hi:
        print(m[1])
        sys.exit(0)
sys.exit(1)
PY
    done
    return 1
}
