#!/bin/bash
# The README's "A deployment, step by step" transcript (between the
# walkthrough markers) runs command for command, and each command prints what
# the README shows under it. Values that differ from run to run (job ids, RFC
# 3339 times, durations, ages, numeric ids of users) are compared as
# placeholders; everything else must match exactly. So the walk-through cannot
# drift from the code: change an output and this test names the command.
# test-timeout: 180
. "$(dirname "$0")/../lib.sh"

sed -n '/^<!-- walkthrough -->$/,/^<!-- \/walkthrough -->$/p' README.md | sed '/^<!--/d; /^```/d' > "$W/transcript"
[ "$(grep -c '^\$ ' "$W/transcript")" -ge 8 ] || fail "no walkthrough transcript in README.md"

# Split it: a command is a "$ " line plus its "\" continuations; the lines up
# to the next "$ " are its output. Commands run in one shell, in order.
/usr/bin/python3 - "$W/transcript" "$W/script.sh" "$W/expect" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
if lines and lines[-1] == "":
    lines.pop()
cmds, outs, i = [], [], 0
while i < len(lines):
    if not lines[i].startswith("$ "):
        sys.exit("transcript line %d is neither a command nor output of one: %r" % (i + 1, lines[i]))
    cmd = [lines[i][2:]]
    while cmd[-1].endswith("\\"):
        i += 1
        cmd.append(lines[i])
    i += 1
    out = []
    while i < len(lines) and not lines[i].startswith("$ "):
        out.append(lines[i])
        i += 1
    cmds.append("\n".join(cmd))
    outs.append(out)
with open(sys.argv[2], "w") as f:
    for n, c in enumerate(cmds):
        f.write("printf '\\n@@ %d\\n'\n%s\n" % (n, c))
with open(sys.argv[3], "w") as f:
    for n, o in enumerate(outs):
        f.write("@@ %d\n" % n)
        for l in o:
            f.write(l + "\n")
PY

# what differs from run to run
norm() {
    sed -E -e 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/<id>/g' \
        -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z/<time>/g' \
        -e 's/\b[0-9]+(\.[0-9]+)? ?(us|ms|s|m|h)\b/<dur>/g' \
        -e 's/127\.0\.0\.1:[0-9]+/127.0.0.1:<port>/g' -e 's/(GID|UID) [0-9]+/\1 <n>/g; s/:x:[0-9]+:[0-9]+:/:x:<n>:<n>:/' \
        -e 's/[[:space:]]+$//'
}

# The transcript's own environment: the reader's shell has Redis and
# PostgreSQL reachable (SYNCQ_REDIS_URL, SYNCQ_DATABASE_URL, exported by
# lib.sh) and the metrics port free; the README's default 9464 may be taken
# by another run, so it gets a free one the same way.
export SYNCQ_METRICS_ADDR="127.0.0.1:$(_sq_pick_port)"
# a database never migrated, as on a new host (lib.sh's is a migrated clone)
sq_psql postgres -c "CREATE DATABASE \"${DB}_new\"" > /dev/null
ON_EXIT="sq_psql postgres -c 'DROP DATABASE IF EXISTS \"${DB}_new\" WITH (FORCE)' > /dev/null 2>&1 || true; $ON_EXIT"
export SYNCQ_DATABASE_URL="$SQ_PG_BASE dbname=${DB}_new"
export HOME="$W/home" TMPDIR="$W" && mkdir -p "$HOME"
# make install inside the transcript builds what this run tests (SANITIZE=1 too)
[ "${SANITIZE:-0}" = 1 ] && export MAKEFLAGS="SANITIZE=1"
# the staged binaries run from under $W: whatever the transcript left running dies with the test
ON_EXIT="pkill -f '^$W/' 2>/dev/null || true; $ON_EXIT"
# (tee: a transcript that hangs still shows how far it got in the test's log)
{ echo "exec 9> '$W/trace'; BASH_XTRACEFD=9; set -x"; cat "$W/script.sh"; } > "$W/run.sh"
bash -e "$W/run.sh" 2>&1 | tee "$W/actual.raw" || {
    tail -n 20 "$W/trace"
    fail "the transcript stopped with an error (output and trace above)"
}
# blank lines carry nothing (each marker starts with one, for output without a final newline)
norm < "$W/expect" | sed '/^$/d' > "$W/expect.n"
norm < "$W/actual.raw" | sed '/^$/d' > "$W/actual.n"
if ! diff -u "$W/expect.n" "$W/actual.n" > "$W/diff"; then
    cat "$W/diff"
    fail "the README walk-through prints something else now (diff above: - README, + actual; '@@ N' is the Nth command)"
fi
echo "ok: $(grep -c '^@@' "$W/expect.n") commands print what the README shows"
