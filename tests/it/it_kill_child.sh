#!/bin/bash
# (b) kill -9 of a child while it runs a sleep job: the master reaps it,
# returns the job to its queue, and the job ends success on a new child, with
# the lost delivery in its history.
. "$(dirname "$0")/../lib.sh"

start_worker -c 2 -q default
id=$(bin/syncq enqueue --queue default --service syncq --action sleep --payload '{"ms":2000}')

running() { [ "$(count "job_id = '$id' AND status = 'running'")" = 1 ]; }
wait_for 20 "job running" running
worker=$(q "SELECT worker FROM syncq_jobs WHERE job_id = '$id'")
pid=$(echo "$worker" | cut -d: -f2)
kill -0 "$pid" || fail "child $pid from the audit row is not alive"
kill -9 "$pid"
echo "killed child $pid running $id"

finished() { [ "$(count "job_id = '$id' AND status = 'success'")" = 1 ]; }
wait_for 30 "job success after the kill" finished
assert_eq "$(q "SELECT attempts FROM syncq_jobs WHERE job_id = '$id'")" 2 "attempts (the crash used one)"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE job_id = '$id' AND event = 'lost'")" 1 "lost-delivery event"
new=$(q "SELECT worker FROM syncq_jobs WHERE job_id = '$id'")
[ "$new" != "$worker" ] || fail "the job finished on the killed worker id $worker"
grep -q '"event":"master.child_exit".*killed by signal 9' "$W/worker.log" || fail "master did not log why the child died"
kill -0 "$WORKER_PID" || fail "master died"
stop_worker
