/* record_cols.h - the audit record's columns: the one table from which every
 * list of them is derived (docs/DESIGN.md §8, "The record and its columns").
 *
 *   C        the record struct, record_init's defaults and record_build
 *            (record.h, record.c); the RECORD_COL_* indexes; the merge rule
 *            of each column (record_merge.c)
 *   SQL      the writer's staging table, its COPY column list and the merge
 *            into syncq_jobs / syncq_job_events (common/audit.c)
 *   Lua      functions.lua's RECORD_COLS, generated at build time
 *            (scripts/record_lua.c), so the Redis functions build and read
 *            records by column name
 *
 * Adding a column: a migration (schema/NNN_name.sql), one row here, and the
 * code that shows it. Append rows at the end: a record is positional COPY
 * text, and a writer reads records an older binary left in an outbox (fewer
 * columns: the missing ones are NULL). Whoever knows the value sets the
 * struct field (a worker's record) or the Lua field of the same name.
 *
 * X(NAME, column, stage_type, c_type, field, enc, value, merge, target, select)
 *   NAME        RECORD_COL_<NAME>, the column's index (0 = job_id)
 *   column      its name in the record, the staging table and Lua
 *   stage_type  its type in the writer's staging table
 *   c_type field  the record struct's member
 *   enc         how record_build writes value (record.c): TEXT, ERRTEXT
 *               (credentials masked, capped at 4 KiB), INT (int, 0 by
 *               default), NUM (int64_t, -1 = NULL by default), TIME (NUM, or
 *               RECORD_NOW for the step to stamp), DUE (a flag: the step
 *               writes the retry's due time)
 *   value       the C expression over `r` (const record *) that is written
 *   merge       how the records of one job fold into its row
 *               (record_merge.h): KEY, REV, NEWEST, FILL, OLDEST, ATTEMPT,
 *               LAST_ERROR, or EVENT (not folded: the row of an event)
 *   target      the column it lands in: syncq_job_events' for EVENT, else
 *               syncq_jobs'
 *   select      the SQL that reads it from the staging table
 */
#ifndef SYNCQ_RECORD_COLS_H
#define SYNCQ_RECORD_COLS_H

#include <stdint.h> /* for int64_t in the c_type column */

/* US makes a record's microseconds a timestamptz, exactly (to_timestamp
 * would go through a float of seconds). */
#define RECORD_US(c) "(timestamptz 'epoch' + " c " * interval '1 microsecond')"

