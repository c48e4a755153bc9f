#!/bin/bash
# bench.sh - make bench: syncq side by side with the queues a user would pick
# instead, on one private Redis and PostgreSQL, in one run.
#
# Systems: syncq (every job audited in PostgreSQL), BullMQ 6.7, bee-queue 2.0,
# graphile-worker 0.17 (PostgreSQL-backed). The peers' harnesses are bench/*.js
# (each says what it sets); npm installs them into bench/node_modules from
# bench/package-lock.json.
#
# Workloads, each run BENCH_REPS (3) times, the systems interleaved within a rep:
#   a  no-op jobs: syncq through syncq_enqueue (`syncq enqueue --batch`: the
#      queued + final records) and through raw LPUSH (redis-cli --pipe); peers
#      through their bulk add. Enqueue first, then process: jobs/s of each,
#      processing timed from worker ready to the last job done (syncq: its
#      success row committed in PostgreSQL). syncq runs BENCH_C children (one per
#      core), the Node peers concurrency 50 (the shared BullMQ harness's).
#   b  I/O-bound: each job one POST to the mock provider answering after 20 ms
#      (tests/mock/mock_service.py /_bench/delay); syncq 64 children, peers
#      concurrency 64. Jobs/s against the bound 64 / 20 ms, and the peak of the
#      total PSS (sum of /proc/PID/smaps_rollup Pss over all processes of the
#      system, sampled every 0.25 s; Redis, PostgreSQL and the mock not counted).
#   c  latency from enqueue to handler start, open loop (bench/load.js) at half
#      the processing rate that system reached in workload a of the same rep:
#      p50, p99, p99.9. syncq: the step's started_at (Redis TIME) minus the
#      sender's stamp in the payload; BullMQ: the processor's clock minus the
#      stamp. One host, one clock.
#   d  a sync of BENCH_SYNC_N (100,000) remote records (first and no-change).
#   web  the web console's page times on 1,000,000 audit rows (scripts/bench_web.sh,
#      its own servers, after the others; also `make bench-web`).
#   audit  the audit tables partitioned by day next to unpartitioned, on
#      BENCH_AUDIT_ROWS (1,000,000) jobs: load and merge rates, jobs page and
#      lookup times, retention (scripts/bench_audit.sh, its own PostgreSQL,
#      last; also `make bench-audit`).
# Medians and ratios are printed in one table and written to BENCH_JSON
# (default bench/results.json). The machine is shared: compare the ratios of
# one run, not absolute figures across runs.
#
#   BENCH_QUICK=1   small sizes to iterate (a: 5,000, b: 1,000, c: 3 s, d: 5,000)
#   BENCH_N, BENCH_IO_N, BENCH_LAT_S, BENCH_SYNC_N, BENCH_REPS, BENCH_C
#   BENCH_ONLY=a,b,c,d,web,audit   workloads to run        BENCH_EXEC=0 drops the PHP exec comparison
#   BENCH_SYSTEMS=syncq,syncq-lpush,syncq-call,syncq-lanes,syncq-call-lanes,bullmq,bee-queue,graphile-worker   systems to run
#   BENCH_LANES=8        b's syncq-lanes and syncq-call-lanes: 64 / BENCH_LANES children with SYNCQ_CHILD_CALLS=BENCH_LANES
#   BENCH_VERBOSE=1      Redis commandstats of the last syncq no-op run
#   BENCH_CLUSTER=1      only the Redis Cluster comparison (scripts/bench_cluster.sh, BENCH_CLUSTER_N)
set -eu
cd "$(dirname "$0")/.."
# BENCH_CLUSTER=1: one Redis next to a 3-master Redis Cluster instead (scripts/bench_cluster.sh)
if [ "${BENCH_CLUSTER:-0}" = 1 ]; then exec bash scripts/bench_cluster.sh; fi
. scripts/servers.sh
Q=${BENCH_QUICK:-0}
if [ "$Q" = 1 ]; then d_n=5000 d_io=1000 d_lat=3 d_sync=5000; else d_n=100000 d_io=20000 d_lat=10 d_sync=100000; fi
N=${BENCH_N:-$d_n}
IO_N=${BENCH_IO_N:-$d_io}
LAT_S=${BENCH_LAT_S:-$d_lat}
SYNC_N=${BENCH_SYNC_N:-$d_sync}
REPS=${BENCH_REPS:-3}
C=${BENCH_C:-$(nproc)}
ONLY=${BENCH_ONLY:-a,b,c,d,web,audit}
OUT=${BENCH_JSON:-bench/results.json}
PEER_CONC=50
IO_CONC=64
DELAY_MS=20
tmp=$(mktemp -d /tmp/syncq-bench.XXXXXX)
chmod 755 "$tmp"
WPID="" MPID="" DPID=""
cleanup() {
    [ -n "$WPID" ] && kill -KILL "$WPID" 2>/dev/null || true
    [ -n "$MPID" ] && kill "$MPID" 2>/dev/null || true
    [ -n "$DPID" ] && kill "$DPID" 2>/dev/null || true
    servers_stop
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
SYSTEMS=${BENCH_SYSTEMS:-syncq,syncq-lpush,syncq-call,syncq-lanes,syncq-call-lanes,bullmq,bee-queue,graphile-worker}
LANES=${BENCH_LANES:-8}
has() { case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }
on() { case ",$SYSTEMS," in *",$1,"*) return 0 ;; esac; return 1; }
log() { printf '  %s\n' "$*" >&2; }

