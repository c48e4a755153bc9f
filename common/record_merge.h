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
/* record_row_put_job appends row as one COPY line of syncq_jobs' own
 * columns: id_at, then the record's columns that are not EVENT ones, in
 * table order, times as timestamptz text. For the writer's direct COPY of a
 * job's first row (common/audit.c): the values are those the merge's INSERT
 * would compute. Returns 0, or -1 (nothing appended) when a time cannot be
 * written as a timestamp; that row then goes through the merge. */
int record_row_put_job(const record_row *row, sbuf *b);
/* record_id_at writes syncq_id_time(id) (schema/006_partition.sql) as
 * timestamptz text: the millisecond time of a UUIDv7 id, else the epoch. */
void record_id_at(const char *id, size_t n, char out[64]);

#endif
