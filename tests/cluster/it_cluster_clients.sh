#!/bin/bash
# Producers on the Cluster without libsyncq: redis-py's RedisCluster (fcall)
# and phpredis's RedisCluster (rawCommand routed by the ready key) call
# FCALL syncq_enqueue on queues spread over the three masters; the worker and
# the CLI (status, queue ls, stats, dlq ls) reach them through
# redis-cluster://. Every job ends in PostgreSQL once.
. "$(dirname "$0")/../lib.sh"
. scripts/cluster.sh

export SYNCQ_REDIS_URL=$SQ_CLUSTER_URL
set -- $SQ_CLUSTER_PORTS
P1=$1
rc() { redis-cli -c -p "$P1" "$@"; }
worker_ready() { [ "$(rc SCARD "$(fkey workers)")" -ge 2 ]; }
QUEUES="k0 k1 k2 k3 k4 k5"
bin/syncq migrate >/dev/null 2>&1 || fail "syncq migrate"
nodes=$(for qn in $QUEUES; do cluster_master_of "$(rc CLUSTER KEYSLOT "$(key "$qn" ready)")"; done | sort -u | wc -l)
[ "$nodes" -ge 2 ] || fail "the queues sit on $nodes master(s)"
echo "ok: queues $QUEUES on $nodes masters"

/usr/bin/python3 - "$P1" "$SYNCQ_PREFIX" $QUEUES > "$W/py.ids" <<'PY' || fail "redis-py RedisCluster"
import json, sys
from redis.cluster import RedisCluster
rc = RedisCluster(host="127.0.0.1", port=int(sys.argv[1]))
prefix = sys.argv[2]
for q in sys.argv[3:]:
    for i in range(5):
        env = {"kind": "mutation", "service": "syncq", "action": "noop", "target_id": f"py-{q}-{i}"}
        key = f"{prefix}:{{{q}}}:ready"
        print(rc.fcall("syncq_enqueue", 1, key, json.dumps(env))[0].decode())  # {id, state}
PY
php -r '
$rc = new RedisCluster(NULL, ["127.0.0.1:" . $argv[1]]);
foreach (array_slice($argv, 3) as $q) {
    for ($i = 0; $i < 5; $i++) {
        $key = $argv[2] . ":{" . $q . "}:ready";
        $env = json_encode(["kind" => "mutation", "service" => "syncq", "action" => "noop", "target_id" => "php-$q-$i"]);
        $r = $rc->rawCommand($key, "FCALL", "syncq_enqueue", 1, $key, $env); // {id, state}
        $id = is_array($r) ? $r[0] : $r;
        if (!is_string($id)) { fwrite(STDERR, "FCALL: " . var_export($id, true) . " " . $rc->getLastError() . "\n"); exit(1); }
        echo $id, "\n";
    }
}' "$P1" "$SYNCQ_PREFIX" $QUEUES > "$W/php.ids" || fail "phpredis RedisCluster"
assert_eq "$(sort -u "$W/py.ids" "$W/php.ids" | wc -l)" 60 "job ids from redis-py and phpredis"

start_worker -c 2 -q "$(echo $QUEUES | tr ' ' ,)"
all() { [ "$(count "status = 'success'")" -ge 60 ]; }
wait_for 60 "the 60 jobs done" all
assert_eq "$(count "attempts = 1")" 60 "jobs run once"
id=$(sed -n 1p "$W/php.ids")
bin/syncq status "$id" > "$W/status.out" || fail "syncq status on the cluster: $(cat "$W/status.out")"
grep -q success "$W/status.out" || fail "status of $id: $(cat "$W/status.out")"
echo "ok: syncq status $id says success"
bin/syncq queue ls > "$W/qls.out" || fail "syncq queue ls on the cluster"
for qn in $QUEUES; do grep -q "^$qn " "$W/qls.out" || fail "queue ls lacks $qn: $(cat "$W/qls.out")"; done
echo "ok: syncq queue ls lists the six queues"
bin/syncq stats >/dev/null || fail "syncq stats on the cluster"
bin/syncq dlq ls >/dev/null || fail "syncq dlq ls on the cluster"
echo "ok: syncq stats and dlq ls"
stop_worker
