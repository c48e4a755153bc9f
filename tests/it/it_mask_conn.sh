#!/bin/bash
# Issue 9 item 10: libpq and hiredis quote a malformed connection string in
# their error text; syncq scrubs it before printing, so the password never
# reaches stdout or stderr.
. "$(dirname "$0")/../lib.sh"

# run_masked NAME ENV=VALUE... -- CMD...: run CMD, expect a failure that says
# something, and no TopSecret3 anywhere in its output
run_masked() {
    local name=$1 rc=0
    shift
    env "$@" > "$W/$name.out" 2>&1 || rc=$?
    cat "$W/$name.out"
    [ "$rc" -ne 0 ] || fail "$name: succeeded with a broken URL"
    [ -s "$W/$name.out" ] || fail "$name: failed without a word"
    if grep -o 'TopSecret3' "$W/$name.out"; then fail "$name printed the password"; fi
    echo "ok: $name (exit $rc) without the password"
}

bad_pg='postgresql://postgres:TopSecret3@[bad'
run_masked health SYNCQ_DATABASE_URL="$bad_pg" bin/syncq health
run_masked migrate SYNCQ_DATABASE_URL="$bad_pg" bin/syncq migrate
run_masked jobs SYNCQ_DATABASE_URL="$bad_pg" bin/syncq jobs
run_masked pg_port SYNCQ_DATABASE_URL='postgresql://postgres:TopSecret3@127.0.0.1:99999/x' bin/syncq migrate
run_masked pg_kw SYNCQ_DATABASE_URL='host=127.0.0.1 port=1 password=TopSecret3 connect_timeout=2' bin/syncq migrate
run_masked redis_bad SYNCQ_REDIS_URL='redis://:TopSecret3@[bad' bin/syncq stats
run_masked redis_refused SYNCQ_REDIS_URL='redis://:TopSecret3@127.0.0.1:1/0' bin/syncq stats
