#!/bin/bash
# Issue 15 part 7 (a first slice): during a rolling upgrade a binary never
# replaces a newer function library with its older one. A Redis holding a
# newer library (ours with LIBRARY_VERSION raised) keeps it through `syncq
# migrate`, a worker master's connect (which warns that it is the old one),
# its children and `syncq enqueue`, and jobs still run; an older library is
# replaced by ours.
. "$(dirname "$0")/../lib.sh"

private_redis rf --save '3600 1'
export SYNCQ_REDIS_URL="redis://127.0.0.1:$RPORT/0"
r2() { redis-cli -p "$RPORT" "$@"; }
LUA=lib/functions.lua # the library as embedded (record columns filled in), of this build
full=$(sed -n "s/^local LIBRARY_VERSION = '\([^']*\)'.*/\1/p" "$LUA")
ours=${full%%.*}
[ -n "$ours" ] || fail "no LIBRARY_VERSION in $LUA"
load_as() { # VERSION: load our library text under another version
    local out
    out=$(sed "s/^local LIBRARY_VERSION = '[^']*'/local LIBRARY_VERSION = '$1'/" "$LUA" | r2 -x FUNCTION LOAD REPLACE)
    [ "$out" = syncq ] || fail "FUNCTION LOAD as version $1: $out"
}
version() { r2 FCALL syncq_compat 0 | sed -n 3p; } # the full version (syncq_version answers version 20 binaries)

newer="$((ours + 1)).c1"
load_as "$newer"
bin/syncq migrate > /dev/null || fail "migrate"
assert_eq "$(version)" "$newer" "library version after an older syncq migrate"
bin/syncq-worker -c 2 -q urgent --prefix "$SYNCQ_PREFIX" >>"$W/worker.log" 2>&1 &
WORKER_PID=$!
warned() { grep -q "\"master.funcs\".*version $((ours + 1)), newer than this binary's $ours: kept" "$W/worker.log"; }
wait_for 10 "the old worker's warning" warned
id=$(bin/syncq enqueue --service syncq --action noop) || fail "enqueue"
ran() { [ "$(count "job_id = '$id' AND status = 'success'")" = 1 ]; }
wait_for 20 "the job run by the old worker on the newer library" ran
stop_worker
assert_eq "$(version)" "$newer" "library version after the old worker, its children and enqueue"
assert_eq "$(r2 FUNCTION LIST | grep -c '^syncq$')" 1 "libraries named syncq"

# an older library is replaced by ours, and so is one of our number with other record columns
load_as 1
bin/syncq migrate > /dev/null || fail "migrate"
assert_eq "$(version)" "$full" "library version after migrate over an older one"
load_as "$ours.c42"
bin/syncq migrate > /dev/null || fail "migrate"
assert_eq "$(version)" "$full" "library version after migrate over ours with other columns"