# ---------------------------------------------------------------- setup
if [ ! -d bench/node_modules/bullmq ] || [ bench/package-lock.json -nt bench/node_modules/.package-lock.json ]; then
    log "npm ci in bench/ (BullMQ, bee-queue, graphile-worker)"
    (cd bench && npm ci --no-audit --no-fund --silent >/dev/null)
fi
servers_start "$tmp/srv" 2>/dev/null
sq_psql postgres -c "CREATE DATABASE bench" -c "CREATE DATABASE gw" >/dev/null
export SYNCQ_REDIS_URL=$SQ_REDIS_URL SYNCQ_DATABASE_URL="$SQ_PG_BASE dbname=bench" SYNCQ_PREFIX=bench SYNCQ_METRICS_ADDR=off
export REDIS_PORT=$SQ_REDIS_PORT PG_URL="postgres://postgres@$SQ_PG_HOST:$SQ_PG_PORT/gw"
bin/syncq migrate >/dev/null
/usr/bin/python3 tests/mock/mock_service.py --port 0 --port-file "$tmp/mock.port" >"$tmp/mock.log" 2>&1 &
MPID=$!
for _ in $(seq 1 100); do [ -s "$tmp/mock.port" ] && break; sleep 0.1; done
mport=$(cat "$tmp/mock.port")
# the I/O-bound workload's provider: the mock's --bench-delay mode (asyncio, two processes)
/usr/bin/python3 tests/mock/mock_service.py --bench-delay --port 0 --port-file "$tmp/delay.port" >"$tmp/delay.log" 2>&1 &
DPID=$!
for _ in $(seq 1 100); do [ -s "$tmp/delay.port" ] && break; sleep 0.1; done
dport=$(cat "$tmp/delay.port")
MOCK_URL="http://127.0.0.1:$dport/_bench/delay?ms=$DELAY_MS"
cat > "$tmp/services.json" <<JSON
{"services": {"bench": {"base_url": "http://127.0.0.1:$dport", "timeout_ms": 5000,
  "resources": {"calls": {"list": {"path": "/zones/none/records", "items": "data",
      "pagination": {"style": "page", "size": 100, "size_param": "per_page", "page_param": "page"}},
    "actions": {"call": {"op": "update", "method": "POST", "path": "/_bench/delay?ms=$DELAY_MS"},
                "ping": {"op": "call", "method": "POST", "path": "/_bench/delay?ms=$DELAY_MS"}}}}}}}
