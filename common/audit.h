/* audit.h - every query on the audit tables: syncq_jobs, syncq_job_events
 * and the syncq_job_history view (schema/, docs/DESIGN.md §8). The writer's
 * merge is derived from the record's column table (record_cols.h); the rest
 * are the questions the CLI asks, each returning rows whose columns an enum
 * here names, so the CLI files are flags and formatting.
 *
 * Conventions: functions returning int give 0 (or a count) on success and -1
 * with d->errstr set; functions returning db_result give NULL with
 * d->errstr set, the caller frees the result (db_result_free). */
#ifndef SYNCQ_AUDIT_H
#define SYNCQ_AUDIT_H

#include <stddef.h>  /* for size_t */
#include <stdint.h>  /* for int64_t */

#include "db.h"
#include "record_cols.h" /* RECORD_US */
#include "sbuf.h"

/* ---- the writer (worker/writer.c) ---- */

/* audit_stage creates the session's staging table, once per connection. */
int audit_stage(db *d);
/* One batch for audit_write, in COPY text (see worker/writer.c):
 *   direct  job rows seen for the first time (record_row_put_job), COPY'd
 *           straight into syncq_jobs: no staging, no ON CONFLICT
 *   stage   staging rows (ord, jobrow, then the record's columns), merged */
typedef struct audit_batch {
    const char *direct, *stage;
    size_t direct_len, stage_len;
} audit_batch;
/* audit_write writes one batch in one transaction: 0; AUDIT_DIRECT_REFUSED
 * when PostgreSQL refused the direct rows (one existed after all: the batch
 * written twice, two writers; or a bad value), the transaction rolled back
 * for the caller to send them as staging rows; -1 on failure, rolled back,
 * d->errstr / d->sqlstate saying what failed. */
#define AUDIT_DIRECT_REFUSED 1
int audit_write(db *d, const audit_batch *bt);

/* ---- syncq status ---- */

/* the finish time is RFC 3339 UTC with milliseconds, like Redis-side times */
enum { AUDIT_STATUS_STATUS, AUDIT_STATUS_QUEUE, AUDIT_STATUS_ATTEMPTS, AUDIT_STATUS_ERROR, AUDIT_STATUS_FINISHED };
/* audit_status: the job's row (0 or 1 of them): status, queue, attempts,
 * last error ('' for none), finish time ('' for none). */
db_result *audit_status(db *d, const char *job_id);

/* ---- syncq jobs (list): newest first, a keyset page at a time ---- */

typedef struct audit_jobs_filter {
    const char *statuses;    /* a text[] literal, "{dead,retrying}", or NULL for any */
    const char *queue, *service, *action, *target_id, *target_type, *actor; /* NULL: any */
    const char *text;        /* in the error or the (masked) payload, case-insensitive, or NULL */
    const char *since_ms;    /* enqueued within the last N ms, or NULL */
    const char *until_ms;    /* enqueued more than N ms ago, or NULL */
    const char *cursor_ts;   /* the previous page's last key (AUDIT_JOBS_KEY: "-" for no time), or NULL */
    const char *cursor_id;
    const char *limit;       /* rows per page; one more row is read to tell whether a next page exists */
} audit_jobs_filter;

/* AUDIT_JOBS_KEY: enqueued_at as RFC 3339 UTC with microseconds, "-" when unknown */
enum { AUDIT_JOBS_KEY, AUDIT_JOBS_ID, AUDIT_JOBS_QUEUE, AUDIT_JOBS_SERVICE, AUDIT_JOBS_ACTION, AUDIT_JOBS_STATUS,
       AUDIT_JOBS_ATTEMPTS, AUDIT_JOBS_DURATION, AUDIT_JOBS_TTYPE, AUDIT_JOBS_TID, AUDIT_JOBS_ACTOR,
       AUDIT_JOBS_ERROR, AUDIT_JOBS_FROM, AUDIT_JOBS_NCOLS };
/* audit_jobs: the rows that pass f, ordered by (enqueued_at, job_id)
 * descending, rows without enqueued_at first (a backward scan of the index). */
db_result *audit_jobs(db *d, const audit_jobs_filter *f);

/* ---- syncq jobs show ---- */

/* times as RFC 3339 UTC with milliseconds; AUDIT_JOB_AS: the ids of the jobs
 * replaying it, comma-separated */