#define RECORD_COLS(X)                                                                                                \
    X(ID, job_id, text, const char *, id, TEXT, r->id, KEY, job_id, "job_id")                                         \
    X(REV, rev, int, int, rev, INT, r->rev, REV, rev, "rev")                                                          \
    X(QUEUE, queue, text, const char *, queue, TEXT, r->queue ? r->queue : "", FILL, queue, "queue")                  \
    X(KIND, kind, text, const char *, kind, TEXT, r->kind, FILL, kind, "kind")                                        \
    X(SERVICE, service, text, const char *, service, TEXT, r->service, FILL, service, "service")                      \
    X(ACTION, action, text, const char *, action, TEXT, r->action, FILL, action, "action")                            \
    X(TARGET_TYPE, target_type, text, const char *, target_type, TEXT, r->target_type, FILL, target_type,             \
      "target_type")                                                                                                  \
    X(TARGET_ID, target_id, text, const char *, target_id, TEXT, r->target_id, FILL, target_id, "target_id")          \
    X(SCOPE, scope, text, const char *, scope, TEXT, r->scope, FILL, scope, "scope")                                  \
    X(ACTOR, actor, text, const char *, actor, TEXT, r->actor, FILL, actor, "actor")                                  \
    /* masked JSON text, or NULL */                                                                                   \
    X(PAYLOAD, payload, text, const char *, payload, TEXT, r->payload, FILL, payload, "payload::jsonb")               \
    /* queued|running|retrying|success|dead|conflict|superseded */                                                    \
    X(STATUS, status, text, const char *, status, TEXT, r->status, NEWEST, status, "status")                          \
    X(ATTEMPTS, attempts, int, int, attempts, INT, r->attempts, NEWEST, attempts, "attempts")                         \
    /* JSON text or NULL */                                                                                           \
    X(RESULT, result, text, const char *, result, TEXT, r->result, ATTEMPT, result, "result::jsonb")                  \
    X(ERROR, last_error, text, const char *, error, ERRTEXT, r->error, LAST_ERROR, last_error, "last_error")          \
    X(WORKER, worker, text, const char *, worker, TEXT, r->worker, FILL, worker, "worker")                            \
    X(ENQUEUED, enqueued_us, bigint, int64_t, enqueued_us, TIME, r->enqueued_us, OLDEST, enqueued_at,                 \
      RECORD_US("enqueued_us"))                                                                                       \
    X(STARTED, started_us, bigint, int64_t, started_us, TIME, r->started_us, ATTEMPT, started_at,                     \
      RECORD_US("started_us"))                                                                                        \
    X(FINISHED, finished_us, bigint, int64_t, finished_us, TIME, r->finished_us, ATTEMPT, finished_at,                \
      RECORD_US("finished_us"))                                                                                       \
    /* measured by the worker */                                                                                      \
    X(DURATION, duration_ms, bigint, int64_t, duration_ms, NUM, r->duration_ms, ATTEMPT, duration_ms, "duration_ms") \
    X(REPLAYED_FROM, replayed_from, text, const char *, replayed_from, TEXT, r->replayed_from, FILL, replayed_from,   \
      "replayed_from")                                                                                                \
    /* The history event a record may carry (event NULL for none): */                                                \
    /* attempt|dead|lost|... */                                                                                       \
    X(EV_EVENT, ev_event, text, const char *, event, TEXT, r->event, EVENT, event, "ev_event")                        \
    /* transient|permanent|crash|poison|bad_data|timeout */                                                           \
    X(EV_OUTCOME, ev_outcome, text, const char *, ev_outcome, TEXT, r->event ? r->ev_outcome : NULL, EVENT, outcome,  \
      "ev_outcome")                                                                                                   \
    X(EV_ERROR, ev_error, text, const char *, ev_error, ERRTEXT, r->event ? r->ev_error : NULL, EVENT, error,         \
      "ev_error")                                                                                                     \
    X(EV_ATTEMPT, ev_attempt, int, int, ev_attempt, INT, r->event ? r->ev_attempt : -1, EVENT, attempt, "ev_attempt") \
    X(EV_AT, ev_at_us, bigint, int64_t, ev_at_us, TIME, r->event ? r->ev_at_us : -1, EVENT, at,                       \
      "COALESCE(" RECORD_US("ev_at_us") ", now())")                                                                   \
    X(EV_DURATION, ev_duration_ms, bigint, int64_t, ev_duration_ms, NUM, r->event ? r->ev_duration_ms : -1, EVENT,    \
      duration_ms, "ev_duration_ms")                                                                                  \
    /* the event's key; 0: the record's rev. A lost delivery is keyed by the */                                       \
    /* attempt it ended, so the master's and the next start's reports of one */                                       \
    /* crash are one event. */                                                                                        \
    X(EV_REV, ev_rev, int, int, ev_rev, INT, r->event ? (r->ev_rev ? r->ev_rev : r->rev) : -1, EVENT, rev,            \
      "COALESCE(ev_rev, rev)")                                                                                        \
    /* 1: a retry; the step fills in its due time */                                                                  \
    X(EV_DUE, ev_due_us, bigint, int, ev_due, DUE, r->event && r->ev_due, EVENT, due_at, RECORD_US("ev_due_us"))      \
    /* Redis TIME (us) of the fetch that took the job, -1 none: the order */                                          \
    /* jobs were taken in, across queues */                                                                           \
    X(FETCH_SEQ, fetch_seq, bigint, int64_t, fetch_seq, NUM, r->fetch_seq, FILL, fetch_seq, "fetch_seq")

/* Column numbers (0 = job_id) and their count. */
#define RECORD_COL_ENUM_(NAME, ...) RECORD_COL_##NAME,
enum { RECORD_COLS(RECORD_COL_ENUM_) RECORD_NCOLS };

/* The r2 format's first shape had the 30 columns up to fetch_seq; a writer
 * reads records of any shape from then on (the missing columns are NULL). */
#define RECORD_NCOLS_MIN 30

#endif
