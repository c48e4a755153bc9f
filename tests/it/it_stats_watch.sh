#!/bin/bash
# `syncq stats --watch` into a pipe prints one block per tick, each headed by
# its time (RFC 3339 UTC), so a log of it says when each snapshot was.
. "$(dirname "$0")/../lib.sh"

# head ends the watch once it has two blocks' headers (SIGPIPE); timeout only bounds a hang
timeout 30 bin/syncq stats --watch | grep --line-buffered '^== ' | head -n 2 > "$W/stamps" || true
cat "$W/stamps"
assert_eq "$(wc -l < "$W/stamps")" 2 "two timestamped blocks"
grep -Evq '^== [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$' "$W/stamps" &&
    fail "a block header is not an RFC 3339 UTC time"
[ "$(sed -n 1p "$W/stamps")" \< "$(sed -n 2p "$W/stamps")" ] || fail "the second block is not later than the first"
bin/syncq stats | grep -q '^== ' && fail "a single snapshot has a watch header"
bin/syncq stats --watch --json | head -c 4000 > "$W/json" || true
grep -q '"time_ms"' "$W/json" || fail "--watch --json lost its time_ms"
grep -q '^== ' "$W/json" && fail "--watch --json carries a text header"
echo ok
