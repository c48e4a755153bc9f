#!/bin/bash
# A partitioned master cannot let a job run twice at once (docs/LEASES.md).
# Master A runs in its own network namespace and reaches Redis, PostgreSQL
# (through a relay) and the mock over a veth pair; master B runs outside.
# While A's children run 10 s jobs, all input to A's namespace is dropped
# (iptables) for twice the 6 s TTL. A's children stop on their own at TTL/2,
# B requeues the jobs once the leases are gone and runs them; the mock's call
# log proves no two runs of a job intersect. Needs root, ip netns and
# iptables: without them the test fails, it never skips.
. "$(dirname "$0")/../lib.sh"
. tests/lease_lib.sh

NS="sqlease$$"
VH="vsq$$h"
VN="vsq$$n"
NET="10.$(( 100 + $$ % 100 )).$(( $$ / 100 % 250 )).0"
NET=${NET%.0}
HOST_IP="$NET.1"
NS_IP="$NET.2"
command -v ip >/dev/null || fail "ip (iproute2) is required"
command -v iptables >/dev/null || fail "iptables is required"
ON_EXIT="ip netns exec $NS iptables -F INPUT 2>/dev/null; ip link del $VH 2>/dev/null; ip netns del $NS 2>/dev/null; $ON_EXIT"
ip netns add "$NS" || fail "ip netns add failed: network namespaces are unavailable"
ip link add "$VH" type veth peer name "$VN" || fail "could not create a veth pair"
ip link set "$VN" netns "$NS"
ip addr add "$HOST_IP/24" dev "$VH"
ip link set "$VH" up
ip netns exec "$NS" ip addr add "$NS_IP/24" dev "$VN"
ip netns exec "$NS" ip link set "$VN" up
ip netns exec "$NS" ip link set lo up

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RPORT=$(free_port)
redis-server --port "$RPORT" --bind "$HOST_IP" 127.0.0.1 --dir "$W" --save '' --appendonly no --protected-mode no \
    > "$W/redis.log" 2>&1 &
RPID=$!
ON_EXIT="kill $RPID 2>/dev/null; $ON_EXIT"
r() { redis-cli -h "$HOST_IP" -p "$RPORT" "$@"; }
redis_up() { [ "$(r PING 2>/dev/null)" = PONG ]; }
wait_for 10 "the partition test's Redis on $HOST_IP" redis_up
export SYNCQ_REDIS_URL="redis://$HOST_IP:$RPORT/0"
PGF=$(free_port)
/usr/bin/python3 tests/fwd.py "$HOST_IP" "$PGF" 127.0.0.1 "$SQ_PG_PORT" > "$W/fwd.log" 2>&1 &
ON_EXIT="kill $! 2>/dev/null; $ON_EXIT"
export SYNCQ_DATABASE_URL="host=$HOST_IP port=$PGF user=postgres dbname=$DB"
pg_up() { psql -X -A -t -q -c 'SELECT 1' "$SYNCQ_DATABASE_URL" >/dev/null 2>&1; }
wait_for 10 "PostgreSQL through the relay" pg_up
lease_mock "$HOST_IP"
ip netns exec "$NS" curl -sf -m 5 "http://$HOST_IP:$port/_admin/health" >/dev/null || fail "the namespace cannot reach the mock"

# master A inside the namespace
ip netns exec "$NS" bin/syncq-worker -c 2 -q default --prefix "$SYNCQ_PREFIX" >>"$W/a.log" 2>&1 &
A=$!
ON_EXIT="kill -KILL $A 2>/dev/null; $ON_EXIT"
wait_for 10 "master A started" grep -q '"master.start"' "$W/a.log"
enqueue_jobs 2
wait_for 20 "both jobs running on master A" runs_started 2
master b -c 2
wait_for 10 "master B started" grep -q '"master.start"' "$W/b.log"
ip netns exec "$NS" iptables -A INPUT -j DROP || fail "iptables in the namespace failed"
sleep 12
ip netns exec "$NS" iptables -D INPUT -j DROP
wait_for 40 "both jobs done" all_succeeded 2
no_overlap
grep -q '"child.lease"' "$W/a.log" || fail "master A's children did not stop on their lease"
wait_for 10 "nothing left in flight" nothing_in_flight