JSON
sed "s/@PORT@/$mport/" tests/services/sync.json.in | sed 's/Bearer ${MOCK_TOKEN}/none/' > "$tmp/sync.json"
RES=$tmp/results.ndjson
: > "$RES"

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", n / (b - a) }'; }
emit() { echo "$1" >> "$RES"; } # one JSON object per measurement
jnum() { sed -n "s/.*\"$2\":\([0-9.e+-]*\).*/\1/p" <<<"$1"; }
rows() { sq_psql bench -At -c "SELECT count(*) FROM syncq_jobs WHERE status = 'success' AND queue = '$1'"; }
# drained QUEUE: nothing of QUEUE left in Redis (ready, in flight, retrying, audit records
# not yet committed). Polling Redis, not PostgreSQL: a count(*) over the audit table
# every 50 ms cost PostgreSQL about as much CPU as the audit writes it measures.
drained() {
    [ "$(sq_redis EVAL "local n = redis.call('LLEN', KEYS[1]) + redis.call('LLEN', KEYS[2]) + redis.call('ZCARD', KEYS[3])
        for _, p in ipairs({':inflight:*', ':claim:*'}) do
            for _, k in ipairs(redis.call('KEYS', ARGV[1] .. p)) do n = n + redis.call('LLEN', k) end
        end
        return n" 3 "bench:{$1}:ready" "bench:{$1}:outbox" "bench:{$1}:retry" "bench:{$1}")" = 0 ]
}
# pss PID...: total Pss (kB) of the processes and all their descendants (one awk
# for all of them: the sampling must not take CPU from what it samples)
pss() {
    local all="" p
    for p in "$@"; do all="$all $p $(pgrep -d' ' -P "$p" || true)"; done
    # shellcheck disable=SC2086 # one path per pid
    awk '/^Pss:/ { s += $2 } END { print s + 0 }' $(printf '/proc/%s/smaps_rollup ' $all) 2>/dev/null || echo 0
}
# pss_watch PID FILE [ANON_FILE]: the peak of pss PID into FILE, every 0.5 s while
# PID lives; with ANON_FILE (a syncq master), "child writer" peaks of RssAnon (kB):
# the largest job child's and the writer's (forked first, so the lowest pid)
pss_watch() {
    local peak=0 v ca=0 wa=0 kids w c
    while kill -0 "$1" 2>/dev/null; do
        v=$(pss "$1"); [ "${v:-0}" -gt "$peak" ] && peak=$v && echo "$peak" > "$2"
        if [ -n "${3:-}" ] && kids=$(pgrep -P "$1" | sort -n | tr '\n' ' ') && [ -n "$kids" ]; then
            w=${kids%% *}
            # shellcheck disable=SC2086
            read -r c v < <(awk -v w="/proc/$w/status" '/^RssAnon:/ { if (FILENAME == w) wa = $2; else if ($2 > ca) ca = $2 }
                END { print ca + 0, wa + 0 }' $(printf '/proc/%s/status ' $kids) 2>/dev/null || echo "0 0")
            [ "${c:-0}" -gt "$ca" ] && ca=$c
            [ "${v:-0}" -gt "$wa" ] && wa=$v
            echo "$ca $wa" > "$3"
        fi
        sleep 0.5
    done
}
reset_syncq() { # a fresh audit table and key space for each syncq run
    sq_psql bench -q -c "TRUNCATE syncq_jobs, syncq_job_events" >/dev/null
    sq_redis EVAL "for _, k in ipairs(redis.call('KEYS', 'bench:*')) do redis.call('DEL', k) end" 0 >/dev/null
}
noop_ndjson() { # N [service action]: N envelopes, one a line
    awk -v n="$1" -v s="${2:-syncq}" -v a="${3:-noop}" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"kind\":\"mutation\",\"service\":\"%s\",\"action\":\"%s\",\"target_id\":\"%d\",\"payload\":{\"n\":%d}}\n", s, a, i, i }'
}
# lpush_resp N KEY: the raw LPUSH commands in RESP for redis-cli --pipe
lpush_resp() {
    noop_ndjson "$1" | awk -v k="$2" '{ printf "*3\r\n$5\r\nLPUSH\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length($0), $0 }'
}