enum { AUDIT_JOB_ID, AUDIT_JOB_QUEUE, AUDIT_JOB_KIND, AUDIT_JOB_SERVICE, AUDIT_JOB_ACTION, AUDIT_JOB_TTYPE,
       AUDIT_JOB_TID, AUDIT_JOB_SCOPE, AUDIT_JOB_ACTOR, AUDIT_JOB_STATUS, AUDIT_JOB_ATTEMPTS, AUDIT_JOB_ENQUEUED,
       AUDIT_JOB_STARTED, AUDIT_JOB_FINISHED, AUDIT_JOB_DURATION, AUDIT_JOB_WORKER, AUDIT_JOB_FROM, AUDIT_JOB_AS,
       AUDIT_JOB_ERROR, AUDIT_JOB_PAYLOAD, AUDIT_JOB_RESULT, AUDIT_JOB_NCOLS };
/* audit_job: the job's row, 0 or 1 of them. */
db_result *audit_job(db *d, const char *job_id);

enum { AUDIT_HIST_AT, AUDIT_HIST_ATTEMPT, AUDIT_HIST_EVENT, AUDIT_HIST_OUTCOME, AUDIT_HIST_DURATION,
       AUDIT_HIST_ERROR, AUDIT_HIST_WORKER, AUDIT_HIST_DUE, AUDIT_HIST_NCOLS };
/* audit_history: every attempt and event of the job, oldest first. */
db_result *audit_history(db *d, const char *job_id);

/* ---- syncq jobs retry ---- */

/* AUDIT_RETRY_AS: a job replaying it, or NULL */
enum { AUDIT_RETRY_STATUS, AUDIT_RETRY_QUEUE, AUDIT_RETRY_KIND, AUDIT_RETRY_SERVICE, AUDIT_RETRY_ACTION,
       AUDIT_RETRY_TTYPE, AUDIT_RETRY_TID, AUDIT_RETRY_SCOPE, AUDIT_RETRY_ACTOR, AUDIT_RETRY_PAYLOAD,
       AUDIT_RETRY_AS, AUDIT_RETRY_NCOLS };
/* audit_retry_row: what a retry rebuilds the job from, 0 or 1 rows. */
db_result *audit_retry_row(db *d, const char *job_id);

/* ---- syncq prune ---- */

/* audit_prune_cutoff writes the time older_ms before PostgreSQL's now()
 * (RFC 3339 UTC, microseconds) into cutoff. */
int audit_prune_cutoff(db *d, int64_t older_ms, char *cutoff, size_t len);
/* audit_prune_count adds the jobs that ended before cutoff and their events
 * to *jobs and *events, deleting nothing. */
int audit_prune_count(db *d, const char *cutoff, long long *jobs, long long *events);
/* audit_prune deletes them, AUDIT_PRUNE_BATCH jobs per statement (short
 * locks), adding what it deleted to *jobs and *events. */
#define AUDIT_PRUNE_BATCH 5000
int audit_prune(db *d, const char *cutoff, long long *jobs, long long *events);

/* ---- windows: syncq stats, health, check ----
 * A window is the window_ms before end_ms, Redis TIME: the clock every audit
 * time is stamped with (README "Audit times"), so a window holds exactly
 * the rows stamped in it whatever the clocks of the workers, the PostgreSQL
 * host and this one say. end_ms < 0 (Redis could not be read) ends it at
 * PostgreSQL's now() instead. */

typedef struct audit_recent {
    long long finished, success, dead, conflict, superseded; /* jobs that ended in the window */
    long long failed_attempts;                                /* events attempt|lost|dead in the window */
} audit_recent;
/* audit_recent_read counts the window. */
int audit_recent_read(db *d, int64_t window_ms, int64_t end_ms, audit_recent *out);

/* Outcomes per (service, action) of the jobs that finished (success, dead
 * or conflict; superseded jobs are neither) in a window, and over all of
 * them (the total row). first_ok: successes on their first attempt.
 * Percentiles of duration_ms (the last attempt of each job) come from
 * PostgreSQL's percentile_cont: continuous, interpolated between rows. */
typedef struct audit_rate {
    char service[64], action[64];  /* "" in the total row */
    int total;                     /* 1: the row over every service and action */
    long long finished, success, first_ok, dead, conflict;
    double p50_ms, p95_ms;         /* -1 when no job has a duration */
} audit_rate;
/* audit_rates_read fills *out (malloc'd, *n rows: per pair by name, then the
 * total row last). */
