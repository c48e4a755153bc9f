/* enqueue.c - the producer side (syncq.h): validate envelopes locally for a
 * clear error, mask a copy of the payload for the audit, and run the
 * syncq_enqueue Redis function (common/functions.lua) through the queue
 * layer (queue.h), pipelined for batches.
 * The function does the rest atomically: ids, enqueued_at, idempotency,
 * delay, debounce, the push and the queued audit record. */
#include "fmacros.h"
#include "config.h"
#include "envelope.h"
#include "funcs.h"
#include "keys.h"
#include "queue.h"
#include "mask.h"
#include "rds.h"
#include "syncq.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char queue[CONFIG_QUEUE_NAME_MAX];
    char *text, *masked;   /* owned: the envelope as given, the masked payload (or NULL) */
    size_t len;
    char *id, *error;      /* owned results after a flush */
    syncq_state state;
} entry;

struct syncq_client {
    rds r;
    char prefix[64];
    char err[512];
    int code;
    entry *batch;          /* owned, n used of cap */
    int n, cap;
    int flushed;           /* the batch holds results, not pending work */
    int wait_replicas;     /* WAIT for this many replicas after a flush, 0 = no */
    int wait_ms;
};

static const char *state_names[] = {"queued", "delayed", "debounced", "duplicate"};

const char *
syncq_state_name(syncq_state s)
{
    return s <= SYNCQ_DUPLICATE ? state_names[s] : "unknown";
}

/* client_error records the client's error (syncq_errcode, syncq_errmsg) and
 * returns -1. */
static int
client_error(syncq_client *c, int code, const char *msg)
{
    c->code = code;
    snprintf(c->err, sizeof(c->err), "%s", msg);
    return -1;
}

syncq_client *
syncq_client_new(const char *redis_url, const char *prefix, char *err, size_t errlen)
{
    syncq_client *c = xcalloc(1, sizeof(*c));
    rds_init(&c->r);
    snprintf(c->prefix, sizeof(c->prefix), "%s", prefix ? prefix : "syncq");
    if (rds_connect(&c->r, redis_url, 5000) < 0 || funcs_ensure(&c->r) < 0) {
        snprintf(err, errlen, "%s", c->r.errstr);
        rds_close(&c->r);
        free(c);
        return NULL;
    }
    return c;
}

static void
clear(syncq_client *c)
{
    for (int i = 0; i < c->n; i++) {
        free(c->batch[i].text);
        free(c->batch[i].masked);
        free(c->batch[i].id);
        free(c->batch[i].error);
    }
    c->n = 0;
    c->flushed = 0;
}

void
syncq_client_free(syncq_client *c)
{
    if (!c) return;
    clear(c);
    free(c->batch);
    rds_close(&c->r);
    free(c);
}

const char *syncq_client_error(const syncq_client *c) { return c->err; }
int syncq_last_code(const syncq_client *c) { return c->code; }
int syncq_batch_count(const syncq_client *c) { return c->n; }

/* prepare validates text and fills ent's queue, text and masked payload. */
static int
prepare(syncq_client *c, const char *queue, const char *text, size_t len, entry *ent)
{
    envelope e;
    char err[400];
    if (envelope_parse(text, len, ENVELOPE_MAX_BYTES, &e, err, sizeof(err)) != ENV_OK)
        return client_error(c, SYNCQ_EDATA, err);
    if (!queue) queue = e.kind == KIND_SYNC ? "sync" : "urgent";
    if (!config_valid_queue_name(queue)) {
        envelope_free(&e);
        return client_error(c, SYNCQ_EDATA, "bad queue name");
    }
    snprintf(ent->queue, sizeof(ent->queue), "%s", queue);
    if (e.payload) {
        char *txt = json_print(e.payload);
        if (txt) ent->masked = mask_json_text(txt, strlen(txt));
        free(txt);
    }
    ent->text = xstrndup(text, len);
    ent->len = len;
    envelope_free(&e);
    return 0;
}

int
syncq_batch_add(syncq_client *c, const char *queue, const char *text, size_t len)
{
    if (c->flushed) clear(c);
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->batch = xrealloc(c->batch, (size_t)c->cap * sizeof(entry));
    }
    entry *ent = &c->batch[c->n];
    memset(ent, 0, sizeof(*ent));
    if (prepare(c, queue, text, len, ent) < 0) return -1;
    c->n++;
    return 0;
}

static int
append(syncq_client *c, const entry *ent)
{
    qkeys k;
    keys_queue(&k, c->prefix, ent->queue, NULL);
    return queue_enqueue_send(&c->r, &k, ent->text, ent->len, ent->masked);
}

/* take_reply stores the function's answer in ent; 1 when the library was
 * missing (Redis restarted without it) and the entry must be sent again. */