# syncq_run QUEUE N CHILDREN [services]: a worker until N success rows of QUEUE are
# committed; prints "jobs/s peak_pss_kB"
syncq_run() {
    local q=$1 n=$2 c=$3 svc=${4:-} t0 t1
    rm -f "$tmp/pss"
    t0=$(now)
    SYNCQ_SERVICES=$svc bin/syncq-worker -c "$c" -q "$q" 2>>"$tmp/worker.log" &
    WPID=$!
    pss_watch "$WPID" "$tmp/pss" "$tmp/anon" &
    local watch=$!
    until drained "$q" && [ "$(rows "$q")" -ge "$n" ]; do
        kill -0 "$WPID" 2>/dev/null || { echo "worker died:" >&2; tail "$tmp/worker.log" >&2; exit 1; }
        sleep 0.2 # each look spawns redis-cli: CPU taken from the system under test
    done
    t1=$(now)
    local kids; kids=$(pgrep -P "$WPID" | sort -n | tr '\n' ' ')
    echo "$(ticks ${kids#* }) $(ticks ${kids%% *})" > "$tmp/ticks" # job children, writer
    kill -TERM "$WPID"; wait "$WPID" || true; WPID=""
    wait "$watch" 2>/dev/null || true
    echo "$(rate "$n" "$t0" "$t1") $(cat "$tmp/pss" 2>/dev/null || echo 0)"
}
# ticks PID...: user+system CPU ticks of the processes (and their reaped children)
ticks() { for p in "$@"; do awk '{ print $14 + $15 + $16 + $17 }' "/proc/$p/stat" 2>/dev/null; done | awk '{ s += $1 } END { print s + 0 }'; }
pg_ticks() { local pm; pm=$(head -1 "$SQ_PG_DATA/postmaster.pid"); ticks "$pm" $(pgrep -P "$pm"); }
redis_cpu() { sq_redis INFO cpu | awk -F: '/^used_cpu_(sys|user):/ { s += $2 } END { printf "%.4f", s }'; }
anon_json() { # the last syncq_run's RssAnon peaks as JSON members
    local c=0 w=0
    [ -s "$tmp/anon" ] && read -r c w < "$tmp/anon"
    echo "\"child_anon_kb\":$c,\"writer_anon_kb\":$w"
}

# peer_run HARNESS QUEUE N CONC [MOCK_URL]: the peer's worker; prints "jobs/s peak_pss_kB"
peer_run() {
    local h=$1 q=$2 n=$3 c=$4 url=${5:-} out pid watch
    rm -f "$tmp/pss"
    QUEUE=$q MOCK_URL=$url node "bench/$h.js" work "$n" "$c" > "$tmp/peer.out" 2>>"$tmp/peer.log" &
    pid=$!
    pss_watch "$pid" "$tmp/pss" &
    watch=$!
    wait "$pid" || { echo "$h failed:" >&2; tail "$tmp/peer.log" >&2; exit 1; }
    wait "$watch" 2>/dev/null || true
    out=$(cat "$tmp/peer.out")
    echo "$(jnum "$out" jobs_per_s) $(cat "$tmp/pss" 2>/dev/null || echo 0)"
}
peer_enqueue() { # HARNESS QUEUE N: prints jobs/s
    local out
    out=$(QUEUE=$2 node "bench/$1.js" enqueue "$3" 2>>"$tmp/peer.log")
    awk -v n="$3" -v s="$(jnum "$out" seconds)" 'BEGIN { printf "%.1f", n / s }'
}
reset_gw() {
    sq_psql gw -q -c "DROP SCHEMA IF EXISTS graphile_worker CASCADE" >/dev/null 2>&1
}

