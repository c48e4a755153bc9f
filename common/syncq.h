/* syncq.h - the C producer library (lib/libsyncq.a): enqueue jobs from a C
 * application through the same Redis function every producer uses
 * (the syncq_enqueue Redis Function, docs/PROTOCOL.md).
 *
 *   char err[256], id[160];
 *   syncq_client *c = syncq_client_new("redis://127.0.0.1:6379/0", "syncq", err, sizeof(err));
 *   if (!c || syncq_enqueue(c, NULL, json, strlen(json), id, sizeof(id)) < 0) ...
 *   syncq_client_free(c);
 *
 * Link with: lib/libsyncq.a $(pkg-config --libs hiredis libcjson libpq) */
#ifndef SYNCQ_H
#define SYNCQ_H

#include <stddef.h> /* for size_t */

typedef struct syncq_client syncq_client;

/* syncq_client_new connects and loads the function library when Redis lacks
 * it (or has an older one); NULL with err on failure. prefix NULL = "syncq". */
syncq_client *syncq_client_new(const char *redis_url, const char *prefix, char *err, size_t errlen);
void syncq_client_free(syncq_client *c);
/* syncq_client_error returns the last error message. */
const char *syncq_client_error(const syncq_client *c);

#define SYNCQ_EDATA 65
#define SYNCQ_EREDIS 69
#define SYNCQ_EREPLICA 75 /* enqueued on the master, not confirmed by enough replicas in time */

/* syncq_client_wait_replicas makes every later flush (and single enqueue)
 * wait until at least replicas replicas hold what it wrote (Redis WAIT),
 * at most timeout_ms; 0 replicas (the default) does not wait. Redis
 * replication is asynchronous: a job a master acknowledged may be lost if
 * it fails over before a replica got it (README "Production Redis and
 * PostgreSQL"). A flush that got fewer confirmations returns -1 with
 * SYNCQ_EREPLICA: its results (ids) are kept and the jobs are enqueued, on
 * the master only; retry with an idempotency key if losing them matters.
 * Returns 0, or -1 for a bad argument. */
int syncq_client_wait_replicas(syncq_client *c, int replicas, int timeout_ms);

/* What an enqueue did (the function's reply). */
typedef enum {
    SYNCQ_QUEUED = 0,   /* pushed onto the ready list */
    SYNCQ_DELAYED,      /* waiting for run_at / delay_ms */
    SYNCQ_DEBOUNCED,    /* waiting for its debounce window (a sync job) */
    SYNCQ_DUPLICATE,    /* idempotency key seen: id is the first job's */
} syncq_state;

/* syncq_enqueue validates an envelope (docs/PROTOCOL.md), masks a copy of its payload
 * for the audit, and runs the enqueue function on queue (NULL: urgent for
 * mutations, sync for syncs). Writes the job id (the first job's id for a
 * duplicate) and, when state is not NULL, what happened. Returns 0, or -1:
 * a bad envelope (syncq_last_code SYNCQ_EDATA) or a Redis failure
 * (SYNCQ_EREDIS). */
int syncq_enqueue2(syncq_client *c, const char *queue, const char *text, size_t len, char *id_out, size_t idlen,
                   syncq_state *state);
int syncq_enqueue(syncq_client *c, const char *queue, const char *text, size_t len, char *id_out, size_t idlen);
int syncq_last_code(const syncq_client *c);

/* Batches: syncq_batch_add validates and queues one envelope (returns -1 and
 * queues nothing for a bad one); syncq_batch_flush sends everything queued,
 * pipelined, and waits. Then syncq_batch_result gives entry i's id and state,
 * or -1 with its error (the function refused it). Results stay until the next
 * add. */
int syncq_batch_add(syncq_client *c, const char *queue, const char *text, size_t len);
int syncq_batch_flush(syncq_client *c);
int syncq_batch_count(const syncq_client *c);
int syncq_batch_result(const syncq_client *c, int i, const char **id, syncq_state *state, const char **error);
const char *syncq_state_name(syncq_state s);

#endif
