#!/bin/bash
# run.sh - run libFuzzer harnesses for a fixed time each (make fuzz-run, and
# the fuzz_* entries of tests/run.sh).
#
#   bash fuzz/run.sh NAME...      NAME is envelope, wrap, mask, services or link
#
# FUZZ_DIR      where the harnesses were built (build/fuzz)
# FUZZ_SECONDS  time per harness (20)
# FUZZ_WORK     scratch directory (a fresh temp dir by default); the committed
#               corpus under fuzz/corpus/NAME is only read, new inputs go here
# Each run fails (exit 1) on a crash, a leak, a sanitizer report, a timeout
# (10 s for one input) or a violated property (inputs are cut to 64 KiB: the
# 1 MiB size vectors would otherwise make every mutation a megabyte); the input that did it is kept
# in FUZZ_DIR/artifacts/. The last line of output sums up the run.
set -u
cd "$(dirname "$0")/.." || exit 70
FUZZ_DIR=${FUZZ_DIR:-build/fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
[ $# -gt 0 ] || { echo "usage: bash fuzz/run.sh NAME..." >&2; exit 64; }

own_work=""
if [ -z "${FUZZ_WORK:-}" ]; then
    FUZZ_WORK=$(mktemp -d /tmp/syncq-fuzz.XXXXXX)
    own_work=$FUZZ_WORK
fi
trap '[ -n "$own_work" ] && rm -rf "$own_work"' EXIT
art=$(cd "$FUZZ_DIR" 2>/dev/null && pwd)/artifacts
mkdir -p "$art"

# seeds NAME: the read-only seed directories of a harness, besides its corpus.
seeds() {
    case "$1" in
        envelope | mask) echo tests/vectors/valid tests/vectors/invalid ;;
        wrap) echo tests/vectors/valid ;;
    esac
}

# Reports go to the log (not to the suite's ASan log_path), so the test's
# output shows them; libFuzzer turns each into a failing exit status.
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
SAN_PATTERN='runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer|UndefinedBehaviorSanitizer|PROPERTY VIOLATED'

status=0
for name in "$@"; do
    bin=$FUZZ_DIR/fuzz_$name
    if [ ! -x "$bin" ]; then
        echo "fuzz_$name: no harness at $bin (run make fuzz)"
        status=1
        continue
    fi
    work=$FUZZ_WORK/$name
    mkdir -p "$work/corpus"
    dict=()
    [ -f "fuzz/$name.dict" ] && dict=(-dict="$PWD/fuzz/$name.dict")
    dirs=("$PWD/fuzz/corpus/$name")
    for d in $(seeds "$name"); do dirs+=("$PWD/$d"); done
    abs_bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
    (cd "$work" && "$abs_bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$art/$name-" "${dict[@]}" corpus "${dirs[@]}") \
        > "$work/fuzz.log" 2>&1
    rc=$?
    cat "$work/fuzz.log"
    if [ $rc -eq 0 ] && grep -qE "$SAN_PATTERN" "$work/fuzz.log"; then rc=1; fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -n 1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log" | tail -n 1)
    last=$(grep -E '^#[0-9]+.*cov: ' "$work/fuzz.log" | tail -n 1)
    cov=$(printf '%s\n' "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(printf '%s\n' "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
    if [ $rc -eq 0 ]; then
        echo "fuzz_$name: ok, ${runs:-?} runs in ${FUZZ_SECONDS} s (${speed:-?} exec/s), cov ${cov:-?} ft ${ft:-?} corpus ${corp:-?}"
    else
        echo "fuzz_$name: FAILED (exit $rc); the input is under $art/ (rerun: $abs_bin FILE)"
        status=1
    fi
done
exit $status
