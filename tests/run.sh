#!/bin/bash
# run.sh - the whole suite (make test): cmocka unit tests, the libFuzzer
# harnesses of fuzz/ (FUZZ_SECONDS each), then every tests/it/*.sh against
# one private Redis and one private PostgreSQL started here and torn down on
# exit. With SANITIZE=1 the binaries carry ASan/UBSan and
# the run fails when any sanitizer log appears (docs/DESIGN.md §10).
set -u
cd "$(dirname "$0")/.." || exit 70
B=${BUILD_DIR:-build/rel}
ONLY=${TESTS:-}          # e.g. TESTS=it_poison make test; VERBOSE=1 shows passing logs too
REPEAT=${REPEAT:-1}      # runs of each integration test (make soak)
. scripts/servers.sh

tmp=$(mktemp -d /tmp/syncq-test.XXXXXX)
chmod 755 "$tmp"
cleanup() {
    servers_stop
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$tmp/san"
chmod 777 "$tmp/san"
export ASAN_OPTIONS="log_path=$tmp/san/asan:detect_leaks=1"
export UBSAN_OPTIONS="log_path=$tmp/san/ubsan:print_stacktrace=1:halt_on_error=1"
# A test that forgets its URL must fail, not reach a system daemon.
export SYNCQ_REDIS_URL="redis://127.0.0.1:1/0"
export SYNCQ_DATABASE_URL="host=127.0.0.1 port=1 dbname=nowhere connect_timeout=2"
unset PGHOST PGPORT PGDATABASE PGUSER SYNCQ_PREFIX

# Sanitizer reports: ASan writes to log_path, but GCC's UBSan in a combined
# ASan+UBSan build prints to stderr whatever UBSAN_OPTIONS says; so the
# harness also scans every log the tests leave (worker logs included).
SAN_PATTERN='runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer|UndefinedBehaviorSanitizer'
san_reports() { # dir: list files holding a sanitizer report
    grep -rlE "$SAN_PATTERN" "$1" 2>/dev/null
    find "$1/san" -type f 2>/dev/null
}

# canary: prove the detector sees a report from a sanitized child process
if [ "${SANITIZE:-0}" = 1 ]; then
    mkdir -p "$tmp/canary"
    printf '#include <limits.h>\nint main(int c, char **v) { (void)v; int x = INT_MAX; x += c; return x == 0; }\n' > "$tmp/canary/ub.c"
    cc -fsanitize=address,undefined -fno-sanitize-recover=all -o "$tmp/canary/ub" "$tmp/canary/ub.c" &&
        (cd "$tmp/canary" && ./ub > out.log 2>&1)
    if [ -z "$(san_reports "$tmp/canary")" ]; then
        echo "the sanitizer canary went unseen: the harness cannot detect reports"
        exit 70
    fi
    rm -rf "$tmp/canary"
fi

passed=0 failed=0 failures=""
t0=$(date +%s)

record() { # name rc log
    if [ "$2" -eq 0 ]; then
        passed=$((passed + 1))
        printf 'ok   %s\n' "$1"
        [ "${VERBOSE:-0}" = 1 ] && sed 's/^/     | /' "$3"
    else
        failed=$((failed + 1))
        failures="$failures $1"
        printf 'FAIL %s (exit %s)\n' "$1" "$2"
        tail -n 40 "$3" | sed 's/^/     | /'
    fi
}

selected() { [ -z "$ONLY" ] || case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

echo "== unit tests ($B)"
for t in "$B"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    selected "$name" || continue
    "$t" > "$tmp/$name.log" 2>&1
    record "$name" $? "$tmp/$name.log"
done

# Fuzz tests: every harness of fuzz/ for FUZZ_SECONDS (make fuzz builds them
# with ASan + UBSan whatever SANITIZE says). They grow their corpus in $tmp,
# never in the committed fuzz/corpus/.
FUZZ_DIR=${FUZZ_DIR:-build/fuzz}
echo "== fuzz tests (${FUZZ_SECONDS:-10} s each, $FUZZ_DIR)"
for src in fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    selected "$name" || continue
    FUZZ_DIR=$FUZZ_DIR FUZZ_WORK="$tmp/fuzz" bash fuzz/run.sh "${name#fuzz_}" > "$tmp/$name.log" 2>&1
    rc=$?
    summary=$(tail -n 1 "$tmp/$name.log" | sed -n 's/^fuzz_[a-z]*: ok, //p')
    record "$name${summary:+ ($summary)}" $rc "$tmp/$name.log"
done

echo "== integration tests"
servers_start "$tmp/srv" || { echo "could not start Redis/PostgreSQL"; exit 69; }
sq_psql postgres -c "CREATE DATABASE syncq_tpl" >/dev/null || exit 69
SYNCQ_DATABASE_URL="$SQ_PG_BASE dbname=syncq_tpl" bin/syncq migrate >/dev/null || exit 70
export SQ_TEMPLATE=syncq_tpl SQ_TMP="$tmp"

for t in tests/it/*.sh; do
    name=$(basename "$t" .sh)
    selected "$name" || continue
    # 300 s each, unless the test asks for more in a "# test-timeout: SECONDS" line
    limit=$(sed -n 's/^# test-timeout: \([0-9][0-9]*\)$/\1/p' "$t" | head -1)
    for run in $(seq 1 "$REPEAT"); do
        label=$name
        [ "$REPEAT" = 1 ] || label="$name#$run"
        s=$(date +%s)
        timeout -k 10 "${limit:-300}" bash "$t" > "$tmp/$name.log" 2>&1
        rc=$?
        record "$label ($(( $(date +%s) - s )) s)" $rc "$tmp/$name.log"
        echo "$name $rc" >> "$tmp/runs.txt"
    done
done
if [ "$REPEAT" != 1 ] && [ -f "$tmp/runs.txt" ]; then
    echo "== per test ($REPEAT runs each)"
    awk '{ n[$1]++; if ($2 == 0) ok[$1]++ } END { for (t in n) printf "%-28s %d/%d passed\n", t, ok[t], n[t] }' \
        "$tmp/runs.txt" | sort
fi

reports=$(san_reports "$tmp" | sort -u)
if [ -n "$reports" ]; then
    echo "== sanitizer reports (a report in any process fails the run)"
    for f in $reports; do
        echo "--- $f"
        head -n 60 "$f"
    done
    failed=$((failed + 1))
    failures="$failures sanitizers"
fi

echo "== $passed passed, $failed failed in $(( $(date +%s) - t0 )) s${failures:+:$failures}"
[ "$failed" -eq 0 ]
