/* audit.c - every query on the audit tables (see audit.h). */
#include "fmacros.h"
#include "audit.h"
#include "record.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- Writer
 * The staging table, the COPY and the merge are derived from the record's
 * column table (record_cols.h): a column added there is staged, copied and
 * merged by its rule with no edit here. */

#define STAGE_COL_(NAME, col, stype, ...) ", " #col " " #stype
static const char *SQL_STAGE = "CREATE TEMP TABLE IF NOT EXISTS syncq_in (ord int, jobrow boolean"
    RECORD_COLS(STAGE_COL_) ") ON COMMIT DELETE ROWS";

/* A batch holds one row per job (jobrow: its records folded by
 * record_row_merge) and one row per history event (not jobrow). */
static const char *SQL_COPY = "COPY syncq_in (ord, jobrow" RECORD_COMMA_COLUMNS ") FROM STDIN";

/* The rules of record_merge.h once more, for a record (EXCLUDED) that meets
 * the row j an earlier batch wrote: EXCLUDED is the newer of the two unless
 * its rev is lower (a record that arrived late), so the row is the same
 * however the records were batched. SET expressions see j as it was. */
#define NEWER "j.rev <= EXCLUDED.rev"
#define SAME_ATTEMPT "j.rev / 4 = EXCLUDED.rev / 4"
#define E_PICK(newer, older) "CASE WHEN " NEWER " THEN " newer " ELSE " older " END"
#define E_NEWEST(c) E_PICK("EXCLUDED." c, "j." c)
#define E_FILL(c) E_PICK("COALESCE(EXCLUDED." c ", j." c ")", "COALESCE(j." c ", EXCLUDED." c ")")
#define E_OLDEST(c) E_PICK("COALESCE(j." c ", EXCLUDED." c ")", "COALESCE(EXCLUDED." c ", j." c ")")
#define E_ATTEMPT(c)                                                                                 \
    "CASE WHEN " NEWER " AND " SAME_ATTEMPT " THEN COALESCE(EXCLUDED." c ", j." c ")"               \
    " WHEN " NEWER " THEN EXCLUDED." c " WHEN " SAME_ATTEMPT " THEN COALESCE(j." c ", EXCLUDED." c ")" \
    " ELSE j." c " END"
/* a success clears the last error */
#define E_LAST_ERROR(c)                                                                              \
    "CASE WHEN (CASE WHEN " NEWER " THEN EXCLUDED.status ELSE j.status END) = 'success' THEN NULL"   \
    " WHEN " NEWER " THEN COALESCE(EXCLUDED." c ", j." c ")"                                         \
    " ELSE COALESCE(j." c ", EXCLUDED." c ") END"
#define E_REV(c) "GREATEST(j." c ", EXCLUDED." c ")"
/* M_*: the SET list; W_*: the same expressions and the row's columns as
 * two rows, so the update is skipped when it would change nothing (a job's
 * outcome marker already holds what its final record says, docs/DESIGN.md
 * §8: no second row version, no index entries, no WAL). */
#define M_(c, e) " " c " = " e ","
#define M_NEWEST(c) M_(c, E_NEWEST(c))
#define M_FILL(c) M_(c, E_FILL(c))
#define M_OLDEST(c) M_(c, E_OLDEST(c))
#define M_ATTEMPT(c) M_(c, E_ATTEMPT(c))
#define M_LAST_ERROR(c) M_(c, E_LAST_ERROR(c))
#define M_REV(c) M_(c, E_REV(c))
#define M_KEY(c)
#define M_EVENT(c)
#define W_NEW_NEWEST(c) ", " E_NEWEST(c)
#define W_NEW_FILL(c) ", " E_FILL(c)
#define W_NEW_OLDEST(c) ", " E_OLDEST(c)
#define W_NEW_ATTEMPT(c) ", " E_ATTEMPT(c)
#define W_NEW_LAST_ERROR(c) ", " E_LAST_ERROR(c)
#define W_NEW_REV(c) ", " E_REV(c)
#define W_NEW_KEY(c)
#define W_NEW_EVENT(c)
#define W_OLD_NEWEST(c) ", j." c
#define W_OLD_FILL W_OLD_NEWEST
#define W_OLD_OLDEST W_OLD_NEWEST
#define W_OLD_ATTEMPT W_OLD_NEWEST
#define W_OLD_LAST_ERROR W_OLD_NEWEST
#define W_OLD_REV W_OLD_NEWEST
#define W_OLD_KEY(c)
#define W_OLD_EVENT(c)

