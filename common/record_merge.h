/* record_merge.h - folding the records of one job into the row PostgreSQL
 * keeps of it. Pure code, used by the audit writer (worker/writer.c), whose
 * merge SQL (common/audit.c) applies the same rules when the records meet in
 * different batches, so a row never depends on how records were batched.
 *
 * Each column's rule is its row's merge field in record_cols.h (records
 * ordered by rev, then by arrival):
 *   KEY, REV, NEWEST   the newest record's: the lifecycle order (status,
 *                      attempts, rev)
 *   FILL               the newest value that is not NULL (the identity:
 *                      queue, kind, service, ..., worker, fetch_seq)
 *   OLDEST             the oldest value that is not NULL (enqueued_at)
 *   ATTEMPT            the newest attempt's: the newest value that is not
 *                      NULL among records of the newest record's attempt
 *                      (rev / 4); a new attempt starts them afresh (a failed
 *                      attempt's are in its event): started_at, finished_at,
 *                      duration_ms, result
 *   LAST_ERROR         the newest value that is not NULL; none once the job
 *                      succeeded
 *   EVENT              each record's own: events are never merged
 * So a later record's NULL never hides an earlier record's value. */
#ifndef SYNCQ_RECORD_MERGE_H
#define SYNCQ_RECORD_MERGE_H

#include <stddef.h> /* for size_t */

#include "record.h"
#include "sbuf.h"

typedef struct record_row {
    const char *col[RECORD_NCOLS]; /* COPY-escaped text, not NUL-terminated; NULL for \N */
    size_t len[RECORD_NCOLS];
    int rev;
    char us[RECORD_NCOLS][24];     /* an r1 record's times, made microseconds */
} record_row;

/* record_row_parse splits a record line (r1 or r2) into row, whose columns
 * point into s (or into row->us). A time the step never stamped (a
 * placeholder left in by an older step function) reads as NULL. Returns 0,
 * or -1 when s is not a record line. */
int record_row_parse(const char *s, size_t n, record_row *row);
/* record_row_merge folds older (an older record of the same job) into newer
 * by the rules above. newer may then point into older's storage. */
void record_row_merge(record_row *newer, const record_row *older);
/* record_row_put appends row's columns as one COPY line (tab-separated,
 * newline-terminated), with the event columns NULL unless with_event. */
void record_row_put(const record_row *row, int with_event, sbuf *b);

#endif