# ---------------------------------------------------------------- workloads
# a: no-op. Prints nothing; emits {"w":"a","sys":...,"rep":R,"enqueue":..,"process":..}
noop_syncq() {
    local rep=$1 t0 t1 r
    reset_syncq
    noop_ndjson "$N" > "$tmp/jobs.ndjson"
    t0=$(now)
    bin/syncq enqueue --queue noop --batch "$tmp/jobs.ndjson" >/dev/null 2>>"$tmp/enqueue.log"
    t1=$(now)
    sq_redis CONFIG RESETSTAT >/dev/null
    local rc0 pg0 rc1 pg1 cpu
    rc0=$(redis_cpu) pg0=$(pg_ticks)
    r=$(syncq_run noop "$N" "$C")
    rc1=$(redis_cpu) pg1=$(pg_ticks)
    # CPU per processed job (us) by process: where the time goes
    cpu=$(awk -v n="$N" -v r0="$rc0" -v r1="$rc1" -v pg="$((pg1 - pg0))" -v hz="$(getconf CLK_TCK)" -v t="$(cat "$tmp/ticks")" \
        'BEGIN { split(t, k, " "); printf "\"cpu_redis_us\":%.1f,\"cpu_pg_us\":%.1f,\"cpu_children_us\":%.1f,\"cpu_writer_us\":%.1f",
                 (r1 - r0) * 1e6 / n, pg / hz * 1e6 / n, k[1] / hz * 1e6 / n, k[2] / hz * 1e6 / n }')
    emit "{\"w\":\"a\",\"sys\":\"syncq\",\"rep\":$rep,\"enqueue\":$(rate "$N" "$t0" "$t1"),\"process\":${r% *},$(anon_json),$cpu}"
    if [ "${BENCH_VERBOSE:-0}" = 1 ]; then
        sq_redis INFO commandstats | tr -d '\r' | awk -F'[:,=]' -v n="$N" '/^cmdstat_/ { printf "    %-28s calls %8d  %6.2f us/job\n", $1, $3, $5 / n }' | sort -k4 -nr | head -12 >&2
    fi
}
noop_syncq_lpush() {
    local rep=$1 t0 t1 r
    reset_syncq
    lpush_resp "$N" "bench:{noop}:ready" > "$tmp/lpush.resp"
    t0=$(now)
    redis-cli -p "$SQ_REDIS_PORT" --pipe < "$tmp/lpush.resp" >/dev/null
    t1=$(now)
    r=$(syncq_run noop "$N" "$C")
    emit "{\"w\":\"a\",\"sys\":\"syncq-lpush\",\"rep\":$rep,\"enqueue\":$(rate "$N" "$t0" "$t1"),\"process\":${r% *}}"
}
noop_peer() { # HARNESS NAME REP
    local e r
    [ "$1" = graphile ] && reset_gw
    e=$(peer_enqueue "$1" "noop$3" "$N")
    r=$(peer_run "$1" "noop$3" "$N" "$PEER_CONC")
    emit "{\"w\":\"a\",\"sys\":\"$2\",\"rep\":$3,\"enqueue\":$e,\"process\":${r% *}}"
}

# b: I/O-bound. syncq: an update of a target (the snapshot row and the outcome
# written in one PostgreSQL statement before the ack, docs/DESIGN.md §8);
# syncq-call (BENCH_SYSTEMS): an action of op "call" on no target, which writes
# no snapshot row, only the audit records: the peers' work plus the audit.
# syncq-lanes: syncq's jobs, the same 64 calls at once from IO_CONC / LANES
# children of LANES lanes each (SYNCQ_CHILD_CALLS); syncq-call-lanes: the
# op "call" jobs so.
io_syncq() {
    local rep=$1 sys=${2:-syncq} r
    reset_syncq
    if [ "${sys#syncq-call}" = "$sys" ]; then noop_ndjson "$IO_N" bench call; else
        awk -v n="$IO_N" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"kind\":\"mutation\",\"service\":\"bench\",\"action\":\"ping\",\"payload\":{\"n\":%d}}\n", i }'
    fi > "$tmp/io.ndjson"
    bin/syncq enqueue --queue io --batch "$tmp/io.ndjson" >/dev/null 2>>"$tmp/enqueue.log"
    if [ "${sys%-lanes}" != "$sys" ]; then
        r=$(SYNCQ_CHILD_CALLS=$LANES syncq_run io "$IO_N" $((IO_CONC / LANES)) "$tmp/services.json")
    else
        r=$(syncq_run io "$IO_N" "$IO_CONC" "$tmp/services.json")
    fi
    emit "{\"w\":\"b\",\"sys\":\"$sys\",\"rep\":$rep,\"process\":${r% *},\"pss_kb\":${r#* },$(anon_json)}"
}
io_peer() {
    local r
    [ "$1" = graphile ] && reset_gw
    peer_enqueue "$1" "io$3" "$IO_N" >/dev/null
    r=$(peer_run "$1" "io$3" "$IO_N" "$IO_CONC" "$MOCK_URL")
    emit "{\"w\":\"b\",\"sys\":\"$2\",\"rep\":$3,\"process\":${r% *},\"pss_kb\":${r#* }}"
}

