#!/bin/bash
# Issue 14: a job child prepares its per-job statements (the snapshot and
# outcome writes of a mutation) once per connection and then only executes
# them (common/db.c db_query_prep); SYNCQ_PG_PREPARE=0 (for a pooler that
# does not keep prepared statements) sends every one as before. Both give
# the same rows. PostgreSQL's statement log (log_statement = all on this
# test's database) tells the two apart: "execute syncq_pN" for a prepared
# statement, "execute <unnamed>" for one parsed and planned each time.
. "$(dirname "$0")/../lib.sh"

export MOCK_TOKEN="tok-$RANDOM"
start_mock
mock_services dns.json.in
q "ALTER DATABASE \"$DB\" SET log_statement = 'all'" > /dev/null
PGLOG="$SQ_DIR/pg/postgres.log"

# run MODE N: N creates with SYNCQ_PG_PREPARE=MODE; prints the log lines they added
run() {
    local from
    from=$(wc -l < "$PGLOG")
    SYNCQ_PG_PREPARE=$1 start_worker -c 1 -q urgent
    for i in $(seq 1 "$2"); do
        bin/syncq enqueue --service dns --action create_record --scope "m$1.example.org" \
            --payload "{\"name\":\"h$i\",\"type\":\"A\",\"content\":\"192.0.2.$i\",\"ttl\":300}" > /dev/null
    done
    done_() { [ "$(count "scope = 'm$1.example.org' AND status = 'success'")" = "$2" ]; }
    wait_for 30 "the creates of mode $1" done_ "$1" "$2"
    stop_worker
    tail -n +"$((from + 1))" "$PGLOG"
}
run 1 20 > "$W/on.log"
run 0 20 > "$W/off.log"

snaps() { q "SELECT count(*) FROM syncq_snapshots WHERE service = 'dns' AND scope = '$1' AND sync_status = 'synced'"; }
assert_eq "$(snaps m1.example.org)" 20 "snapshot rows, prepared"
assert_eq "$(snaps m0.example.org)" 20 "snapshot rows, not prepared"

on_prep=$(grep -c 'execute syncq_p[0-9]*: WITH snap AS [(]INSERT INTO syncq_snapshots' "$W/on.log" || true)
on_unnamed=$(grep -c 'execute <unnamed>: WITH snap AS [(]INSERT INTO syncq_snapshots' "$W/on.log" || true)
off_prep=$(grep -c 'execute syncq_p[0-9]*:' "$W/off.log" || true)
off_unnamed=$(grep -c 'execute <unnamed>: WITH snap AS [(]INSERT INTO syncq_snapshots' "$W/off.log" || true)
echo "measure: snapshot writes prepared/unnamed: SYNCQ_PG_PREPARE=1 $on_prep/$on_unnamed, =0 $off_prep/$off_unnamed"
assert_eq "$on_prep" 20 "snapshot writes executed as a prepared statement"
assert_eq "$on_unnamed" 0 "snapshot writes parsed each time with SYNCQ_PG_PREPARE=1"
# prepared once on the child's connection, not once per job: one name throughout
assert_eq "$(grep -o 'execute syncq_p[0-9]*: WITH snap AS [(]INSERT INTO syncq_snapshots' "$W/on.log" | sort -u | wc -l)" 1 \
    "statement names of the snapshot write"
assert_eq "$off_prep" 0 "prepared statements with SYNCQ_PG_PREPARE=0"
assert_eq "$off_unnamed" 20 "snapshot writes sent as before with SYNCQ_PG_PREPARE=0"
