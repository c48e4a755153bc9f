#!/bin/bash
# Sync jobs against the mock DNS service: 10,001 remote records (pages of
# 100) in each pagination style converge the snapshot to the remote set; a
# re-run writes nothing; 3 removed and 2 changed remotely -> exactly 3
# deleted, 2 updated; a page answering 500 mid-sync -> no deletions, retried,
# then converged; two scopes each touch only their own rows; an empty list or
# a shrink past max_delete_share deletes nothing and ends dead.
. "$(dirname "$0")/../lib.sh"

start_mock
mock_services sync.json.in
export SYNCQ_BACKOFF_BASE_MS=100
mock POST /_admin/seed '{"zone":"a.example","count":10001}' >/dev/null
start_worker -c 2 -q sync

sync() { # resource scope -> job id
    bin/syncq enqueue --kind sync --service dns --action "sync_$1" --scope "$2" 2>/dev/null
}
ended() { [ "$(count "job_id = '$1' AND status IN ('success', 'dead')")" = 1 ]; }
run_sync() { # resource scope -> job id, waits
    local id
    id=$(sync "$1" "$2")
    wait_for 90 "sync_$1 of $2" ended "$id"
    echo "$id"
}
rows() { q "SELECT count(*) FROM syncq_snapshots WHERE resource = '$1' AND scope = '$2'"; }
res() { q "SELECT result->>'$2' FROM syncq_jobs WHERE job_id = '$1'"; }
remote_ids() { mock GET "/_admin/records?zone=$1" | /usr/bin/python3 -c "import json,sys; print('\n'.join(sorted(str(r['id']) for r in json.load(sys.stdin))))"; }

remote_ids a.example > "$W/remote"
for r_ in records records_offset records_cursor records_link; do
    id=$(run_sync "$r_" a.example)
    assert_eq "$(q "SELECT status FROM syncq_jobs WHERE job_id = '$id'")" success "sync_$r_"
    q "SELECT external_id FROM syncq_snapshots WHERE resource = '$r_' AND scope = 'a.example' ORDER BY external_id" > "$W/local"
    cmp -s "$W/remote" "$W/local" || fail "sync_$r_: the snapshot differs from the remote set ($(wc -l < "$W/local") rows)"
    echo "ok: $r_ snapshot equals the 10,001 remote records ($(res "$id" pages) pages)"
done

xmins() { q "SELECT md5(string_agg(xmin::text, ',' ORDER BY external_id)) FROM syncq_snapshots WHERE resource = 'records' AND scope = 'a.example'"; }
before=$(xmins)
id=$(run_sync records a.example)
assert_eq "$(res "$id" unchanged)/$(res "$id" created)/$(res "$id" updated)/$(res "$id" deleted)" "10001/0/0/0" "a re-run: unchanged/created/updated/deleted"
assert_eq "$(xmins)" "$before" "row versions after a re-run (nothing written)"

gone=$(head -3 "$W/remote" | /usr/bin/python3 -c "import json,sys; print(json.dumps([l.strip() for l in sys.stdin]))")
changed=$(sed -n '100p;200p' "$W/remote" | /usr/bin/python3 -c "import json,sys; print(json.dumps([l.strip() for l in sys.stdin]))")
mock POST /_admin/mutate "{\"zone\":\"a.example\",\"delete\":$gone,\"change\":$changed}" >/dev/null
id=$(run_sync records a.example)
assert_eq "$(res "$id" deleted)/$(res "$id" updated)/$(res "$id" created)" "3/2/0" "3 removed and 2 changed remotely: deleted/updated/created"
assert_eq "$(rows records a.example)" 9998 "rows after the deletions"