/* The syncq_jobs side: every column but the events'. */
#define JOB_COL_KEY(t, sel) ", " #t
#define JOB_SEL_KEY(t, sel) ", " sel
#define JOB_COL_EVENT(t, sel)
#define JOB_SEL_EVENT(t, sel)
#define JOB_COL_REV JOB_COL_KEY
#define JOB_SEL_REV JOB_SEL_KEY
#define JOB_COL_NEWEST JOB_COL_KEY
#define JOB_SEL_NEWEST JOB_SEL_KEY
#define JOB_COL_FILL JOB_COL_KEY
#define JOB_SEL_FILL JOB_SEL_KEY
#define JOB_COL_OLDEST JOB_COL_KEY
#define JOB_SEL_OLDEST JOB_SEL_KEY
#define JOB_COL_ATTEMPT JOB_COL_KEY
#define JOB_SEL_ATTEMPT JOB_SEL_KEY
#define JOB_COL_LAST_ERROR JOB_COL_KEY
#define JOB_SEL_LAST_ERROR JOB_SEL_KEY
#define JOB_COL_(NAME, col, stype, ctype, field, enc, value, merge, target, sel) JOB_COL_##merge(target, sel)
#define JOB_SEL_(NAME, col, stype, ctype, field, enc, value, merge, target, sel) JOB_SEL_##merge(target, sel)
#define JOB_SET_(NAME, col, stype, ctype, field, enc, value, merge, target, sel) M_##merge(#target)
#define JOB_NEW_(NAME, col, stype, ctype, field, enc, value, merge, target, sel) W_NEW_##merge(#target)
#define JOB_OLD_(NAME, col, stype, ctype, field, enc, value, merge, target, sel) W_OLD_##merge(#target)

/* The syncq_job_events side: the event columns, with the job id and worker. */
#define EV_COL_(NAME, col, stype, ctype, field, enc, value, merge, target, sel) EV_COL_##merge(target)
#define EV_SEL_(NAME, col, stype, ctype, field, enc, value, merge, target, sel) EV_SEL_##merge(sel)
#define EV_COL_EVENT(t) ", " #t
#define EV_SEL_EVENT(sel) ", " sel
#define EV_COL_KEY(t)
#define EV_SEL_KEY(sel)
#define EV_COL_REV EV_COL_KEY
#define EV_SEL_REV EV_SEL_KEY
#define EV_COL_NEWEST EV_COL_KEY
#define EV_SEL_NEWEST EV_SEL_KEY
#define EV_COL_FILL EV_COL_KEY
#define EV_SEL_FILL EV_SEL_KEY
#define EV_COL_OLDEST EV_COL_KEY
#define EV_SEL_OLDEST EV_SEL_KEY
#define EV_COL_ATTEMPT EV_COL_KEY
#define EV_SEL_ATTEMPT EV_SEL_KEY
#define EV_COL_LAST_ERROR EV_COL_KEY
#define EV_SEL_LAST_ERROR EV_SEL_KEY

/* The row of each job is its newest record's (the batch folded its records
 * already); the events are appended once each. id_at, the partition key, is
 * the id's time (schema/006_partition.sql): part of both primary keys. */
static const char *SQL_MERGE =
    "INSERT INTO syncq_jobs AS j (updated_at, id_at" RECORD_COLS(JOB_COL_) ")"
    " SELECT DISTINCT ON (job_id) now(), syncq_id_time(job_id)" RECORD_COLS(JOB_SEL_)
    " FROM syncq_in WHERE jobrow ORDER BY job_id, rev DESC, ord DESC"
    " ON CONFLICT (job_id, id_at) DO UPDATE SET" RECORD_COLS(JOB_SET_) " updated_at = now()"
    " WHERE ROW(0" RECORD_COLS(JOB_NEW_) ") IS DISTINCT FROM ROW(0" RECORD_COLS(JOB_OLD_) ");"
    "INSERT INTO syncq_job_events (job_id, worker, id_at" RECORD_COLS(EV_COL_) ")"
    " SELECT job_id, worker, syncq_id_time(job_id)" RECORD_COLS(EV_SEL_)
    " FROM syncq_in WHERE ev_event IS NOT NULL ORDER BY ord ON CONFLICT DO NOTHING;"
    "COMMIT";

