/* record.h - audit outcome records: the JSON text that travels from a worker
 * child through the queue's outbox to the audit writer. Pure code.
 *
 * A job produces several records over its life (queued, running, retrying,
 * a terminal one); rev orders them (attempt * 4 + phase), so the writer keeps
 * the highest and PostgreSQL never lets an older record overwrite a newer
 * one, whatever order batches commit in. A record may carry one history event
 * (an attempt's end, a dead-letter, a lost delivery), keyed (job id, rev). */
#ifndef SYNCQ_RECORD_H
#define SYNCQ_RECORD_H

#include <stddef.h> /* for size_t */
#include <stdint.h> /* for int64_t */

#include "json.h"

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
    int64_t enqueued_ms, started_ms, finished_ms, duration_ms; /* -1 unknown */
    const char *replayed_from;
    int rev;
    /* history event; event NULL for none */
    const char *event;        /* attempt|dead|lost|bad_data|... */
    const char *ev_outcome;   /* success|transient|permanent|crash|... */
    const char *ev_error;
    int ev_attempt;
    int64_t ev_at_ms, ev_duration_ms;
} record;

int record_rev(int attempts, int phase);
void record_init(record *r);
/* record_build returns the record as compact JSON text (caller frees). */
char *record_build(const record *r, size_t *len);
/* record_parse reads s[0..n) into r; r's strings point into *tree, which the
 * caller frees with json_free. Returns 0 or -1 with err. */
int record_parse(const char *s, size_t n, record *r, json **tree, char *err, size_t errlen);

#endif
