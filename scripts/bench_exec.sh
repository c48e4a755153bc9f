# shellcheck shell=bash
# bench_exec.sh - sourced by scripts/bench.sh (BENCH_EXEC=1): the exec handlers
# (docs/HANDLERS.md), the same PHP script (examples/handlers/greet.php, next to
# a no-op) as a persistent program and per_job, C children each: jobs/s side by
# side. Uses bench.sh's tmp, C, now, sq_psql, WPID.
bench_exec() {
    EPN=${BENCH_EXEC_PER_JOB_N:-300}
    EN=${BENCH_EXEC_N:-3000}
    cat > "$tmp/exec.json" <<'JSON'
{"services": {
  "php_persistent": {"exec": {"command": ["php", "examples/handlers/greet.php"], "mode": "persistent"}, "actions": {"noop": {}}},
  "php_per_job": {"exec": {"command": ["php", "examples/handlers/greet.php"]}, "actions": {"noop": {}}}}}
JSON
    exec_rate() { # service n: enqueue n jobs, then time a worker until they are committed
        local svc=$1 n=$2 t0 t1
        awk -v n="$n" -v s="$svc" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"kind\":\"mutation\",\"service\":\"%s\",\"action\":\"noop\",\"target_id\":\"%d\"}\n", s, i }' > "$tmp/exec.ndjson"
        bin/syncq enqueue --queue execq --batch "$tmp/exec.ndjson" > /dev/null 2>&1
        t0=$(now)
        SYNCQ_SERVICES="$tmp/exec.json" bin/syncq-worker -c "$C" -q execq 2>>"$tmp/exec-worker.log" &
        WPID=$!
        until [ "$(sq_psql bench -At -c "SELECT count(*) FROM syncq_jobs WHERE service = '$svc' AND status = 'success'")" -ge "$n" ]; do
            kill -0 "$WPID" 2>/dev/null || { echo "worker died:"; tail "$tmp/exec-worker.log"; exit 1; }
            sleep 0.1
        done
        t1=$(now)
        kill -TERM "$WPID"; wait "$WPID" || true; WPID=""
        awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n / (b - a) }'
    }
    per_job=$(exec_rate php_per_job "$EPN")
    persistent=$(exec_rate php_persistent "$EN")
    echo "  exec handler, the same PHP script, $C children (from worker start to committed rows):"
    awk -v a="$persistent" -v b="$per_job" -v n="$EN" -v m="$EPN" \
        'BEGIN { printf "    persistent: %.1f jobs/s (%d jobs)   per_job: %.1f jobs/s (%d jobs)   persistent/per_job: %.1fx\n", a, n, b, m, a / b }'
}
