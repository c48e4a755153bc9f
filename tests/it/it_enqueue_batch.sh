#!/bin/bash
# `syncq enqueue --batch` answers every input line on stdout, in order: the
# job id, "line N: refused: why", or "line N: empty, skipped"; with stderr on
# a terminal (and stdout not) it shows a progress line there.
. "$(dirname "$0")/../lib.sh"

{
    echo '{"id":"b-1","kind":"mutation","service":"syncq","action":"noop"}'
    echo '{"id":"b-2","kind":"mutation","service":"syncq"'
    echo ''
    echo '{"id":"b-4","kind":"mutation","service":"syncq","action":"noop"}'
    echo '{"id":"b-5","kind":"mutation","action":"noop"}'
    echo '{"id":"b-6","kind":"mutation","service":"syncq","action":"noop"}'
} > "$W/in.ndjson"

rc=0
bin/syncq enqueue -q default --batch "$W/in.ndjson" > "$W/out" 2> "$W/err" || rc=$?
cat "$W/out" "$W/err"
assert_eq "$rc" 65 "exit code with refused lines"
assert_eq "$(wc -l < "$W/out")" 6 "one output line per input line"
assert_eq "$(sed -n 1p "$W/out")" b-1 "line 1: the id"
sed -n 2p "$W/out" | grep -q '^line 2: refused: ' || fail "line 2 is not refused with its line number"
assert_eq "$(sed -n 3p "$W/out")" "line 3: empty, skipped" "line 3"
assert_eq "$(sed -n 4p "$W/out")" b-4 "line 4: the id"
sed -n 5p "$W/out" | grep -q '^line 5: refused: .*service' || fail "line 5 is not refused for its missing service"
assert_eq "$(sed -n 6p "$W/out")" b-6 "line 6: the id"
grep -q '3 job(s) sent, 2 line(s) refused' "$W/err" || fail "no summary on stderr"
grep -q 'line(s) read' "$W/err" && fail "a progress line on a stderr that is not a terminal"

# stderr on a pseudo-terminal, stdout into a file: a progress line
python3 - "$W" <<'PY' || fail "no progress line on a terminal"
import os, pty, subprocess, sys
w = sys.argv[1]
master, slave = pty.openpty()
with open(w + "/out2", "w") as out:
    p = subprocess.Popen(["bin/syncq", "enqueue", "-q", "default", "--batch", w + "/in.ndjson"],
                         stdout=out, stderr=slave)
    os.close(slave)
    err = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        err += chunk
    p.wait()
text = err.decode()
print(repr(text))
sys.exit(0 if "\rsyncq enqueue: 6 line(s) read, 3 job(s) sent, 2 refused" in text else 1)
PY
assert_eq "$(wc -l < "$W/out2")" 6 "one output line per input line with progress on"
