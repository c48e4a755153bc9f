/* queue.h - the queue layer: the only C caller of the syncq Redis Functions
 * (common/functions.lua). Like redis's t_list.c "List API" beside its
 * commands, each function below owns one Function's KEYS order, its argument
 * encoding and the decoding of its reply, so callers deal in our types and
 * never in the wire format (docs/DESIGN.md §4, "The queue layer"). Key names
 * come from keys.h; nothing outside queue.c sends FCALL (funcs.c only loads
 * the library).
 *
 * Return convention, for every function here: 0 (or the count, or the 1/0
 * the comment names) on success; -1 when Redis failed or replied with an
 * error, with r->errstr set and r->err one of the RDS_ERR_* kinds (rds.h):
 * RDS_ERR_IO for a lost connection, RDS_ERR_FENCED for a worker whose lease
 * was taken (docs/LEASES.md), RDS_ERR_REPLY for any other error reply. A
 * Function missing from Redis (restarted without persistence, flushed) is
 * loaded and the call made once more. */
#ifndef SYNCQ_QUEUE_H
#define SYNCQ_QUEUE_H

#include <stddef.h> /* for size_t */
#include <stdint.h> /* for int64_t */

#include "config.h" /* for CONFIG_MAX_BATCH */
#include "keys.h"
#include "rds.h"
#include "wrap.h"   /* for WRAP_TAG_MAX */

#define QUEUE_MAX_BATCH CONFIG_MAX_BATCH /* jobs in a fetch, acks in a step */

/* ---- fetch and claim: jobs into a worker's in-flight list ---- */

/* queue_job is one delivery a fetch handed over. */
typedef struct queue_job {
    const char *entry;  /* borrowed from the reply held by the batch */
    size_t len;
    int attempts;       /* attempts already started before this delivery */
    int lost;           /* deliveries since the last clean end (lost: crash, lease or Redis) */
    int crashes;        /* of those, the ones a master saw die by a signal (the poison rule) */
    int64_t fetch_us;   /* Redis TIME of the fetch, in microseconds */
} queue_job;

typedef enum {
    QUEUE_FETCH_OK = 0,          /* jobs[0..n) (n may be 0: the queue was empty) */
    QUEUE_FETCH_BACKPRESSURE = 1, /* the outbox is over its limit: nothing taken */
    QUEUE_FETCH_PAUSED = 2,      /* the queue is paused fleet-wide: nothing taken */
} queue_fetch_status;

typedef struct queue_batch {
    rds_reply *reply;   /* owns the entries; NULL when n is 0 */
    queue_fetch_status status;
    int n;
    queue_job jobs[QUEUE_MAX_BATCH];
} queue_batch;

/* queue_fetch (syncq_fetch) moves up to max jobs from k->ready into
 * k->inflight, wrapping each, unless the queue is paused or the outbox holds
 * more than outbox_max records. b is reset first. */
int queue_fetch(rds *r, const qkeys *k, int max, int64_t outbox_max, queue_batch *b);
/* queue_fetch_send puts the same call on the wire without waiting, behind
 * whatever replies r still owes; queue_fetch_recv reads its reply once those
 * are read: 0, 1 when Redis had lost the library (nothing ran: call
 * queue_fetch, which loads it), -1 on an error. b is reset first. */
int queue_fetch_send(rds *r, const qkeys *k, int max, int64_t outbox_max);
int queue_fetch_recv(rds *r, queue_batch *b);
/* queue_block waits up to seconds for a job and moves it to the head of
 * k->inflight unwrapped (BLMOVE): 1 moved (follow with queue_claim), 0 none. */
int queue_block(rds *r, const qkeys *k, int seconds);
/* queue_block_send puts the same BLMOVE on the wire without waiting (on a
 * connection of its own: it holds the connection until it returns);
 * queue_block_recv reads its reply, as queue_block returns it. */
