#!/bin/bash
# Exec syncs (docs/HANDLERS.md): a resource listed by a program that streams
# NDJSON records. examples/handlers/list_records.py converges 10,000 records
# exactly (count and spot-checked rows); a second run with one record removed
# deletes exactly it; a program that exits before its summary line (with an
# error, or with 0) converges nothing and deletes nothing; garbage, a record
# without data, an oversize line and output after the summary fail with
# clear reasons; "complete": false upserts but deletes nothing; a secret the
# program prints on stderr is masked.
. "$(dirname "$0")/../lib.sh"

export SYNCQ_SERVICES="tests/services/exec_sync.json" CRM_EXPORT="$W/{scope}.jsonl"
/usr/bin/python3 - "$W/big.jsonl" 10000 <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(1, int(sys.argv[2]) + 1):
        f.write(json.dumps({"id": "c%05d" % i, "name": "contact %d" % i, "email": "c%d@example.org" % i,
                            "note": "tab\there, quote \" and backslash \\ %d" % i}) + "\n")
PY
head -n 100 "$W/big.jsonl" > "$W/small.jsonl"
start_worker -c 2 -q sync

ended() { [ "$(count "job_id = '$1' AND status IN ('success', 'dead')")" = 1 ]; }
run_sync() { # resource scope [payload] -> job id, once it ended
    local id
    # a generous timeout: 10,000 rows on a busy machine are no speed test
    id=$(bin/syncq enqueue --kind sync --service crm --action "sync_$1" --scope "$2" --max-attempts 1 --timeout-ms 300000 \
        --payload "${3:-{\}}")
    wait_for 300 "sync_$1 of $2" ended "$id"
    echo "$id"
}
rows() { q "SELECT count(*) FROM syncq_snapshots WHERE service = 'crm' AND resource = '$1' AND scope = '$2'"; }
res() { q "SELECT result->>'$2' FROM syncq_jobs WHERE job_id = '$1'"; }
status() { q "SELECT status FROM syncq_jobs WHERE job_id = '$1'"; }
err() { q "SELECT last_error FROM syncq_jobs WHERE job_id = '$1'"; }
row() { q "SELECT data::text FROM syncq_snapshots WHERE service = 'crm' AND resource = 'contacts' AND scope = 'big' AND external_id = '$1'"; }
same_json() { /usr/bin/python3 -c 'import json,sys; sys.exit(json.loads(sys.argv[1]) != json.loads(sys.argv[2]))' "$1" "$2"; }

# --- 10,000 records, exactly
id=$(run_sync contacts big)
assert_eq "$(status "$id")" success "the first exec sync"
assert_eq "$(rows contacts big)" 10000 "snapshot rows"
assert_eq "$(res "$id" seen)/$(res "$id" created)/$(res "$id" deleted)/$(res "$id" complete)" "10000/10000/0/true" "seen/created/deleted/complete"
q "SELECT external_id FROM syncq_snapshots WHERE service = 'crm' AND resource = 'contacts' AND scope = 'big' ORDER BY external_id" > "$W/local"
/usr/bin/python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in open(sys.argv[1])]' "$W/big.jsonl" | sort > "$W/remote"
cmp -s "$W/remote" "$W/local" || fail "the snapshot's ids differ from the program's records"
echo "ok: the snapshot's ids are exactly the 10,000 listed"
for n in 1 4321 10000; do
    want=$(sed -n "${n}p" "$W/big.jsonl")
    have=$(row "$(printf 'c%05d' "$n")")
    same_json "$have" "$want" || fail "row $n: $have, want $want"
    echo "ok: row c$(printf '%05d' "$n") holds the record's data"
done

# --- a second run with one record removed deletes exactly it
sed -i '/"c05000"/d' "$W/big.jsonl"
id=$(run_sync contacts big)
assert_eq "$(res "$id" deleted)/$(res "$id" unchanged)/$(res "$id" created)/$(res "$id" updated)" "1/9999/0/0" "one removed: deleted/unchanged/created/updated"
assert_eq "$(rows contacts big)" 9999 "rows after the deletion"
assert_eq "$(row c05000)" "" "the removed record's row"
assert_eq "$(q "SELECT count(*) FROM syncq_snapshots WHERE resource = 'contacts' AND external_id IN ('c04999', 'c05001')")" 2 "its neighbours"

# --- misbehaving programs converge nothing and delete nothing
id=$(run_sync flaky small "{}")
assert_eq "$(status "$id")/$(rows flaky small)" "success/100" "the misbehaving program's clean run"
data_before=$(q "SELECT md5(string_agg(external_id || data::text, ',' ORDER BY external_id)) FROM syncq_snapshots WHERE resource = 'flaky'")
sed -i '1,30d' "$W/small.jsonl"     # 30 gone remotely: a complete run would delete them
pw="pw-$RANDOM$RANDOM"
d1=$(run_sync flaky small "{\"do\":\"die_after\",\"n\":50,\"password\":\"$pw\"}")
d2=$(run_sync flaky small '{"do":"exit0_after","n":50}')
d3=$(run_sync flaky small '{"do":"garbage_at","n":3}')
d4=$(run_sync flaky small '{"do":"no_data_at","n":7}')
d5=$(run_sync flaky small '{"do":"big_at","n":2}')
d6=$(run_sync flaky small '{"do":"after_summary"}')
assert_eq "$(err "$d1")" "exit 1 after 50 record(s): nothing converged: upstream went away while listing (password=********)" "exit 1 before the summary"
assert_eq "$(err "$d2")" "the program exited after 50 record(s) without its summary line ({\"complete\": true}): nothing converged" "exit 0 before the summary"
assert_eq "$(err "$d3")" "line 3 is not a JSON object (invalid JSON near byte 0)" "a garbage line"
assert_eq "$(err "$d4")" "line 7: a record needs \"id\" (a non-empty string or an integer) and \"data\" (an object)" "a record without data"
assert_eq "$(err "$d5")" "line 2 is over 1048576 bytes: the program was killed" "an oversize line"
assert_eq "$(err "$d6")" "line 72: output after the summary line" "output after the summary"
for j in $d1 $d2 $d3 $d4 $d5 $d6; do assert_eq "$(status "$j")" dead "job $j"; done
assert_eq "$(rows flaky small)" 100 "rows after the failed runs (nothing deleted)"
assert_eq "$(q "SELECT md5(string_agg(external_id || data::text, ',' ORDER BY external_id)) FROM syncq_snapshots WHERE resource = 'flaky'")" "$data_before" "rows untouched by the failed runs"
assert_eq "$(q "SELECT count(*) FROM syncq_job_events WHERE error LIKE '%$pw%'")" 0 "the password in the events"
if grep -q "$pw" "$W/worker.log"; then fail "the password reached the worker log"; fi

# --- complete: false upserts what came and deletes nothing; complete: true then deletes the 30
p=$(run_sync flaky small '{"do":"partial"}')
assert_eq "$(status "$p")/$(res "$p" complete)/$(res "$p" deleted)/$(rows flaky small)" "success/false/0/100" "a partial list: status/complete/deleted/rows"
id=$(run_sync flaky small '{}')
assert_eq "$(res "$id" deleted)/$(rows flaky small)" "30/70" "the complete run after it: deleted/rows"

stop_worker
