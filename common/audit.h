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
#include "sbuf.h"

/* ---- the writer (worker/writer.c) ---- */

/* audit_stage creates the session's staging table, once per connection. */
int audit_stage(db *d);
/* audit_write writes one batch of staging rows (COPY text: ord, jobrow, then
 * the record's columns; see worker/writer.c) and merges them into the audit
 * tables, in one transaction. On failure the transaction is rolled back and
 * d->errstr / d->sqlstate still say what failed. */
int audit_write(db *d, const char *copy, size_t len);

/* ---- syncq status ---- */

/* the finish time is RFC 3339 UTC with milliseconds, like Redis-side times */
enum { AUDIT_STATUS_STATUS, AUDIT_STATUS_QUEUE, AUDIT_STATUS_ATTEMPTS, AUDIT_STATUS_ERROR, AUDIT_STATUS_FINISHED };
/* audit_status: the job's row (0 or 1 of them): status, queue, attempts,
 * last error ('' for none), finish time ('' for none). */
db_result *audit_status(db *d, const char *job_id);

#endif
