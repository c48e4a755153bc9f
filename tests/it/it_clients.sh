#!/bin/bash
# The producer packages against the real Redis: clients/php (phpunit, both
# transports: phpredis and the pure-PHP RESP fallback) and clients/python
# (pytest, redis-py; mypy --strict for its type hints), with Debian's
# phpunit, python3-pytest and mypy. Besides the harness's Redis, a second
# private redis-server with requirepass (and a unix socket) for the
# password, wrong-password and missing-library cases. A worker reads one
# queue of its own: the job each suite puts there must end success in
# PostgreSQL.
. "$(dirname "$0")/../lib.sh"

export SYNCQ_RUN_QUEUE=clients_run
export SYNCQ_IDS_FILE="$W/ids"
export SYNCQ_LIBRARY="$PWD/lib/functions.lua"  # made by make: common/functions.lua plus the record columns
: > "$SYNCQ_IDS_FILE"

# the worker loads the function library into the harness's Redis
start_worker -c 1 -q "$SYNCQ_RUN_QUEUE"

# a port nothing listens on, for "unreachable"
closed=$(_sq_pick_port)
export SYNCQ_CLOSED_URL="redis://127.0.0.1:$closed/0"

# the password has characters a URL must escape
apw='p@ss/w0rd-'$RANDOM
aport=$(_sq_pick_port)
export SYNCQ_AUTH_SOCKET="$W/auth-redis.sock"
redis-server --port "$aport" --bind 127.0.0.1 --requirepass "$apw" --unixsocket "$SYNCQ_AUTH_SOCKET" \
    --unixsocketperm 700 --save '' --appendonly no --dir "$W" --logfile "$W/auth-redis.log" </dev/null >/dev/null 2>&1 &
AUTH_PID=$!
ON_EXIT="kill $AUTH_PID 2>/dev/null; $ON_EXIT"
auth_up() { [ "$(REDISCLI_AUTH="$apw" redis-cli -p "$aport" ping 2>/dev/null)" = PONG ]; }
wait_for 10 "the password-protected redis-server" auth_up
export SYNCQ_AUTH_URL="redis://:$(printf '%s' "$apw" | sed 's/@/%40/g; s#/#%2F#g')@127.0.0.1:$aport/0"

echo "--- phpunit (clients/php)"
(cd clients/php && phpunit) || fail "phpunit"

echo "--- mypy --strict (clients/python: type hints throughout)"
(cd clients/python && mypy --cache-dir "$W/mypy" src tests) || fail "mypy"

echo "--- pytest (clients/python)"
(cd clients/python && PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m pytest -q -p no:cacheprovider) || fail "pytest"

# PhpRedisClientTest, RespClientTest and the Python suite each queued one job
assert_eq "$(wc -l < "$SYNCQ_IDS_FILE")" 3 "jobs the suites left for the worker"
ids=$(sed "s/.*/'&'/" "$SYNCQ_IDS_FILE" | paste -sd,)
done_() { [ "$(count "job_id IN ($ids) AND status = 'success'")" = 3 ]; }
wait_for 20 "the clients' jobs to succeed" done_
assert_eq "$(q "SELECT string_agg(actor, ',' ORDER BY actor) FROM syncq_jobs WHERE job_id IN ($ids)")" \
    "php-client,php-client,python-client" "who enqueued them"
assert_eq "$(q "SELECT count(*) FROM syncq_jobs WHERE job_id IN ($ids) AND queue = '$SYNCQ_RUN_QUEUE'")" 3 \
    "their queue"
stop_worker
