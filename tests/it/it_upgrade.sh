#!/bin/bash
# A rolling upgrade (docs/DESIGN.md §12): the previous release (make
# old-release: library version 20, before versioned libraries) and this build
# run together on one Redis and one PostgreSQL with jobs flowing, enqueued by
# both CLIs, an old child respawned mid-run, and an operator's old CLI
# replaying dead letters. Every job ends once, on its first attempt; the
# function library is loaded once by the new build and never replaced after
# (sampled all along). Then the rule itself: a newer library that serves this
# build is used, not replaced; one that does not makes the worker and the CLI
# stop with exit 78 asking for an upgrade, leaving it loaded (a running
# worker's respawned children too, with the no-respawn-loop exit).
# test-timeout: 420
. "$(dirname "$0")/../lib.sh"
# this build's library version (the build appends .c<digest>)
V=$(sed -n "s/^local LIBRARY_VERSION = '\([0-9]*\)\..*/\1/p" lib/functions.lua)
[ -n "$V" ] || fail "no LIBRARY_VERSION in lib/functions.lua"

# the old releases come out of this repository's history (git archive): a
# shallow clone lacks them, and only then is the test skipped, saying why
for c in $(sed -n 's/^UPGRADE_\(PRODUCER_\)\{0,1\}FROM ?= //p' Makefile); do
    if ! git cat-file -e "$c^{commit}" 2>/dev/null; then
        [ "$(git rev-parse --is-shallow-repository 2>/dev/null)" = true ] || fail "commit $c (an old release) is not in this repository"
        echo "SKIP: commit $c (an old release) is not in this shallow clone; git fetch --unshallow to run it"
        exit 0
    fi
done
# the old release is built once and kept under build/ (about a minute)
make --no-print-directory old-release > "$W/old-build.log" 2>&1 || { tail "$W/old-build.log"; fail "make old-release"; }
OLD=build/old-$(sed -n 's/^UPGRADE_FROM ?= //p' Makefile)/bin
[ -x "$OLD/syncq-worker" ] || fail "no old release under build/"
OLDEST=build/old-$(sed -n 's/^UPGRADE_PRODUCER_FROM ?= //p' Makefile)/bin
[ -x "$OLDEST/syncq" ] || fail "no oldest producer under build/"

# a Redis of our own: the function library is per server, shared by every test
private_redis ru --save ''
P2=$RPORT
r() { redis-cli -p "$P2" "$@"; }
export SYNCQ_REDIS_URL="redis://127.0.0.1:$P2/0"

N=300
envelopes() { # from to action payload
    for i in $(seq "$1" "$2"); do
        printf '{"id":"u-%04d","kind":"mutation","service":"syncq","action":"%s","payload":%s}\n' \
            "$i" "$3" "$4"
    done
}
library() { r FUNCTION LIST WITHCODE | cksum; }

# ---- the old fleet: its worker loads the version 20 library
"$OLD/syncq-worker" -c 2 -q default --prefix "$SYNCQ_PREFIX" >>"$W/old.log" 2>&1 &
OLDPID=$!
ON_EXIT='kill -TERM '"$OLDPID"' 2>/dev/null; grep "\"level\":\"error\"" "$W/old.log" | tail -5; '"$ON_EXIT"
wait_for 10 "the old worker's children" worker_ready
assert_eq "$(r FCALL syncq_version 0 | cut -d. -f1)" 20 "library loaded by the old release"
envelopes 1 100 sleep '{"ms":5}' | "$OLD/syncq" enqueue --queue default --batch - > "$W/enq1" || fail "old enqueue"
envelopes 9001 9003 fail '{"permanent":true}' | "$OLD/syncq" enqueue --queue default --batch - >> "$W/enq1" || fail "old enqueue"

# ---- the new build joins: it replaces the older library, once
start_worker -c 2 -q default # (ready at once: the old worker's children are registered)
new_up() { grep -q '"master.redis"' "$W/worker.log"; }
wait_for 20 "the new worker's master connected" new_up
v=$(r FCALL syncq_compat 0 | tr '\n' ' ')
echo "library after the new worker started: $v"
case "$v" in "$V 20 $V.c"*) ;; *) fail "the new worker did not load version $V (compat 20): $v" ;; esac
ref=$(library)
samples=1
sample() { assert_eq "$(library)" "$ref" "FUNCTION LIST sample $((++samples))"; }

# jobs from both CLIs while both workers run
envelopes 101 200 sleep '{"ms":5}' | bin/syncq enqueue --queue default --batch - > "$W/enq2" || fail "new enqueue"
sample
envelopes 201 250 sleep '{"ms":5}' | "$OLD/syncq" enqueue --queue default --batch - > "$W/enq3" || fail "old enqueue after the upgrade"
sample
# a producer from before any version rule (it replaced every library not its own):
# syncq_version answers it with its own string, so it keeps ours
envelopes 251 300 sleep '{"ms":5}' | "$OLDEST/syncq" enqueue --queue default --batch - > "$W/enq4" \
    || fail "oldest enqueue after the upgrade"