static int
take_reply(entry *ent, rds_reply *x)
{
    queue_enqueued e;
    switch (queue_enqueue_reply(x, &e)) {
    case QUEUE_ENQ_MISSING: return 1;
    case QUEUE_ENQ_REFUSED:
        ent->error = xstrndup(e.error ? e.error : "no reply", e.error ? e.errlen : 8);
        return 0;
    case QUEUE_ENQ_OK: break;
    }
    const char *st = e.state;
    ent->id = xstrndup(e.id ? e.id : "", e.id ? e.idlen : 0);
    ent->state = SYNCQ_QUEUED;
    for (int s = 0; st && s <= SYNCQ_DUPLICATE; s++)
        if (!strcmp(st, state_names[s])) ent->state = (syncq_state)s;
    return 0;
}

/* send pipelines entries from..n-1 and reads their replies; returns the
 * number that need resending after a library load, or -1 on I/O errors. */
static int
send_pending(syncq_client *c, int *retry, int nretry_in)
{
    int nretry = 0;
    for (int i = 0; i < nretry_in; i++)
        if (append(c, &c->batch[retry[i]]) < 0) return -1;
    if (rds_flush(&c->r) < 0) return -1;
    for (int i = 0; i < nretry_in; i++) {
        rds_reply *x = rds_read(&c->r);
        if (!x) return -1;
        if (take_reply(&c->batch[retry[i]], x)) retry[nretry++] = retry[i];
        rds_reply_free(x);
    }
    return nretry;
}

int
syncq_client_wait_replicas(syncq_client *c, int replicas, int timeout_ms)
{
    if (replicas < 0 || timeout_ms < 0) return client_error(c, SYNCQ_EDATA, "syncq_client_wait_replicas: negative argument");
    c->wait_replicas = replicas;
    c->wait_ms = timeout_ms;
    return 0;
}

/* confirm waits for the replicas the client asks for (see syncq.h). */
static int
confirm(syncq_client *c)
{
    char msg[200];
    rds_reply *x = rds_cmdf(&c->r, "WAIT %d %d", c->wait_replicas, c->wait_ms);
    if (!rds_reply_ok(&c->r, x)) {
        rds_reply_free(x);
        return client_error(c, SYNCQ_EREDIS, c->r.errstr);
    }
    long long got = rds_reply_int(x);
    rds_reply_free(x);
    if (got >= c->wait_replicas) return 0;
    snprintf(msg, sizeof(msg), "enqueued on the master, but %lld of %d replica(s) confirmed it within %d ms: a failover"
             " now could lose it", got, c->wait_replicas, c->wait_ms);
    return client_error(c, SYNCQ_EREPLICA, msg);
}

int
syncq_batch_flush(syncq_client *c)
{
    int *queued = xcalloc((size_t)(c->n ? c->n : 1), sizeof(int)), n = c->n, rc = 0;
    if (c->flushed) n = 0;
    for (int i = 0; i < n; i++) queued[i] = i;
    for (int round = 0; n > 0 && round < 2; round++) {
        n = send_pending(c, queued, n);
        if (n < 0) rc = client_error(c, SYNCQ_EREDIS, c->r.errstr);
        else if (n > 0 && funcs_load(&c->r) < 0) rc = client_error(c, SYNCQ_EREDIS, c->r.errstr);
        if (rc < 0) break;
    }
    if (rc == 0 && n > 0) rc = client_error(c, SYNCQ_EREDIS, "the syncq function library could not be loaded");
    if (rc == 0 && c->wait_replicas > 0 && c->n > 0 && !c->flushed) rc = confirm(c);
    c->flushed = 1;
    free(queued);
    return rc;
}

int
syncq_batch_result(const syncq_client *c, int i, const char **id, syncq_state *state, const char **error)
{
    const entry *e = &c->batch[i];
    *id = e->id;
    *state = e->state;
    *error = e->error;
    return e->error || !e->id ? -1 : 0;
}

int
syncq_enqueue2(syncq_client *c, const char *queue, const char *text, size_t len, char *id_out, size_t idlen,
               syncq_state *state)
{
    const char *id, *error;
    syncq_state st;
    if (c->n && !c->flushed) return client_error(c, SYNCQ_EDATA, "a batch is pending: flush it first");
    if (syncq_batch_add(c, queue, text, len) < 0) return -1;
    int unconfirmed = syncq_batch_flush(c) < 0;
    if (unconfirmed && c->code != SYNCQ_EREPLICA) return -1;
    if (syncq_batch_result(c, c->n - 1, &id, &st, &error) < 0) return client_error(c, SYNCQ_EDATA, error ? error : "no reply");
    snprintf(id_out, idlen, "%s", id);
    if (state) *state = st;
    return unconfirmed ? -1 : 0; /* -1: enqueued, c->err says on the master only */
}

int
syncq_enqueue(syncq_client *c, const char *queue, const char *text, size_t len, char *id_out, size_t idlen)
{
    return syncq_enqueue2(c, queue, text, len, id_out, idlen, NULL);
}