mock POST /_admin/mutate "{\"zone\":\"a.example\",\"delete\":$(sed -n '10,12p' "$W/remote" | /usr/bin/python3 -c "import json,sys; print(json.dumps([l.strip() for l in sys.stdin]))")}" >/dev/null
mock POST /_admin/fail '{"match":"/page/zones/a.example","status":500,"times":1,"skip":3}' >/dev/null
id=$(run_sync records a.example)
assert_eq "$(q "SELECT status || ' ' || attempts FROM syncq_jobs WHERE job_id = '$id'")" "success 2" "a sync with a failed page: retried, then converged"
q "SELECT error FROM syncq_job_events WHERE job_id = '$id' AND outcome = 'transient'" | grep -q "page 4: HTTP 500" || fail "the failed page is not in the history"
assert_eq "$(rows records a.example)" 9995 "rows after the retried sync"

# offset drift: records deleted remotely while an offset walk is under way
# shift the pages; the walk notices (the total changed) and deletes nothing
mock POST /_admin/seed '{"zone":"d.example","count":1000}' >/dev/null
run_sync records_offset d.example >/dev/null
mock POST /_admin/latency '{"ms":300,"match":"/offset/zones/d.example"}' >/dev/null
mock DELETE /_admin/calls >/dev/null
id=$(sync records_offset d.example)
# mutate once the walk has read its first pages (10 pages at 300 ms each), not
# after a fixed sleep: a busy machine may not have started the walk by then
walking() { [ "$(mock GET /_admin/calls | /usr/bin/python3 -c "import json,sys; print(sum(1 for c in json.load(sys.stdin) if '/offset/zones/d.example' in c['path']))")" -ge 2 ]; }
wait_for 30 "the offset walk under way" walking
mock POST /_admin/mutate "{\"zone\":\"d.example\",\"delete\":$(remote_ids d.example | sed -n 1,50p | /usr/bin/python3 -c "import json,sys; print(json.dumps([l.strip() for l in sys.stdin]))")}" >/dev/null
wait_for 60 "the drifting sync" ended "$id"
mock POST /_admin/latency '{"ms":0}' >/dev/null
echo "the drifting sync: $(q "SELECT status || ' ' || coalesce(result::text, '') FROM syncq_jobs WHERE job_id = '$id'")"
assert_eq "$(res "$id" drift)/$(res "$id" deleted)" "true/0" "an offset walk that drifted: drift/deleted"
assert_eq "$(rows records_offset d.example)" 1000 "rows kept after the drift"
id=$(run_sync records_offset d.example)
assert_eq "$(res "$id" deleted)" 50 "the next sync deletes what is gone"

mock POST /_admin/seed '{"zone":"b.example","count":5,"prefix":"b"}' >/dev/null
before=$(xmins)
id=$(run_sync records b.example)
assert_eq "$(rows records b.example)" 5 "rows of scope b"
assert_eq "$(xmins)" "$before" "scope a rows after a scope b sync"

mock POST /_admin/mutate "{\"zone\":\"b.example\",\"delete\":$(remote_ids b.example | sed -n 1,4p | /usr/bin/python3 -c "import json,sys; print(json.dumps([l.strip() for l in sys.stdin]))")}" >/dev/null
id=$(run_sync records b.example)
assert_eq "$(q "SELECT status FROM syncq_jobs WHERE job_id = '$id'")" dead "a sync that would delete 4 of 5 rows"
q "SELECT last_error FROM syncq_jobs WHERE job_id = '$id'" | grep -q "max_delete_share" || fail "the reason is not in the audit"
assert_eq "$(rows records b.example)" 5 "rows kept"
mock POST /_admin/mutate "{\"zone\":\"b.example\",\"delete\":$(remote_ids b.example | /usr/bin/python3 -c "import json,sys; print(json.dumps([l.strip() for l in sys.stdin]))")}" >/dev/null
id=$(run_sync records b.example)
q "SELECT last_error FROM syncq_jobs WHERE job_id = '$id'" | grep -q "came back empty" || fail "an empty list was not stopped"
assert_eq "$(rows records b.example)" 5 "rows kept after an empty list"
stop_worker