sample
"$OLDEST/syncq" status u-0251 --queue default > /dev/null || fail "oldest status"
sample
# an old child dies and the old master starts another: it connects anew and keeps the library
kid=$(pgrep -P "$OLDPID" | head -1)
kill -KILL "$kid"
respawned() { pgrep -P "$OLDPID" | grep -qvx "$kid"; }
wait_for 10 "the old master to respawn a child" respawned
sample

dead_ids() { r ZRANGE "$(key default dead)" 0 -1; }
three_dead() { [ "$(dead_ids | wc -l)" -eq 3 ]; }
wait_for 60 "three dead letters" three_dead
sample
# the operator's old CLI replays them
"$OLD/syncq" dlq replay --all --actor ops:old > "$W/replay" 2>&1 || { cat "$W/replay"; fail "old dlq replay"; }
cat "$W/replay"
assert_eq "$(grep -c '^replayed u-900' "$W/replay")" 3 "dead letters the old CLI replayed"
sample

total=$((N + 3 + 3))
all_done() { [ "$(count "status IN ('success', 'dead')")" -eq "$total" ]; }
wait_for 90 "$total jobs ended" all_done
sample
assert_eq "$(count "status = 'success' AND job_id LIKE 'u-0%'")" "$N" "sleep jobs done"
assert_eq "$(count "attempts <> 1")" 0 "jobs run more than once"
assert_eq "$(count "status = 'dead'")" 6 "dead: three jobs and their three replays"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE event = 'replayed'")" 3 "replayed events"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE event = 'lost'")" 0 "lost deliveries"
# both releases ran jobs (a child's id ends in its master's boot id)
boot() { grep -o '"master.start".*as [^"]*' "$1" | head -1 | awk -F: '{print $NF}'; }
ran_old=$(count "worker LIKE '%:$(boot "$W/old.log")'")
ran_new=$(count "worker LIKE '%:$(boot "$W/worker.log")'")
echo "jobs run by the old release: $ran_old, by the new build: $ran_new"
[ "$ran_old" -gt 0 ] && [ "$ran_new" -gt 0 ] || fail "one release ran no job"
grep -q '"master.redis"' "$W/old.log" || fail "the old worker never connected"
for log in "$W/old.log" "$W/worker.log"; do
    if grep -q '"level":"error"' "$log"; then grep '"level":"error"' "$log" | head -5; fail "errors in $log"; fi
done
r FUNCTION LIST | grep -x syncq_compat > /dev/null || fail "syncq_compat gone from FUNCTION LIST"
sample
[ "$samples" -ge 8 ] || fail "only $samples samples"
stop_worker
kill -TERM "$OLDPID"
rc=0
wait "$OLDPID" || rc=$?
assert_eq "$rc" 0 "old worker exit code after SIGTERM"
sample

# ---- a newer library that still serves this build's version: used as it is
newer() { # version compat: this build's library, numbered as a later release
    sed -e "s/^local LIBRARY_VERSION = '$V\./local LIBRARY_VERSION = '$1./" \
        -e "s/^local LIBRARY_COMPAT = 20\$/local LIBRARY_COMPAT = $2/" lib/functions.lua > "$W/newer.lua"
    grep -q "^local LIBRARY_COMPAT = $2\$" "$W/newer.lua" || fail "newer.lua: no LIBRARY_COMPAT"
    r -x FUNCTION LOAD REPLACE < "$W/newer.lua" > /dev/null
    assert_eq "$(r FCALL syncq_compat 0 | head -2 | tr '\n' ' ')" "$1 $2 " "a newer library loaded"
}
newer $((V + 1)) $V
ref=$(library)
bin/syncq status u-0001 --queue default > "$W/status" 2>&1 || { cat "$W/status"; fail "status against a newer, compatible library"; }
sample
start_worker -c 1 -q default
# ---- one that no longer serves it: refused, exit 78, the library left alone. A
# running worker's new children say so and are not respawned in a loop
newer $((V + 2)) $((V + 1))
ref=$(library)
kids=$(pgrep -P "$WORKER_PID" | tr '\n' ' ')
kill -KILL $kids
told() { grep -q '"\(child\|audit\).redis".*this one is version '"$V"': upgrade syncq' "$W/worker.log"; }
wait_for 20 "a respawned child refusing the newer library" told
backed_off() { grep -q '"master.child_exit".*exited with code 2' "$W/worker.log"; }
wait_for 20 "the master seeing a configuration exit" backed_off
stop_worker
sample
rc=0
bin/syncq status u-0001 --queue default > "$W/status" 2>&1 || rc=$?
cat "$W/status"
assert_eq "$rc" 78 "status exit code against a library that no longer serves it"
grep -q "version $((V + 2)).*serves binaries of version $((V + 1)) or newer; this one is version $V: upgrade syncq" "$W/status" \
    || fail "no upgrade message"
rc=0
bin/syncq-worker -c 1 -q default --prefix "$SYNCQ_PREFIX" > "$W/refused.log" 2>&1 || rc=$?
assert_eq "$rc" 78 "worker exit code against a library that no longer serves it"
grep -q 'upgrade syncq' "$W/refused.log" || fail "the worker did not say to upgrade"
sample
