#!/bin/bash
# `syncq snapshot ls` over snapshots written by real syncs from the mock DNS
# service: 250 records in a.example and 3 in b.example; a page of 100 with a
# cursor; the cursors walk all 250 once, in order; --json lines parse and
# carry data; both scopes without --scope, each under its last sync time;
# --status; a cursor over a scope and ids full of separators and quotes;
# usage errors exit 64, an unreachable PostgreSQL 69 with the password masked.
. "$(dirname "$0")/../lib.sh"

start_mock
mock_services sync.json.in
mock POST /_admin/seed '{"zone":"a.example","count":250}' >/dev/null
mock POST /_admin/seed '{"zone":"b.example","count":3,"prefix":"b"}' >/dev/null
start_worker -c 2 -q sync

ls_() { bin/syncq snapshot ls dns records "$@"; }
ended() { [ "$(count "job_id = '$1' AND status IN ('success', 'dead')")" = 1 ]; }
for zone in a.example b.example; do
    id=$(bin/syncq enqueue --kind sync --service dns --action sync_records --scope "$zone" 2>/dev/null)
    wait_for 60 "the sync of $zone" ended "$id"
    assert_eq "$(q "SELECT status FROM syncq_jobs WHERE job_id = '$id'")" success "the sync of $zone"
done
stop_worker

# nothing synced yet for this one: the header says so
ls_ --scope nowhere.example > "$W/none.txt"
grep -Eq '^  nowhere.example +never$' "$W/none.txt" || fail "a scope never synced: $(cat "$W/none.txt")"
grep -qx '(no rows)' "$W/none.txt" || fail "an empty page"

# a page of 100 and its cursor, as a person sees it
ls_ --scope a.example --limit 100 > "$W/p1.txt"
head -n 6 "$W/p1.txt"
tail -n 2 "$W/p1.txt"
assert_eq "$(grep -c ' synced ' "$W/p1.txt")" 100 "rows on a page of --limit 100"
grep -Eq '^SCOPE +EXTERNAL_ID +STATUS +WRITTEN_AT +HASH +DATA +ERROR$' "$W/p1.txt" || fail "the table header"
tail -n 1 "$W/p1.txt" | grep -Eq "^next page: --after '[^']+'$" || fail "no cursor under a full page"
last_a=$(q "SELECT to_char(max(finished_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM syncq_jobs WHERE scope = 'a.example'")
grep -Eq "^  a\.example +$last_a  sync_records$" "$W/p1.txt" || fail "the last sync of a.example ($last_a)"
hash=$(q "SELECT left(content_hash, 12) || ' ' FROM syncq_snapshots WHERE scope = 'a.example' ORDER BY external_id LIMIT 1")
grep -E '^a\.example +0000000001 +synced +[0-9T:-]{19}Z ' "$W/p1.txt" | grep -F "$hash" | grep -qF '{"id": "0000000001", "ttl": 300, "name": "r1", ' ||
    fail "the first row: scope, id, status, time, short hash, data excerpt"

# every page after it, by the printed cursors: all 250 once, in order
want=$(q "SELECT string_agg(external_id, ' ' ORDER BY external_id) FROM syncq_snapshots WHERE scope = 'a.example'")
got="" pages=0 after=()
while :; do
    ls_ --scope a.example --limit 100 "${after[@]}" > "$W/page.txt"
    pages=$((pages + 1))
    got="$got $(awk '$1 == "a.example" && $3 == "synced" { print $2 }' "$W/page.txt" | tr '\n' ' ')"
    cursor=$(sed -n "s/^next page: --after '\(.*\)'$/\1/p" "$W/page.txt")
    [ -n "$cursor" ] || break
    after=(--after "$cursor")
    [ "$pages" -lt 10 ] || fail "more pages than rows"
done
got=$(echo $got)
assert_eq "$pages" 3 "pages of 100 over 250 rows"
assert_eq "$(echo "$got" | wc -w)" 250 "rows over every page"
[ "$got" = "$want" ] || fail "the pages do not hold every row once, in order"
echo "ok: three pages hold all 250 rows once, in (scope, external_id) order"

# --json: one object per line, every column, data as JSON; the cursor on stderr
ls_ --scope a.example --limit 100 --json > "$W/p1.json" 2> "$W/p1.err"
/usr/bin/python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 100, len(rows)
keys = {"service", "resource", "scope", "external_id", "data", "content_hash", "sync_status", "sync_error",
        "last_synced_at", "written_at", "written_by", "cursor"}
for r in rows:
    assert set(r) == keys, set(r) ^ keys
    assert r["service"] == "dns" and r["resource"] == "records" and r["scope"] == "a.example"
    assert isinstance(r["data"], dict) and r["data"]["id"] == r["external_id"] and r["data"]["ttl"] == 300
    assert len(r["content_hash"]) == 32 and r["sync_status"] == "synced" and r["sync_error"] is None
