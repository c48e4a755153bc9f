#!/bin/bash
# Lanes. Strict priority: with 10,000 jobs on sync, 10 pushed on urgent are
# fetched before the next 100 sync jobs (fetch order = Redis TIME stamped by
# the fetch step). Weights: with both lanes busy, a smooth weighted
# round-robin gives exact shares (3:1 -> 150 and 50 of the first 200).
. "$(dirname "$0")/../lib.sh"

sync=$(key sync ready)
for i in $(seq 1 10000); do
    printf "LPUSH %s '{\"id\":\"s-%d\",\"kind\":\"sync\",\"service\":\"syncq\",\"action\":\"sleep\",\"payload\":{\"ms\":1}}'\n" "$sync" "$i"
done | r > /dev/null
start_worker -c 2 -q urgent,default,sync
busy() { [ "$(r LLEN "$sync")" -lt 9000 ]; }
wait_for 30 "the sync lane under way" busy
args=()
for i in $(seq 1 10); do args+=("{\"id\":\"u-$i\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\"}"); done
r LPUSH "$(key urgent ready)" "${args[@]}" >/dev/null  # one burst
# from the moment the urgent jobs are there (taken after the push: on a busy
# machine the time between building the burst and pushing it is not the lanes')
t=$(r TIME | tr '\n' ' ' | awk '{ printf "%s%06d", $1, $2 }')
left=$(r LLEN "$sync")
urgent() { [ "$(count "job_id LIKE 'u-%' AND status = 'success'")" = 10 ]; }
wait_for 20 "the urgent jobs" urgent
last_u=$(q "SELECT max(fetch_seq) FROM syncq_jobs WHERE job_id LIKE 'u-%'")
sleep 1 # let the audit of sync jobs fetched up to then arrive
n=$(q "SELECT count(*) FROM syncq_jobs WHERE job_id LIKE 's-%' AND fetch_seq > $t AND fetch_seq < $last_u")
echo "sync jobs fetched between the urgent push and the last urgent fetch: $n ($left sync jobs were still waiting)"
[ "$left" -gt 1000 ] || fail "the sync lane had drained ($left left): the test proves nothing"
[ "$n" -lt 100 ] || fail "$n sync jobs were fetched before the urgent ones"
stop_worker

export SYNCQ_FETCH_BATCH=1
for q_ in a b; do
    for i in $(seq 1 200); do
        printf "LPUSH %s '{\"id\":\"%s-%d\",\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\"}'\n" "$(key $q_ ready)" "$q_" "$i"
    done | r > /dev/null
done
start_worker -c 1 -q a:3,b:1
both() { [ "$(count "queue IN ('a', 'b') AND status = 'success'")" = 400 ]; }
wait_for 30 "400 weighted jobs" both
assert_eq "$(q "SELECT string_agg(queue || '=' || n, ' ' ORDER BY queue) FROM (SELECT queue, count(*) n FROM (SELECT queue FROM syncq_jobs WHERE queue IN ('a', 'b') ORDER BY fetch_seq LIMIT 200) f GROUP BY queue) g")" "a=150 b=50" "shares of the first 200 fetches"
stop_worker