int
audit_stage(db *d)
{
    return db_exec(d, SQL_STAGE);
}

/* A job's first row needs none of the merge: COPY straight into the table
 * (about a third less PostgreSQL time per row than staging + INSERT ... ON
 * CONFLICT, docs/DESIGN.md §8). */
static const char *SQL_COPY_JOBS = "COPY syncq_jobs (id_at" RECORD_COLS(JOB_COL_) ") FROM STDIN";

static int
copy_rows(db *d, const char *sql, const char *buf, size_t len)
{
    if (db_copy_begin(d, sql) < 0) return -1;
    if (len && db_copy_put(d, buf, len) < 0) return -1;
    return db_copy_end(d);
}

static void
rollback(db *d)
{
    if (!db_alive(d)) return;
    db keep = *d; /* the error that made us roll back */
    db_exec(d, "ROLLBACK"); /* restores a usable session; its own error adds nothing */
    d->err = keep.err;
    memcpy(d->errstr, keep.errstr, sizeof(keep.errstr));
    memcpy(d->sqlstate, keep.sqlstate, sizeof(keep.sqlstate));
}

int
audit_write(db *d, const audit_batch *bt)
{
    if (db_exec(d, "BEGIN") < 0) return -1;
    if (bt->direct_len && copy_rows(d, SQL_COPY_JOBS, bt->direct, bt->direct_len) < 0) {
        int refused = db_alive(d) && db_data_error(d);
        rollback(d);
        return refused ? AUDIT_DIRECT_REFUSED : -1;
    }
    if (!bt->stage_len) return db_exec(d, "COMMIT");
    if (copy_rows(d, SQL_COPY, bt->stage, bt->stage_len) < 0 || db_exec(d, SQL_MERGE) < 0) {
        rollback(d);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- Status */

/* BY_ID(p): the row(s) of job id p, in the one partition p's time names
 * (schema/006_partition.sql), so PostgreSQL reads one partition's index. */
#define BY_ID(p) "job_id = " p " AND id_at = syncq_id_time(" p ")"

/* the audit's finish time in the format of Redis's answers (rfc3339_format):
 * RFC 3339 UTC with milliseconds, whatever the session's TimeZone */
#define FINISHED_AT "to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

db_result *
audit_status(db *d, const char *job_id)
{
    const char *params[] = {job_id};
    return db_query(d, "SELECT status, queue, attempts, coalesce(last_error, ''), coalesce(" FINISHED_AT ", '')"
                       " FROM syncq_jobs WHERE " BY_ID("$1"), 1, params);
}

/* ---------------------------------------------------------------- Jobs */

#define TS_MS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define TS_US(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
#define JOBS_MAX_PARAMS 16

/* A query under construction: SQL text and its parameters (borrowed). */
typedef struct query {
    sbuf sql;
    const char *params[JOBS_MAX_PARAMS];
    int n;
} query;

/* cond appends " AND <before>$n<after>", $n binding value, unless value is NULL. */
static void
cond(query *q, const char *before, const char *after, const char *value)
{
    if (!value) return;
    q->params[q->n++] = value;
    sbuf_printf(&q->sql, " AND %s$%d%s", before, q->n, after);
}

static const char *SQL_JOBS =
    "SELECT COALESCE(" TS_US("enqueued_at") ", '-'),"
    " job_id, queue, service, action, status, attempts, duration_ms, target_type, target_id, actor, last_error,"
    " replayed_from FROM syncq_jobs WHERE true";

db_result *
audit_jobs(db *d, const audit_jobs_filter *f)
{
    query q;
    memset(&q, 0, sizeof(q));
    sbuf_init(&q.sql);
    sbuf_adds(&q.sql, SQL_JOBS);
    cond(&q, "status = ANY(", "::text[])", f->statuses);
    cond(&q, "queue = ", "", f->queue);
    cond(&q, "service = ", "", f->service);
    cond(&q, "action = ", "", f->action);
    cond(&q, "target_id = ", "", f->target_id);
    cond(&q, "target_type = ", "", f->target_type);
    cond(&q, "actor = ", "", f->actor);
    cond(&q, "strpos(lower(COALESCE(last_error, '') || ' ' || COALESCE(payload::text, '')), lower(", ")) > 0",
         f->text);
    cond(&q, "enqueued_at >= now() - ", "::bigint * interval '1 millisecond'", f->since_ms);
    cond(&q, "enqueued_at < now() - ", "::bigint * interval '1 millisecond'", f->until_ms);
    if (f->cursor_ts && f->cursor_ts[0] == '-') {
        cond(&q, "(enqueued_at IS NOT NULL OR job_id < ", ")", f->cursor_id);
    } else if (f->cursor_ts) {
        cond(&q, "(enqueued_at, job_id) < (", "::timestamptz", f->cursor_ts);
        q.params[q.n++] = f->cursor_id;
        sbuf_printf(&q.sql, ", $%d)", q.n);
    }
    q.params[q.n++] = f->limit;
    sbuf_printf(&q.sql, " ORDER BY enqueued_at DESC NULLS FIRST, job_id DESC LIMIT $%d::int + 1", q.n);
    db_result *r = db_query(d, q.sql.buf, q.n, q.params);
    sbuf_free(&q.sql);
    return r;
}

db_result *
audit_job(db *d, const char *job_id)
{
    const char *params[] = {job_id};
    return db_query(d,
        "SELECT job_id, queue, kind, service, action, target_type, target_id, scope, actor, status, attempts,"
        " " TS_MS("enqueued_at") ", " TS_MS("started_at") ", " TS_MS("finished_at") ", duration_ms, worker,"
        " replayed_from,"
        " (SELECT string_agg(c.job_id, ',' ORDER BY c.job_id) FROM syncq_jobs c WHERE c.replayed_from = j.job_id),"
        " last_error, payload::text, result::text FROM syncq_jobs j WHERE " BY_ID("$1"), 1, params);
}

db_result *
audit_history(db *d, const char *job_id)
{
    const char *params[] = {job_id};
    return db_query(d,
        "SELECT " TS_MS("at") ", attempt, event, outcome, duration_ms, error, worker, " TS_MS("due_at")
        " FROM syncq_job_history WHERE " BY_ID("$1") " ORDER BY at, rev", 1, params);
}

db_result *
audit_retry_row(db *d, const char *job_id)
{
    const char *params[] = {job_id};
    return db_query(d,
        "SELECT status, queue, kind, service, action, target_type, target_id, scope, actor, payload::text,"
        " (SELECT c.job_id FROM syncq_jobs c WHERE c.replayed_from = j.job_id LIMIT 1)"
        " FROM syncq_jobs j WHERE " BY_ID("$1"), 1, params);
}

/* ---------------------------------------------------------------- Prune */

#define STR_(x) #x
#define STR(x) STR_(x)
#define FINISHED_BEFORE "status IN ('success', 'dead', 'conflict', 'superseded') AND finished_at < $1::timestamptz"

/* two_counts runs sql with the cutoff and adds its two counts (jobs,
 * events) to the totals; returns the jobs it counted, or -1. */
static long long
two_counts(db *d, const char *sql, const char *cutoff, long long *jobs, long long *events)
{
    const char *params[] = {cutoff};
    db_result *r = db_query(d, sql, 1, params);
    if (!r) return -1;
    long long j = atoll(db_value(r, 0, 0));
    *jobs += j;
    *events += atoll(db_value(r, 0, 1));
    db_result_free(r);
    return j;
}

int
audit_prune_cutoff(db *d, int64_t older_ms, char *cutoff, size_t len)
{
    char ms[32];
    const char *params[] = {ms};
    snprintf(ms, sizeof(ms), "%lld", (long long)older_ms);
    db_result *r = db_query(d, "SELECT " TS_US("(now() - $1::bigint * interval '1 millisecond')"), 1, params);
    if (!r) return -1;
    snprintf(cutoff, len, "%s", db_value(r, 0, 0));
    db_result_free(r);
    return 0;
}

int
audit_prune_count(db *d, const char *cutoff, long long *jobs, long long *events)
{
    return two_counts(d,
        "SELECT count(*), (SELECT count(*) FROM syncq_job_events e WHERE e.job_id IN"
        " (SELECT job_id FROM syncq_jobs WHERE " FINISHED_BEFORE ")) FROM syncq_jobs WHERE " FINISHED_BEFORE,
        cutoff, jobs, events) < 0 ? -1 : 0;
}

int
audit_prune(db *d, const char *cutoff, long long *jobs, long long *events)
{
    static const char *sql =
        "WITH gone AS (DELETE FROM syncq_jobs WHERE (job_id, id_at) IN"
        " (SELECT job_id, id_at FROM syncq_jobs WHERE " FINISHED_BEFORE " LIMIT " STR(AUDIT_PRUNE_BATCH) ") RETURNING job_id, id_at),"
        " ev AS (DELETE FROM syncq_job_events e USING gone WHERE e.job_id = gone.job_id AND e.id_at = gone.id_at"
        " RETURNING 1)"
        " SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM ev)";
    long long n;
    do {
        if ((n = two_counts(d, sql, cutoff, jobs, events)) < 0) return -1;
    } while (n == AUDIT_PRUNE_BATCH);
    return 0;
}

/* ---------------------------------------------------------------- Windows */

/* IN_WINDOW(col) is the SQL test for a window of $1 ms ending at $2 (ms of
 * Redis TIME, or NULL for PostgreSQL's now()). */
#define WINDOW_END "COALESCE(timestamptz 'epoch' + $2::bigint * interval '1 millisecond', now())"
#define IN_WINDOW(col) \
    "(" col " >= " WINDOW_END " - $1::bigint * interval '1 millisecond' AND " col " <= " WINDOW_END ")"

/* window_query runs sql with the window's parameters. */
static db_result *
window_query(db *d, const char *sql, int64_t window_ms, int64_t end_ms)
{
    char w[32], e[32];
    const char *params[] = {w, end_ms >= 0 ? e : NULL};
    snprintf(w, sizeof(w), "%lld", (long long)window_ms);
    snprintf(e, sizeof(e), "%lld", (long long)end_ms);
    return db_query(d, sql, 2, params);
}

int
audit_recent_read(db *d, int64_t window_ms, int64_t end_ms, audit_recent *out)
{
    db_result *res = window_query(d,
        "SELECT count(*) FILTER (WHERE status IN ('success', 'dead', 'conflict', 'superseded')),"
        " count(*) FILTER (WHERE status = 'success'), count(*) FILTER (WHERE status = 'dead'),"
        " count(*) FILTER (WHERE status = 'conflict'), count(*) FILTER (WHERE status = 'superseded'),"
        " (SELECT count(*) FROM syncq_job_events WHERE " IN_WINDOW("at")
        "   AND event IN ('attempt', 'lost', 'dead'))"
        " FROM syncq_jobs WHERE " IN_WINDOW("finished_at"), window_ms, end_ms);
    if (!res) return -1;
    long long *v[] = {&out->finished, &out->success, &out->dead, &out->conflict, &out->superseded,
                      &out->failed_attempts};
    for (int i = 0; i < 6; i++) {
        const char *s = db_value(res, 0, i);
        *v[i] = s ? atoll(s) : 0;
    }
    db_result_free(res);
    return 0;
}

static void
rate_row(const db_result *res, int i, audit_rate *o)
{
    const char *s;
    long long *v[] = {&o->finished, &o->success, &o->first_ok, &o->dead, &o->conflict};
    memset(o, 0, sizeof(*o));
    o->total = (s = db_value(res, i, 0)) && atoi(s) != 0;
    snprintf(o->service, sizeof(o->service), "%s", (s = db_value(res, i, 1)) ? s : "");
    snprintf(o->action, sizeof(o->action), "%s", (s = db_value(res, i, 2)) ? s : "");
    for (int c = 0; c < 5; c++) *v[c] = (s = db_value(res, i, 3 + c)) ? atoll(s) : 0;
    o->p50_ms = (s = db_value(res, i, 8)) ? strtod(s, NULL) : -1;
    o->p95_ms = (s = db_value(res, i, 9)) ? strtod(s, NULL) : -1;
}

int
audit_rates_read(db *d, int64_t window_ms, int64_t end_ms, audit_rate **out, int *n)
{
    db_result *res = window_query(d,
        "SELECT grouping(service, action), COALESCE(service, ''), COALESCE(action, ''), count(*),"
        " count(*) FILTER (WHERE status = 'success'), count(*) FILTER (WHERE status = 'success' AND attempts <= 1),"
        " count(*) FILTER (WHERE status = 'dead'), count(*) FILTER (WHERE status = 'conflict'),"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms),"
        " percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)"
        " FROM syncq_jobs WHERE status IN ('success', 'dead', 'conflict')"
        " AND " IN_WINDOW("finished_at")
        " GROUP BY GROUPING SETS ((service, action), ()) ORDER BY 1, 2, 3", window_ms, end_ms);
    if (!res) return -1;
    *n = db_ntuples(res);
    *out = xcalloc((size_t)(*n ? *n : 1), sizeof(**out));
    for (int i = 0; i < *n; i++) rate_row(res, i, &(*out)[i]);
    db_result_free(res);
    return 0;
}

db_result *
audit_totals(db *d, int64_t window_ms, int64_t end_ms)
{
    return window_query(d,
        "SELECT status, count(*) FROM syncq_jobs"
        " WHERE status IN ('queued', 'running', 'retrying')"
        " OR " IN_WINDOW("finished_at")
        " GROUP BY status ORDER BY array_position(ARRAY['success', 'dead', 'conflict', 'superseded',"
        " 'queued', 'running', 'retrying'], status)", window_ms, end_ms);
}

db_result *
audit_failures(db *d, int64_t window_ms, int64_t end_ms)
{
    return window_query(d,
        "SELECT to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), e.job_id, j.service, j.action,"
        " e.event, e.outcome, e.attempt, e.error"
        " FROM syncq_job_events e LEFT JOIN syncq_jobs j USING (job_id)"
        " WHERE e.event IN ('attempt', 'lost', 'dead') AND " IN_WINDOW("e.at")
        " ORDER BY e.at DESC, e.job_id DESC, e.rev DESC LIMIT 10", window_ms, end_ms);
}

/* Minute m (0 = the oldest) of the hour before the window's end: jobs that
 * finished in it, and failed attempts (events attempt, lost, dead). Both
 * sides use the finished_at / at indexes (schema/004). */
int
audit_minutes(db *d, int64_t end_ms, double *finished, double *failed)
{
    memset(finished, 0, AUDIT_MINUTES * sizeof(*finished));
    memset(failed, 0, AUDIT_MINUTES * sizeof(*failed));
    db_result *r = window_query(d,
        "SELECT 59 - floor(extract(epoch FROM " WINDOW_END " - t.at) / 60)::int, sum(t.done), sum(t.failed)"
        " FROM (SELECT finished_at AS at, 1 AS done, 0 AS failed FROM syncq_jobs"
        "       WHERE status IN ('success', 'dead', 'conflict', 'superseded') AND " IN_WINDOW("finished_at")
        "       UNION ALL SELECT at, 0, 1 FROM syncq_job_events"
        "       WHERE event IN ('attempt', 'lost', 'dead') AND " IN_WINDOW("at") ") t GROUP BY 1",
        (int64_t)AUDIT_MINUTES * 60000, end_ms);
    if (!r) return -1;
    for (int i = 0; i < db_ntuples(r); i++) {
        int m = atoi(db_value(r, i, 0));
        if (m < 0 || m >= AUDIT_MINUTES) continue; /* a row stamped exactly at the window's start */
        finished[m] = atof(db_value(r, i, 1));
        failed[m] = atof(db_value(r, i, 2));
    }
    db_result_free(r);
    return 0;
}

/* ---------------------------------------------------------------- Markers */

int
audit_outcome_write(db *d, const audit_outcome *o)
{
    audit_outcome_bufs b;
    const char *p[AUDIT_OUTCOME_NPARAMS];
    audit_outcome_params(o, p, &b);
    db_result *r = db_query_prep(d, AUDIT_OUTCOME_SQL, AUDIT_OUTCOME_NPARAMS, p);
    if (!r) return -1;
    db_result_free(r);
    return 0;
}

void
audit_outcome_params(const audit_outcome *o, const char **p, audit_outcome_bufs *b)
{
    snprintf(b->attempts, sizeof(b->attempts), "%d", o->attempts);
    snprintf(b->rev, sizeof(b->rev), "%d", o->rev);
    snprintf(b->finished, sizeof(b->finished), "%lld", (long long)o->finished_us);
    snprintf(b->duration, sizeof(b->duration), "%lld", (long long)o->duration_ms);
    p[0] = o->job_id;
    p[1] = o->queue;
    p[2] = o->status;
    p[3] = b->attempts;
    p[4] = o->result;
    p[5] = b->rev;
    p[6] = o->worker;
    p[7] = o->finished_us > 0 ? b->finished : NULL;
    p[8] = o->duration_ms >= 0 ? b->duration : NULL;
}
