/* record.h - audit outcome records: what travels from a producer or a worker
 * child through the queue's outbox to the audit writer. Pure code.
 *
 * A record is one line of PostgreSQL COPY text, versioned:
 *   r2 \t job_id \t rev \t queue \t kind \t ... (record_cols.h)
 * so the writer never re-parses JSON: it reads the columns, folds the records
 * of each job into one row (record_merge.h) and streams the lines into COPY.
 * Text is escaped for COPY, NUL-cut, UTF-8 repaired and error text capped at
 * 4 KiB when the record is built, so a record PostgreSQL refuses is rare and
 * set aside by the writer.
 *
 * A job produces several records over its life (queued, running, retrying,
 * a terminal one); rev orders them (attempt * 4 + phase), so PostgreSQL never
 * lets an older record overwrite a newer one, whatever order batches commit
 * in. A record may carry one history event (a failed attempt, a lost
 * delivery, a dead-letter), keyed (job id, rev).
 *
 * Times (the *_us columns) are microseconds since the epoch on one clock,
 * Redis TIME (README "Audit times"): the Redis functions stamp them. A worker
 * writes RECORD_NOW where the step that carries its record is to stamp the
 * time. Version r1 had the same columns in milliseconds; the writer still
 * reads it (records a previous binary left in an outbox). */
#ifndef SYNCQ_RECORD_H
#define SYNCQ_RECORD_H

#include <stddef.h> /* for size_t */
#include <stdint.h> /* for int64_t */

#define RECORD_MAGIC "r2\t"
#define RECORD_MAGIC_V1 "r1\t" /* times in milliseconds */
#define RECORD_ERROR_MAX 4096
/* The columns, their indexes (RECORD_COL_*) and count (RECORD_NCOLS). */
#include "record_cols.h"

/* RECORD_COMMA_COLUMNS: the COPY column list after the magic, each with a
 * comma in front: ", job_id, rev, ..." */
#define RECORD_COLNAME_(NAME, col, ...) ", " #col
#define RECORD_COMMA_COLUMNS RECORD_COLS(RECORD_COLNAME_)

/* A retry's due time is Redis TIME + delay, known only inside the step
 * function: the child writes this placeholder in the ev_due_us column and the
 * function substitutes the number. Likewise RECORD_NOW_PLACEHOLDER, written
 * for a time field set to RECORD_NOW, becomes the step's Redis TIME. Control
 * bytes are always escaped in record text, so neither can occur in data. */
#define RECORD_DUE_PLACEHOLDER "\001DUE"
#define RECORD_NOW_PLACEHOLDER "\001NOW"
#define RECORD_NOW (-2) /* a time field: "stamped by the Redis step" */

enum { REC_QUEUED = 0, REC_RUNNING = 1, REC_RETRYING = 2, REC_TERMINAL = 3 };

/* A record to build: one member per column (record_cols.h says what each
 * holds); record_init sets the defaults (NULL, 0, -1 for NUM and TIME). */
#define RECORD_FIELD_(NAME, col, stype, ctype, field, ...) ctype field;
typedef struct record {
    RECORD_COLS(RECORD_FIELD_)
} record;

int record_rev(int attempts, int phase);
void record_init(record *r);
/* record_build returns the record line, newline-terminated (caller frees). */
char *record_build(const record *r, size_t *len);
/* record_key reads the job id and rev of a record line. Returns 0, or -1 when
 * s is not a record of a version we read (r1, r2). *id points into s (idlen bytes, still
 * COPY-escaped). */
int record_key(const char *s, size_t n, const char **id, size_t *idlen, int *rev, int *has_event);
/* record_field copies column col (RECORD_COL_*) of a
 * record line into out, unescaped; returns its length, or -1 when the column
 * is missing or NULL (\N). For tests and tools; the writer does not need it. */
int record_field(const char *s, size_t n, int col, char *out, size_t outlen);

#endif
