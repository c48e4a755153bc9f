#!/bin/bash
# A cursor sync against a service whose cursors hold "+", "/", "=" and "&"
# (standard base64 with padding, as some services send): the worker sends the
# cursor back percent-encoded, so the walk reads every page and the snapshot
# converges to exactly the 1,001 remote records (pages of 100). Sent raw, "&"
# cut the cursor and "+" read as a space: the mock refused page 2.
. "$(dirname "$0")/../lib.sh"

start_mock
mock_services sync.json.in
mock POST /_admin/seed '{"zone":"c.example","count":1001}' >/dev/null
mock POST /_admin/cursors '{"raw":true}' >/dev/null
start_worker -c 1 -q sync

ended() { [ "$(count "job_id = '$1' AND status IN ('success', 'dead')")" = 1 ]; }
id=$(bin/syncq enqueue --kind sync --service dns --action sync_records_cursor --scope c.example 2>/dev/null)
wait_for 60 "the cursor sync" ended "$id"
assert_eq "$(q "SELECT status || ' ' || attempts FROM syncq_jobs WHERE job_id = '$id'")" "success 1" "the sync with +/=& cursors"
assert_eq "$(q "SELECT result->>'pages' FROM syncq_jobs WHERE job_id = '$id'")" 11 "pages walked"

mock GET /_admin/calls | /usr/bin/python3 -c '
import json, sys, urllib.parse
qs = [c["query"] for c in json.load(sys.stdin) if c["path"] == "/cursor/zones/c.example/records"]
cur = [dict(urllib.parse.parse_qsl(q))["cursor"] for q in qs if "cursor=" in q]
assert len(cur) == 10, cur
assert all(c.startswith("q+/=&") and c.endswith("=") for c in cur), cur
' || fail "the cursors did not come back whole"

mock GET "/_admin/records?zone=c.example" | /usr/bin/python3 -c "import json,sys; print('\n'.join(sorted(str(r['id']) for r in json.load(sys.stdin))))" > "$W/remote"
q "SELECT external_id FROM syncq_snapshots WHERE resource = 'records_cursor' AND scope = 'c.example' ORDER BY external_id" > "$W/local"
assert_eq "$(wc -l < "$W/local")" 1001 "snapshot rows"
cmp -s "$W/remote" "$W/local" || fail "the snapshot differs from the remote set"
echo "ok: a walk with +/=& cursors converged to the 1,001 remote records"