# c: latency at half the rate workload a reached in this rep
half_rate() { /usr/bin/python3 -c 'import json,sys
rs=[json.loads(l) for l in open(sys.argv[1])]
v=[r["process"] for r in rs if r["w"]=="a" and r["sys"]==sys.argv[2] and r["rep"]==int(sys.argv[3])]
print(int(v[0] / 2) if v else 1000)' "$RES" "$1" "$2"; }
lat_syncq() {
    local rep=$1 rt n
    rt=$(half_rate syncq "$rep")
    n=$((rt * LAT_S))
    reset_syncq
    bin/syncq-worker -c "$C" -q lat 2>>"$tmp/worker.log" &
    WPID=$!
    # every child blocked on the empty queue (seen by Redis, whatever the key names)
    local deadline=$((SECONDS + 60))
    until [ "$(sq_redis CLIENT LIST | grep -c 'cmd=blmove')" -ge "$C" ]; do
        [ "$SECONDS" -lt "$deadline" ] || { echo "the children never blocked on the queue:" >&2; tail "$tmp/worker.log" >&2; exit 1; }
        sleep 0.05
    done
    node bench/load.js syncq "$rt" "$LAT_S" 'bench:{lat}:ready' >/dev/null 2>>"$tmp/peer.log"
    until [ "$(rows lat)" -ge "$n" ]; do
        kill -0 "$WPID" 2>/dev/null || { echo "worker died:" >&2; tail "$tmp/worker.log" >&2; exit 1; }
        sleep 0.2
    done
    kill -TERM "$WPID"; wait "$WPID" || true; WPID=""
    # l: from the sender's stamp (as for BullMQ); q: from syncq_enqueue's Redis TIME (the
    # queue alone, without the sender's own delays)
    sq_psql bench -At -F' ' -c "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY l), percentile_disc(0.99) WITHIN GROUP (ORDER BY l),
        percentile_disc(0.999) WITHIN GROUP (ORDER BY l), count(*), percentile_disc(0.5) WITHIN GROUP (ORDER BY q),
        percentile_disc(0.99) WITHIN GROUP (ORDER BY q), percentile_disc(0.999) WITHIN GROUP (ORDER BY q)
        FROM (SELECT extract(epoch FROM started_at) * 1e6 - (payload->>'t')::float8 AS l,
        extract(epoch FROM started_at - enqueued_at) * 1e6 AS q FROM syncq_jobs WHERE queue = 'lat') x" > "$tmp/lat"
    read -r p50 p99 p999 cnt q50 q99 q999 < "$tmp/lat"
    emit "{\"w\":\"c\",\"sys\":\"syncq\",\"rep\":$rep,\"rate\":$rt,\"n\":$cnt,\"p50_us\":$p50,\"p99_us\":$p99,\"p999_us\":$p999,\"q50_us\":$q50,\"q99_us\":$q99,\"q999_us\":$q999}"
}
lat_bullmq() {
    local rep=$1 rt n out pid
    rt=$(half_rate bullmq "$rep")
    n=$((rt * LAT_S))
    QUEUE=lat$rep node bench/bullmq.js latency "$PEER_CONC" "$n" > "$tmp/lat.out" 2>>"$tmp/peer.log" &
    pid=$!
    sleep 1 # the worker connected (node start-up)
    QUEUE=lat$rep node bench/load.js bullmq "$rt" "$LAT_S" >/dev/null 2>>"$tmp/peer.log"
    wait "$pid"
    out=$(cat "$tmp/lat.out")
    emit "{\"w\":\"c\",\"sys\":\"bullmq\",\"rep\":$rep,\"rate\":$rt,\"n\":$(jnum "$out" n),\"p50_us\":$(jnum "$out" p50_us),\"p99_us\":$(jnum "$out" p99_us),\"p999_us\":$(jnum "$out" p999_us)}"
}

# d: sync of SYNC_N remote records, first and no-change, enqueue to committed row
sync_rep() {
    local rep=$1 first again
    curl -s -X POST "http://127.0.0.1:$mport/_admin/reset" >/dev/null
    curl -s -X POST "http://127.0.0.1:$mport/_admin/seed" -d "{\"zone\":\"bench.example\",\"count\":$SYNC_N}" >/dev/null
    sq_psql bench -q -c "TRUNCATE syncq_snapshots" >/dev/null
    SYNCQ_SERVICES="$tmp/sync.json" bin/syncq-worker -c 1 -q sync 2>>"$tmp/worker.log" &
    WPID=$!
    sync_once() {
        local id t0 t1
        t0=$(now)
        id=$(bin/syncq enqueue --queue sync --kind sync --service dns --action sync_records --scope bench.example 2>/dev/null)
        until [ "$(sq_psql bench -At -c "SELECT count(*) FROM syncq_jobs WHERE job_id = '$id' AND status IN ('success', 'dead')")" = 1 ]; do sleep 0.1; done
        t1=$(now)
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
    }
    first=$(sync_once)
    again=$(sync_once)
    kill -TERM "$WPID"; wait "$WPID" || true; WPID=""
    emit "{\"w\":\"d\",\"sys\":\"syncq\",\"rep\":$rep,\"first_s\":$first,\"again_s\":$again}"
}

# ---------------------------------------------------------------- the run
log "syncq bench: $(nproc) cores, Redis $(redis-server --version | awk '{print $3}'), $REPS reps interleaved"
log "a: $N no-op jobs   b: $IO_N jobs x one ${DELAY_MS} ms call   c: ${LAT_S} s open loop   d: $SYNC_N records"
for rep in $(seq 1 "$REPS"); do
    if has a || has c; then
        log "rep $rep: a (no-op)"
        if on syncq; then noop_syncq "$rep"; fi
        if on bullmq; then noop_peer bullmq bullmq "$rep"; fi
        if on syncq-lpush; then noop_syncq_lpush "$rep"; fi
        if on bee-queue; then noop_peer beequeue bee-queue "$rep"; fi
        if on graphile-worker; then noop_peer graphile graphile-worker "$rep"; fi
    fi
    if has b; then
        log "rep $rep: b (I/O-bound)"
        if on syncq; then io_syncq "$rep"; fi
        if on syncq-call; then io_syncq "$rep" syncq-call; fi
        if on syncq-lanes; then io_syncq "$rep" syncq-lanes; fi
        if on syncq-call-lanes; then io_syncq "$rep" syncq-call-lanes; fi
        if on bullmq; then io_peer bullmq bullmq "$rep"; fi
        if on bee-queue; then io_peer beequeue bee-queue "$rep"; fi
        if on graphile-worker; then io_peer graphile graphile-worker "$rep"; fi
    fi
    if has c; then
        log "rep $rep: c (latency)"
        if on syncq; then lat_syncq "$rep"; fi
        if on bullmq; then lat_bullmq "$rep"; fi
    fi
    if has d; then
        log "rep $rep: d (sync)"
        sync_rep "$rep"
    fi
done

if [ "${BENCH_EXEC:-1}" = 1 ] && command -v php >/dev/null; then
    . scripts/bench_exec.sh
    bench_exec >&2
fi

/usr/bin/python3 bench/report.py "$RES" "$OUT" \
    "{\"cores\":$(nproc),\"children_noop\":$C,\"peer_concurrency_noop\":$PEER_CONC,\"io_concurrency\":$IO_CONC,\"delay_ms\":$DELAY_MS,\"n\":$N,\"io_n\":$IO_N,\"lat_s\":$LAT_S,\"sync_n\":$SYNC_N,\"reps\":$REPS,\"quick\":$Q}"

if has web; then
    log "web console (scripts/bench_web.sh)"
    bash scripts/bench_web.sh
fi

if has audit; then
    log "audit tables at scale (scripts/bench_audit.sh)"
    bash scripts/bench_audit.sh
fi