int audit_rates_read(db *d, int64_t window_ms, int64_t end_ms, audit_rate **out, int *n);

/* audit_totals: (status, count) of the jobs waiting or running and of those
 * that finished in the window; finished statuses first. */
db_result *audit_totals(db *d, int64_t window_ms, int64_t end_ms);
/* audit_failures: the 10 newest failed attempts, lost deliveries and
 * dead-letters in the window (at: RFC 3339 UTC, seconds). */
enum { AUDIT_FAIL_AT, AUDIT_FAIL_ID, AUDIT_FAIL_SERVICE, AUDIT_FAIL_ACTION, AUDIT_FAIL_EVENT, AUDIT_FAIL_OUTCOME,
       AUDIT_FAIL_ATTEMPT, AUDIT_FAIL_ERROR, AUDIT_FAIL_NCOLS };
db_result *audit_failures(db *d, int64_t window_ms, int64_t end_ms);

/* audit_minutes fills finished[] and failed[] (AUDIT_MINUTES each, oldest
 * first) for the hour before end_ms: jobs that finished per minute, and
 * failed attempts per minute (the web console's chart). */
#define AUDIT_MINUTES 60
int audit_minutes(db *d, int64_t end_ms, double *finished, double *failed);

/* ---- outcome markers: handlers that write PostgreSQL themselves ---- */

/* A job that changes a snapshot writes its outcome in the same transaction
 * (common/snapshot.h); its later outbox record merges into that row. The
 * outcome carries what that record will say of the attempt's end (worker,
 * finished_at on Redis's clock, duration: handler_outcome_stamp), so the
 * merge finds nothing to change and writes no second row version. */
typedef struct audit_outcome {
    const char *job_id, *queue;
    const char *status;   /* success | conflict | dead ... */
    const char *result;   /* JSON text (masked) or NULL */
    int attempts, rev;
    const char *worker;   /* NULL: the row keeps its own */
    int64_t finished_us;  /* Redis TIME; -1: PostgreSQL's now() */
    int64_t duration_ms;  /* -1: none */
} audit_outcome;
/* audit_outcome_write upserts the job's row with o, inside the caller's
 * transaction; a row of a newer rev is left alone. */
int audit_outcome_write(db *d, const audit_outcome *o);
/* The statement audit_outcome_write runs, for a caller that joins it to its
 * own change in one statement (snapshot.c): parameters $1..$9 from
 * audit_outcome_params (its buffers hold the numbers). A new attempt starts
 * its columns afresh (record_merge.h): that attempt's started_at comes with
 * its running record; a success clears the last error, as its record
 * would. */
#define AUDIT_OUTCOME_NPARAMS 9
#define AUDIT_OUTCOME_SQL \
    "INSERT INTO syncq_jobs AS j (job_id, queue, status, attempts, result, finished_at, rev, id_at, worker, duration_ms)" \
    " VALUES ($1, $2, $3, $4, $5::jsonb, COALESCE(" RECORD_US("$8::bigint") ", now()), $6, syncq_id_time($1), $7," \
    " $9::bigint)" \
    " ON CONFLICT (job_id, id_at) DO UPDATE SET status = EXCLUDED.status, attempts = EXCLUDED.attempts," \
    " result = EXCLUDED.result, finished_at = EXCLUDED.finished_at, rev = EXCLUDED.rev, updated_at = now()," \
    " worker = COALESCE(EXCLUDED.worker, j.worker)," \
    " last_error = CASE WHEN EXCLUDED.status = 'success' THEN NULL ELSE j.last_error END," \
    " started_at = CASE WHEN j.rev / 4 = EXCLUDED.rev / 4 THEN j.started_at END," \
    " duration_ms = CASE WHEN j.rev / 4 = EXCLUDED.rev / 4 THEN COALESCE(EXCLUDED.duration_ms, j.duration_ms)" \
    " ELSE EXCLUDED.duration_ms END" \
    " WHERE j.rev <= EXCLUDED.rev"
typedef struct audit_outcome_bufs {
    char attempts[16], rev[16], finished[24], duration[24];
} audit_outcome_bufs;
void audit_outcome_params(const audit_outcome *o, const char **p, audit_outcome_bufs *b);

#endif
