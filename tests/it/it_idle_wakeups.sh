#!/bin/bash
# An idle child sleeps (issue 14): the lease watchdog fires once at the
# deadline the master last published and re-arms for the renewed one, instead
# of a SIGALRM every 100 ms in every child (a worker of 64 idle children took
# 7 % of a core, now 4 %). Counted, not timed: the context switches of each idle job child over
# 3 s. What is left is the fetch's 1 s block on the empty queue (about 2 a
# second); the 100 ms watchdog alone added 30. Also: the roles are named
# (syncq-job, syncq-writer) for ps, top and pgrep.
. "$(dirname "$0")/../lib.sh"

start_worker -c 4 -q idle
wait_for 10 "the worker registered" worker_ready
# every job child blocked on the empty queue
wait_for 10 "the children blocking on the queue" \
    bash -c "[ \"\$(redis-cli -p $SQ_REDIS_PORT CLIENT LIST | grep -c 'cmd=blmove')\" -ge 4 ]"
role() { cat "/proc/$1/comm"; }
kids=$(pgrep -P "$WORKER_PID" | tr '\n' ' ')
jobs=""
writer=""
for p in $kids; do
    case "$(role "$p")" in
        syncq-job) jobs="$jobs $p" ;;
        syncq-writer) writer="$writer $p" ;;
        *) fail "child $p of the master is named '$(role "$p")'" ;;
    esac
done
assert_eq "$(echo $jobs | wc -w)" 4 "job children named syncq-job"
assert_eq "$(echo $writer | wc -w)" 1 "writers named syncq-writer"

switches() { awk '/^(non)?voluntary_ctxt_switches/ { s += $2 } END { print s + 0 }' "/proc/$1/status"; }
declare -A before
for p in $kids; do before[$p]=$(switches "$p"); done
sleep 3
most=0
for p in $jobs; do
    d=$(($(switches "$p") - ${before[$p]}))
    [ "$d" -gt "$most" ] && most=$d
done
w=$(($(switches $writer) - ${before[${writer# }]}))
echo "measure: context switches in 3 s idle: most of a job child $most, the writer $w (it looks at the outbox every 50 ms)"
[ "$most" -lt 15 ] || fail "an idle job child woke $most times in 3 s: something polls"
# the watchdog still ends a child whose lease is not renewed: it_lease_pause, it_lease_stop
stop_worker
