/* record.h - audit outcome records: what travels from a producer or a worker
 * child through the queue's outbox to the audit writer. Pure code.
 *
 * A record is one line of PostgreSQL COPY text, versioned:
 *   r2 \t job_id \t rev \t queue \t kind \t ... (RECORD_COLUMNS below)
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
/* The COPY columns after the magic, in order (the writer's staging table). */
#define RECORD_COLUMNS \
    "job_id, rev, queue, kind, service, action, target_type, target_id, scope, actor, payload, status," \
    " attempts, result, last_error, worker, enqueued_us, started_us, finished_us, duration_ms," \
    " replayed_from, ev_event, ev_outcome, ev_error, ev_attempt, ev_at_us, ev_duration_ms, ev_rev, ev_due_us, fetch_seq"
#define RECORD_NCOLS 30

/* Column numbers in RECORD_COLUMNS (0 = job_id). */
enum {
    RECORD_COL_ID, RECORD_COL_REV, RECORD_COL_QUEUE, RECORD_COL_KIND, RECORD_COL_SERVICE, RECORD_COL_ACTION,
    RECORD_COL_TARGET_TYPE, RECORD_COL_TARGET_ID, RECORD_COL_SCOPE, RECORD_COL_ACTOR, RECORD_COL_PAYLOAD,
    RECORD_COL_STATUS, RECORD_COL_ATTEMPTS, RECORD_COL_RESULT, RECORD_COL_ERROR, RECORD_COL_WORKER,
    RECORD_COL_ENQUEUED, RECORD_COL_STARTED, RECORD_COL_FINISHED, RECORD_COL_DURATION, RECORD_COL_REPLAYED_FROM,
    RECORD_COL_EV_EVENT, RECORD_COL_EV_OUTCOME, RECORD_COL_EV_ERROR, RECORD_COL_EV_ATTEMPT, RECORD_COL_EV_AT,
    RECORD_COL_EV_DURATION, RECORD_COL_EV_REV, RECORD_COL_EV_DUE, RECORD_COL_FETCH_SEQ
};

/* A retry's due time is Redis TIME + delay, known only inside the step
 * function: the child writes this placeholder in the ev_due_us column and the
 * function substitutes the number. Likewise RECORD_NOW_PLACEHOLDER, written
 * for a time field set to RECORD_NOW, becomes the step's Redis TIME. Control
 * bytes are always escaped in record text, so neither can occur in data. */
#define RECORD_DUE_PLACEHOLDER "\001DUE"
#define RECORD_NOW_PLACEHOLDER "\001NOW"
#define RECORD_NOW (-2) /* a time field: "stamped by the Redis step" */

enum { REC_QUEUED = 0, REC_RUNNING = 1, REC_RETRYING = 2, REC_TERMINAL = 3 };

typedef struct record {
    const char *id, *queue, *kind, *service, *action;
    const char *target_type, *target_id, *scope, *actor;
    const char *payload;      /* masked JSON text, or NULL */
    const char *status;       /* queued|running|retrying|success|dead|conflict|superseded */
    int attempts;
    const char *result;       /* JSON text or NULL */
    const char *error;        /* NULL for none */
    const char *worker;
    int64_t enqueued_us, started_us, finished_us; /* -1 unknown, or RECORD_NOW */
    int64_t duration_ms;      /* -1 unknown; measured by the worker */
    const char *replayed_from;
    int rev;
    /* history event; event NULL for none */
    const char *event;        /* attempt|dead|lost */
    const char *ev_outcome;   /* transient|permanent|crash|poison|bad_data|timeout */
    const char *ev_error;
    int ev_attempt;
    int64_t ev_at_us;         /* -1 unknown, or RECORD_NOW */
    int64_t ev_duration_ms;
    int ev_rev;               /* the event's key; 0: the record's rev. A lost
                                 delivery is keyed by the attempt it ended, so
                                 the master's and the next start's reports of
                                 one crash are one event. */
    int ev_due;               /* 1: a retry; the step fills in its due time */
    int64_t fetch_seq;        /* Redis TIME (us) of the fetch that took the job, -1 none:
                                 the order jobs were taken in, across queues */
} record;

int record_rev(int attempts, int phase);
void record_init(record *r);
/* record_build returns the record line, newline-terminated (caller frees). */
char *record_build(const record *r, size_t *len);
/* record_key reads the job id and rev of a record line. Returns 0, or -1 when
 * s is not a record of a version we read (r1, r2). *id points into s (idlen bytes, still
 * COPY-escaped). */
int record_key(const char *s, size_t n, const char **id, size_t *idlen, int *rev, int *has_event);
/* record_field copies column col (0 = job_id, per RECORD_COLUMNS) of a
 * record line into out, unescaped; returns its length, or -1 when the column
 * is missing or NULL (\N). For tests and tools; the writer does not need it. */
int record_field(const char *s, size_t n, int col, char *out, size_t outlen);

#endif
