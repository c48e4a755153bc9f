/* audit.c - every query on the audit tables (see audit.h). */
#include "fmacros.h"
#include "audit.h"
#include "record.h"

#include <stdio.h>
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
#define M_PICK(c, newer, older) " " c " = CASE WHEN " NEWER " THEN " newer " ELSE " older " END,"
#define M_NEWEST(c) M_PICK(c, "EXCLUDED." c, "j." c)
#define M_FILL(c) M_PICK(c, "COALESCE(EXCLUDED." c ", j." c ")", "COALESCE(j." c ", EXCLUDED." c ")")
#define M_OLDEST(c) M_PICK(c, "COALESCE(j." c ", EXCLUDED." c ")", "COALESCE(EXCLUDED." c ", j." c ")")
#define M_ATTEMPT(c)                                                                                       \
    " " c " = CASE WHEN " NEWER " AND " SAME_ATTEMPT " THEN COALESCE(EXCLUDED." c ", j." c ")"            \
    " WHEN " NEWER " THEN EXCLUDED." c " WHEN " SAME_ATTEMPT " THEN COALESCE(j." c ", EXCLUDED." c ")" \
    " ELSE j." c " END,"
/* a success clears the last error */
#define M_LAST_ERROR(c)                                                                                    \
    " " c " = CASE WHEN (CASE WHEN " NEWER " THEN EXCLUDED.status ELSE j.status END) = 'success' THEN NULL" \
    "   WHEN " NEWER " THEN COALESCE(EXCLUDED." c ", j." c ")"                                            \
    "   ELSE COALESCE(j." c ", EXCLUDED." c ") END,"
#define M_REV(c) " " c " = GREATEST(j." c ", EXCLUDED." c "),"
#define M_KEY(c)
#define M_EVENT(c)

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
 * already); the events are appended once each. */
static const char *SQL_MERGE =
    "INSERT INTO syncq_jobs AS j (updated_at" RECORD_COLS(JOB_COL_) ")"
    " SELECT DISTINCT ON (job_id) now()" RECORD_COLS(JOB_SEL_)
    " FROM syncq_in WHERE jobrow ORDER BY job_id, rev DESC, ord DESC"
    " ON CONFLICT (job_id) DO UPDATE SET" RECORD_COLS(JOB_SET_) " updated_at = now();"
    "INSERT INTO syncq_job_events (job_id, worker" RECORD_COLS(EV_COL_) ")"
    " SELECT job_id, worker" RECORD_COLS(EV_SEL_)
    " FROM syncq_in WHERE ev_event IS NOT NULL ORDER BY ord ON CONFLICT DO NOTHING;"
    "COMMIT";

int
audit_stage(db *d)
{
    return db_exec(d, SQL_STAGE);
}

int
audit_write(db *d, const char *copy, size_t len)
{
    if (db_exec(d, "BEGIN") < 0) return -1;
    if (db_copy_begin(d, SQL_COPY) < 0) goto rollback;
    if (len && db_copy_put(d, copy, len) < 0) goto rollback;
    if (db_copy_end(d) < 0) goto rollback;
    if (db_exec(d, SQL_MERGE) < 0) goto rollback;
    return 0;
rollback:
    if (db_alive(d)) {
        char keep[sizeof(d->errstr)], state[sizeof(d->sqlstate)];
        memcpy(keep, d->errstr, sizeof(keep));
        memcpy(state, d->sqlstate, sizeof(state));
        db_exec(d, "ROLLBACK"); /* restores a usable session; its own error adds nothing */
        memcpy(d->errstr, keep, sizeof(keep));
        memcpy(d->sqlstate, state, sizeof(state));
    }
    return -1;
}

/* ---------------------------------------------------------------- Status */

/* the audit's finish time in the format of Redis's answers (rfc3339_format):
 * RFC 3339 UTC with milliseconds, whatever the session's TimeZone */
#define FINISHED_AT "to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

db_result *
audit_status(db *d, const char *job_id)
{
    const char *params[] = {job_id};
    return db_query(d, "SELECT status, queue, attempts, coalesce(last_error, ''), coalesce(" FINISHED_AT ", '')"
                       " FROM syncq_jobs WHERE job_id = $1", 1, params);
}
