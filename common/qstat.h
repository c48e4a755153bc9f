/* qstat.h - a queue's state read from Redis with cheap commands only (O(1)
 * or O(owners)), for `syncq stats`, `syncq check` and the worker's /metrics.
 * See keys.h for the key layout.
 *
 * The age of the oldest ready job is measured on Redis's clock (TIME), from
 * the entry at the tail of the ready list (workers take from the right):
 * its ready=<ms> when a retry was promoted (time waiting to run, docs/DESIGN.md §6),
 * the wrapper's seen=<ms> for a replay (from=<id>: queued when replayed),
 * else the envelope's enqueued_at, else the wrapper's first-sight time. A raw
 * entry without enqueued_at that no worker has seen yet has no known age. */
#ifndef SYNCQ_QSTAT_H
#define SYNCQ_QSTAT_H

#include <stddef.h> /* for size_t */
#include <stdint.h> /* for int64_t */

#include "config.h"
#include "rds.h"

typedef struct qstat_owner {
    char *wid;          /* owned */
    long long inflight; /* LLEN of its in-flight list in this queue */
} qstat_owner;

typedef struct qstat {
    char name[CONFIG_QUEUE_NAME_MAX];
    long long ready;         /* LLEN ready */
    int64_t oldest_age_ms;   /* -1 when empty or unknown */
    long long inflight;      /* sum over the queue's owners */
    long long retry;         /* ZCARD retry: retries and delayed jobs */
    int64_t next_due_ms;     /* Redis ms of the earliest retry, -1 none */
    long long dead;          /* ZCARD dead */
    long long outbox;        /* LLEN outbox: audit records waiting for PostgreSQL */
    long long rejected;      /* LLEN rejected: audit records set aside by the writer */
    int paused;
    qstat_owner *owners;     /* owned, nowners of them */
    size_t nowners;
} qstat;

/* qstat_now_ms reads Redis TIME in ms. 0 or -1 with r->errstr. */
int qstat_now_ms(rds *r, int64_t *ms);
/* qstat_read fills q for queue name (valid per config_valid_queue_name)
 * with now_ms from qstat_now_ms; max_envelope bounds the parse of the oldest
 * entry. 0 or -1 with r->errstr (q is then freed and empty). */
int qstat_read(rds *r, const char *prefix, const char *name, int64_t now_ms, size_t max_envelope, qstat *q);
void qstat_free(qstat *q);

/* qstat_entry_ms returns when entry s[0..n) became ready (see above) in Unix
 * ms, or -1 when unknown. Pure. */
int64_t qstat_entry_ms(const char *s, size_t n, size_t max_envelope);

/* qstat_queue_names returns the queues to report: the configured ones, then
 * those workers registered in P:{P:fleet}:queues (sorted), without duplicates or
 * invalid names. *out is malloc'd (free it), *n set. 0 or -1 with r->errstr. */
int qstat_queue_names(rds *r, const config *cfg, char (**out)[CONFIG_QUEUE_NAME_MAX], int *n);

#endif