int queue_block_send(rds *r, const qkeys *k, int seconds);
int queue_block_recv(rds *r);
/* queue_claim (syncq_claim) wraps the job queue_block moved; b is reset first.
 * A queue paused meanwhile gets the job back unstarted (b: none, status
 * QUEUE_FETCH_PAUSED). */
int queue_claim(rds *r, const qkeys *k, queue_batch *b);
void queue_batch_free(queue_batch *b);

/* ---- step: acknowledge deliveries and start the next, atomically ---- */

typedef enum { QUEUE_ACK_DONE = 0, QUEUE_ACK_RETRY, QUEUE_ACK_DEAD, QUEUE_ACK_BACK } queue_ack_kind;

#define QUEUE_ACTION_MAX 260 /* "service/action": two envelope names and a slash */

/* queue_ack is how one delivery ends. The fields under the union apply to
 * the kind of the same name; queue_ack_free releases what it owns. */
typedef struct queue_ack {
    char tag[WRAP_TAG_MAX];  /* the delivery (its wrapper's id) */
    queue_ack_kind kind;
    char *header;            /* owned: RETRY, DEAD: the wrapper line stored with the entry; else NULL */
    char *record;            /* owned: the outcome audit record, or NULL */
    size_t record_len;
    const char *status;      /* the status the record carries (static text), NULL without one: for
                                /metrics, so nobody re-reads the record built here; not sent */
    union {
        struct {             /* the job ended (success, conflict, skipped) */
            char *idem_key;  /* owned: remember the success under this idempotency key, or NULL */
            int64_t idem_ttl_s; /* its window; 0: the action's configured one (else 600 s) */
            char action[QUEUE_ACTION_MAX]; /* "service/action", whose window that is */
        } done;
        struct {             /* to the retry set */
            int64_t delay_ms;
            int deferred;    /* 1: not an attempt (give the attempt back) */
        } retry;
        struct {             /* to the dead-letter set */
            char id[WRAP_TAG_MAX]; /* the job id it is listed under */
        } dead;
        struct {             /* back to the ready list without using an attempt */
            int started;     /* 1: its start was counted and is given back */
        } back;
    };
} queue_ack;

void queue_ack_free(queue_ack *a);

/* queue_step_send (syncq_step) appends one atomic step to r's pipeline and
 * writes it out without waiting for the reply (read it with rds_read): the
 * nacks acks (at most QUEUE_MAX_BATCH), then the start of delivery
 * start_tag (NULL: none) with its running record. The bytes are on the wire
 * before the caller runs the job, so a crash still counts the delivery. A
 * missing library is not retried here: the reply is an error. */
int queue_step_send(rds *r, const qkeys *k, const queue_ack *acks, int nacks, const char *start_tag,
                    const char *start_rec, size_t start_len);

/* ---- the master: leases, crashes, retries ---- */

/* queue_requeue (syncq_requeue) returns dead worker k's in-flight jobs to the
 * front of the ready list and its claimed records to the outbox, and fences
 * wid (docs/LEASES.md); reason ("lease" or "exit") is stamped on the jobs.
 * Counts go to *jobs and *recs. */
int queue_requeue(rds *r, const qkeys *k, const char *wid, const char *reason, long long *jobs, long long *recs);
/* queue_crash (syncq_crash) counts a crash of delivery tag and pushes its
 * record, unless the worker was fenced or no longer holds it: 1 counted, 0 not. */
int queue_crash(rds *r, const qkeys *k, const char *tag, const char *rec, size_t len);
/* queue_promote (syncq_promote) moves up to max due retries to the ready
 * list: the number moved. */
int queue_promote(rds *r, const qkeys *k, int max);

/* ---- the audit writer: the outbox ---- */

/* queue_outbox_claim (syncq_outbox_claim) moves up to max records into the
 * writer's claim list (an earlier claim is returned first) and returns them
 * as an array reply of strings (caller frees), or NULL (-1 convention). */
rds_reply *queue_outbox_claim(rds *r, const qkeys *k, int max);
/* queue_outbox_done (syncq_outbox_done) drops the first n claimed records. */
int queue_outbox_done(rds *r, const qkeys *k, int n);
/* queue_set_aside keeps a record PostgreSQL refused in k->rejected. */
int queue_set_aside(rds *r, const qkeys *k, const char *rec, size_t len);