' "$W/p1.json" || fail "--json lines"
echo "ok: --json gives 100 lines of JSON objects with every column and data"
grep -qF "next page: --after '$(tail -n 1 "$W/p1.json" | /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["cursor"])')'" "$W/p1.err" ||
    fail "--json: the next cursor is not the last row's"

# without --scope: both scopes, each under its last sync
ls_ --limit 1000 > "$W/all.txt"
assert_eq "$(grep -c '^a\.example .* synced ' "$W/all.txt")/$(grep -c '^b\.example .* synced ' "$W/all.txt")" 250/3 \
    "rows per scope without --scope"
grep -q '^next page' "$W/all.txt" && fail "a cursor under the last page"
grep -Eq '^  b\.example +[0-9T:-]{19}Z  sync_records$' "$W/all.txt" || fail "the last sync of b.example"
grep -Eq '^  a\.example +[0-9T:-]{19}Z  sync_records$' "$W/all.txt" || fail "the last sync of a.example"
ls_ --limit 250 > "$W/cross.txt"
cursor=$(sed -n "s/^next page: --after '\(.*\)'$/\1/p" "$W/cross.txt")
assert_eq "$(ls_ --after "$cursor" | awk '$3 == "synced" { print $1 }' | tr '\n' ' ')" "b.example b.example b.example " \
    "the page after the last row of a.example"

# --status
assert_eq "$(ls_ --status pending --json | wc -l)" 0 "--status pending"
q "UPDATE syncq_snapshots SET sync_status = 'failed', sync_error = 'HTTP 500 from https://u:s3cret@dns.example/x
second line' WHERE scope = 'b.example' AND external_id = '0000000002'" >/dev/null
ls_ --status failed > "$W/failed.txt"
cat "$W/failed.txt"
grep -Eq '^b\.example +0000000002 +failed .*HTTP 500 from https://u:\*{8}@dns.example/x second line$' "$W/failed.txt" ||
    fail "--status failed: the row and its error, masked, on one line"
grep -q s3cret "$W/failed.txt" && fail "a secret in snapshot ls output"

# a cursor survives any scope and id: commas, quotes, percents, spaces, non-ASCII
q "INSERT INTO syncq_snapshots (service, resource, scope, external_id, data, content_hash)
   SELECT 'dns', 'odd', 'z,1 %2C''\"', id, jsonb_build_object('id', id), md5(id)
     FROM unnest(ARRAY['a,b', 'a,b,', '%41', 'it''s', 'é ü', 'x y', '\\', '~-._']) AS id" >/dev/null
want=$(q "SELECT string_agg(external_id, '|' ORDER BY external_id) FROM syncq_snapshots WHERE resource = 'odd'")
got="" after=()
for _ in 1 2 3 4 5 6 7 8 9; do
    bin/syncq snapshot ls dns odd --limit 1 --json "${after[@]}" > "$W/odd.json" 2> "$W/odd.err"
    got="$got|$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["external_id"])' < "$W/odd.json")"
    cursor=$(sed -n "s/^next page: --after '\(.*\)'$/\1/p" "$W/odd.err")
    [ -n "$cursor" ] || break
    after=(--after "$cursor")
done
assert_eq "${got#|}" "$want" "pages of one over ids full of separators"

# usage errors and an unreachable PostgreSQL
rc_of() { local rc=0; "$@" >/dev/null 2>&1 || rc=$?; echo "$rc"; }
assert_eq "$(rc_of bin/syncq snapshot ls dns)" 64 "no RESOURCE"
assert_eq "$(rc_of bin/syncq snapshot ls dns records extra)" 64 "an extra argument"
assert_eq "$(rc_of ls_ --status gone)" 64 "a bad --status"
assert_eq "$(rc_of ls_ --limit 0)" 64 "--limit 0"
assert_eq "$(rc_of ls_ --after nocomma)" 64 "a cursor without a comma"
assert_eq "$(rc_of ls_ --after 'a,%zz')" 64 "a cursor with a bad escape"
assert_eq "$(rc_of ls_ --bogus)" 64 "an unknown option"
assert_eq "$(rc_of bin/syncq snapshot)" 64 "no verb"
assert_eq "$(rc_of bin/syncq snapshot --help)" 0 "snapshot --help"
bin/syncq snapshot --help | grep -q '^usage: syncq snapshot ls SERVICE RESOURCE' || fail "the help text"
rc=0
SYNCQ_DATABASE_URL="postgresql://syncq:pw-s3cret@127.0.0.1:1/x?connect_timeout=2" ls_ > /dev/null 2> "$W/down.err" || rc=$?
cat "$W/down.err"
assert_eq "$rc" 69 "exit code with PostgreSQL unreachable"
grep -q 'cannot reach PostgreSQL at postgresql://syncq:\*\*\*\*\*\*\*\*@127.0.0.1:1/' "$W/down.err" || fail "the message names the masked URL"
grep -q s3cret "$W/down.err" && fail "the password in the message"
echo "ok: snapshot ls"
