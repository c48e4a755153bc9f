#!/bin/bash
# `syncq queue ls` on a fresh prefix, before any worker registered a queue,
# lists the configured ones (SYNCQ_QUEUES, default urgent,default,sync) in
# their order, then a queue only a worker registered; `queue ls --help`
# prints the help and changes nothing.
. "$(dirname "$0")/../lib.sh"

out=$(env -u SYNCQ_QUEUES bin/syncq queue ls)
echo "$out"
assert_eq "$(echo "$out" | awk 'NR > 1 { printf "%s ", $1 }')" "urgent default sync " "queues on a fresh prefix"
echo "$out" | grep -Eq '^urgent +active +0 +0 +0 +configured$' || fail "urgent is not listed as configured and empty"

r SADD "$(fkey queues)" extra default >/dev/null
out=$(SYNCQ_QUEUES=sync,default bin/syncq queue ls)
echo "$out"
assert_eq "$(echo "$out" | awk 'NR > 1 { printf "%s ", $1 }')" "sync default extra " "configured first, then registered"
echo "$out" | grep -Eq '^default .* configured, registered$' || fail "default is not marked configured and registered"
echo "$out" | grep -Eq '^extra .* registered$' || fail "extra is not marked registered"

help=$(bin/syncq queue ls --help) || fail "queue ls --help exits $?"
echo "$help" | grep -q '^usage: syncq queue' || fail "queue ls --help does not print the usage"
echo "$help" | grep -q 'SYNCQ_QUEUES' || fail "the usage does not name SYNCQ_QUEUES"