/* ---- producers ---- */

/* queue_enqueue_send (syncq_enqueue) appends an enqueue of envelope text
 * (masked: its payload masked for the audit record, or NULL) to r's
 * pipeline without flushing it; read each reply with queue_enqueue_reply. */
int queue_enqueue_send(rds *r, const qkeys *k, const char *text, size_t len, const char *masked);

typedef enum {
    QUEUE_ENQ_OK = 0,      /* id and state set */
    QUEUE_ENQ_REFUSED,     /* the envelope was refused: error says why */
    QUEUE_ENQ_MISSING,     /* the library was missing: load it and send again */
} queue_enq_result;

typedef struct queue_enqueued {
    const char *id, *state;  /* borrowed from the reply; state: queued|delayed|debounced|duplicate */
    size_t idlen;
    const char *error;       /* QUEUE_ENQ_REFUSED: the reason, without "ERR " */
    size_t errlen;
} queue_enqueued;

/* queue_enqueue_reply decodes one enqueue reply (NULL: the connection failed,
 * read as REFUSED with no error). */
queue_enq_result queue_enqueue_reply(const rds_reply *x, queue_enqueued *out);
/* queue_enqueue runs one enqueue and waits: 0 with the job id in id, or -1
 * (a refused envelope included: r->err is RDS_ERR_REPLY). */
int queue_enqueue(rds *r, const qkeys *k, const char *text, char *id, size_t idlen);

/* queue_status is a job's state as the queue sees it (syncq_status). */
typedef struct queue_status {
    rds_reply *reply;    /* owns the strings below */
    const char *state;   /* queued|delayed|retrying|running|dead|unknown */
    const char *detail;  /* queued: jobs ahead; delayed, retrying: due ms; running: worker id; dead: ms; or NULL */
    const char *error;   /* retrying, dead: the last error; else NULL */
} queue_status;

int queue_status_get(rds *r, const qkeys *k, const char *id, queue_status *st);
void queue_status_free(queue_status *st);
/* queue_cancel (syncq_cancel) moves a queued or delayed job to the
 * dead-letter set: 1 cancelled, 0 not queued or delayed. */
int queue_cancel(rds *r, const qkeys *k, const char *id, const char *actor);
/* queue_entry (syncq_entry) finds a waiting job's entry: 1 with *entry (an
 * RDS_STR reply: free it) set, 0 not waiting. */
int queue_entry(rds *r, const qkeys *k, const char *id, rds_reply **entry);
/* queue_push_entry (syncq_push_entry) queues an entry an operator's command
 * built, with its nrecs audit records, vouching for its wrapper. */
int queue_push_entry(rds *r, const qkeys *k, const char *entry, size_t len, const char *const *recs,
                     const size_t *rlens, int nrecs);
/* queue_dlq_replay (syncq_dlq_replay) takes member id out of the dead-letter
 * set and queues entry with its records: 1 replayed, 0 not in dead-letter. */
int queue_dlq_replay(rds *r, const qkeys *k, const char *id, const char *entry, size_t len, const char *const *recs,
                     const size_t *rlens, int nrecs);
/* queue_dlq_purge (syncq_dlq_purge) deletes dead-letter member id and pushes
 * rec: 1 purged, 0 not in dead-letter. */
int queue_dlq_purge(rds *r, const qkeys *k, const char *id, const char *rec, size_t len);

/* ---- handlers: locks and rate limits ---- */

/* queue_unlock (syncq_unlock) releases lock (keys_lock) if owner holds it. */
int queue_unlock(rds *r, const char *lock, const char *owner);
/* queue_ratelimit (syncq_ratelimit) takes a token from bucket (keys_ratelimit):
 * 0 go now, N ms until a token is due, -1 Redis failed. */
int64_t queue_ratelimit(rds *r, const char *bucket, double per_second, int burst);

#endif
