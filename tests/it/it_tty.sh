#!/bin/bash
# Issue 9 item 11: values that producers or services control (target type
# and id, scope, actor, ids, errors) reach the terminal escaped: no ESC, BEL,
# C1 control (raw or UTF-8 U+0080-U+009F) or bidi override in any
# human-readable output; --json stays valid JSON.
. "$(dirname "$0")/../lib.sh"
export COLUMNS=400 # whole cells: the escaping is under test here, not the cutting (it_cli_polish)

# hostile: the bytes a terminal must never receive from data
hostile() { # FILE WHAT
    /usr/bin/python3 - "$1" "$2" <<'PY'
import re, sys
data = open(sys.argv[1], "rb").read()
bad = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]|(?<![\xc0-\xff])[\x80-\x9f](?![\x80-\xbf])")
m = bad.search(data)
if m:
    print("FAIL: %s prints %r raw at byte %d: %r" % (sys.argv[2], m.group(0), m.start(), data[max(0, m.start() - 40):m.start() + 20]))
    sys.exit(1)
print("ok: %s: %d bytes, no raw control character" % (sys.argv[2], len(data)))
PY
}

esc=$'\e'
tt="${esc}]0;pwned"$'\a'
tid="${esc}[31mRED${esc}[0m"
scope=$'\u202eevil\u2066'
actor=$'user\u009b31m'
id=$(bin/syncq enqueue --queue default --service syncq --action fail --target-type "$tt" --target-id "$tid" \
    --scope "$scope" --actor "$actor" --payload "{\"permanent\":true,\"message\":\"err \\u001b[2J\\u009b\\u202e\"}")
start_worker -c 1 -q default
dead_n() { [ "$(r ZCARD "$(key default dead)")" -ge 1 ]; }
wait_for 20 "the dead letter" dead_n
# a forged dead letter (anyone who can write to Redis): its id holds ESC, a
# UTF-8 C1 control and a raw C1 byte
forged="forged$(printf '\033[2J\302\233\233')x"
r HSET "$(key default deadjobs)" "$forged" "$(r HGET "$(key default deadjobs)" "$id")" >/dev/null
r ZADD "$(key default dead)" "$(r ZSCORE "$(key default dead)" "$id")" "$forged" >/dev/null

bin/syncq jobs > "$W/jobs.txt"
grep -aq 'RED' "$W/jobs.txt" || fail "syncq jobs does not list the hostile job"
hostile "$W/jobs.txt" "syncq jobs"
bin/syncq jobs show "$id" > "$W/show.txt"
grep -aq 'pwned' "$W/show.txt" || fail "jobs show lacks the target type"
hostile "$W/show.txt" "syncq jobs show"
bin/syncq status "$id" > "$W/status.txt"
hostile "$W/status.txt" "syncq status"
bin/syncq dlq ls > "$W/dlq.txt"
cat "$W/dlq.txt"
grep -aq "$id" "$W/dlq.txt" || fail "dlq ls does not list the hostile job"
grep -aq "forged" "$W/dlq.txt" || fail "dlq ls does not list the forged id"
hostile "$W/dlq.txt" "syncq dlq ls"
bin/syncq dlq show "$id" > "$W/dlqshow.txt"
hostile "$W/dlqshow.txt" "syncq dlq show"
bin/syncq health > "$W/health.txt"
hostile "$W/health.txt" "syncq health"

# --json stays JSON, with the values intact
bin/syncq jobs --json > "$W/jobs.json"
/usr/bin/python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))["jobs"]
hit = [r for r in rows if r.get("target_id") == sys.argv[2]]
assert hit, "the target id did not survive --json intact"
assert "\x1b[2J" in hit[0]["error"], "the error did not survive --json intact: %r" % hit[0]["error"]
' "$W/jobs.json" "$tid" || fail "syncq jobs --json"
bin/syncq jobs show "$id" --json | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["actor"]==sys.argv[1], d["actor"]' "$actor" || fail "jobs show --json"
bin/syncq dlq ls --json > "$W/dlq.json"
/usr/bin/python3 -c '
import json, sys
ids = [json.loads(l)["id"] for l in open(sys.argv[1], encoding="utf-8", errors="surrogateescape") if l.strip()]
assert any(i.startswith("forged\x1b[2J\u009b") for i in ids), ids
' "$W/dlq.json" || fail "dlq ls --json is not JSON"
echo "ok: --json is valid and keeps the values as they are"
stop_worker
