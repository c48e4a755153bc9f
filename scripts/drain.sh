#!/bin/bash
# drain.sh TREE N: a whole-build A/B yardstick. Enqueue N no-op jobs with
# TREE's syncq, run TREE's worker (-c 2) until
# every job's audit row says success (MASTERS=2: two workers of -c 1, so
# two audit writers); RPORT and PPORT name a Redis and a PostgreSQL
# (postgres user) already running (scripts/servers.sh). Time two builds in turn, e.g.
#   farm-bench -n 7 --vs "scripts/drain.sh ../base 20000" -- scripts/drain.sh . 20000
set -e
T=$(cd "$1" && pwd); N=${2:-20000}
: "${RPORT:?RPORT: the Redis port}" "${PPORT:?PPORT: the PostgreSQL port}"
db=d$$r$RANDOM
psql -X -q -h 127.0.0.1 -p "$PPORT" -U postgres -c "CREATE DATABASE $db" postgres
export SYNCQ_REDIS_URL="redis://127.0.0.1:$RPORT/0" SYNCQ_DATABASE_URL="host=127.0.0.1 port=$PPORT user=postgres dbname=$db"
export SYNCQ_PREFIX=b$db SYNCQ_METRICS_ADDR=off SYNCQ_QUEUES=urgent
cd "$T"
bin/syncq migrate > /dev/null 2>&1
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"noop\",\"target_id\":\"%d\"}\n", i }' > /tmp/$db.ndjson
bin/syncq enqueue --queue urgent --batch /tmp/$db.ndjson > /dev/null
M=${MASTERS:-1}
w=""
for _ in $(seq 1 "$M"); do
    bin/syncq-worker -c $((2 / M)) -q urgent 2>> /tmp/$db.log &
    w="$w $!"
done
until [ "$(psql -X -At -h 127.0.0.1 -p "$PPORT" -U postgres -c "SELECT count(*) FROM syncq_jobs WHERE status = 'success'" "$db")" -ge "$N" ]; do sleep 0.2; done
kill -TERM $w; wait $w || true # several pids: word splitting wanted
psql -X -q -h 127.0.0.1 -p "$PPORT" -U postgres -c "DROP DATABASE $db WITH (FORCE)" postgres
[ -z "${KEEP_LOG:-}" ] || cp /tmp/$db.log "$KEEP_LOG"
rm -f /tmp/$db.ndjson /tmp/$db.log
