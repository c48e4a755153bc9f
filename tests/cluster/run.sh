#!/bin/bash
# run.sh - make test-cluster: the Redis Cluster tests (tests/cluster/it_*.sh)
# against a private 3-master, 3-replica cluster on loopback (scripts/cluster.sh)
# and a private PostgreSQL, both started here and torn down on exit. Kept out
# of make test because a cluster takes a while to start and each test moves
# slots or fails a master over; .ci/run runs it after the two suites.
# TESTS=it_cluster_x,... runs a subset.
set -u
cd "$(dirname "$0")/../.." || exit 70
ONLY=${TESTS:-}
. scripts/servers.sh
. scripts/cluster.sh

tmp=$(mktemp -d /tmp/syncq-cluster.XXXXXX)
chmod 755 "$tmp"
cleanup() {
    cluster_stop
    servers_stop
    if [ -n "${KEEP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export SYNCQ_REDIS_URL="redis://127.0.0.1:1/0"
export SYNCQ_DATABASE_URL="host=127.0.0.1 port=1 dbname=nowhere connect_timeout=2"
unset PGHOST PGPORT PGDATABASE PGUSER SYNCQ_PREFIX

servers_start "$tmp/srv" || { echo "could not start Redis/PostgreSQL"; exit 69; }
sq_psql postgres -c "CREATE DATABASE syncq_tpl" >/dev/null || exit 69
SYNCQ_DATABASE_URL="$SQ_PG_BASE dbname=syncq_tpl" bin/syncq migrate >/dev/null 2>&1 || exit 70
export SQ_TEMPLATE=syncq_tpl SQ_TMP="$tmp"
s=$(date +%s)
cluster_start "$tmp/cluster" || { echo "could not start the Redis Cluster"; exit 69; }
echo "== Redis Cluster up in $(( $(date +%s) - s )) s: $SQ_CLUSTER_URL (nodes $SQ_CLUSTER_PORTS)"

passed=0 failed=0 failures=""
for t in tests/cluster/it_*.sh; do
    name=$(basename "$t" .sh)
    [ -z "$ONLY" ] || case ",$ONLY," in *",$name,"*) ;; *) continue ;; esac
    s=$(date +%s)
    timeout -k 10 400 bash ${TRACE:+-x} "$t" > "$tmp/$name.log" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        printf 'ok   %s (%s s)\n' "$name" "$(( $(date +%s) - s ))"
        [ "${VERBOSE:-0}" = 1 ] && sed 's/^/     | /' "$tmp/$name.log"
    else
        failed=$((failed + 1))
        failures="$failures $name"
        printf 'FAIL %s (exit %s)\n' "$name" "$rc"
        tail -n 60 "$tmp/$name.log" | sed 's/^/     | /'
    fi
done
echo "== cluster: $passed passed, $failed failed${failures:+:$failures}"
[ "$failed" -eq 0 ]
