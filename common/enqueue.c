/* enqueue.c - the producer side: validate, complete and push envelopes, and
 * record them as queued in the audit outbox (see syncq.h). */
#include "fmacros.h"
#include "config.h"
#include "envelope.h"
#include "keys.h"
#include "mask.h"
#include "rds.h"
#include "record.h"
#include "sbuf.h"
#include "syncq.h"
#include "uuid.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_FLUSH 500 /* envelopes per MULTI block */

typedef struct entry {
    char queue[CONFIG_QUEUE_NAME_MAX];
    char *env, *rec; /* owned */
    size_t env_len, rec_len;
} entry;

struct syncq_client {
    rds r;
    char prefix[64];
    char err[512];
    int code;
    entry *batch; /* owned, n used of cap */
    int n, cap;
};

static int
fail(syncq_client *c, int code, const char *msg)
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
    if (rds_connect(&c->r, redis_url, 5000) < 0) {
        snprintf(err, errlen, "%s", c->r.errstr);
        free(c);
        return NULL;
    }
    return c;
}

void
syncq_client_free(syncq_client *c)
{
    if (!c) return;
    for (int i = 0; i < c->n; i++) {
        free(c->batch[i].env);
        free(c->batch[i].rec);
    }
    free(c->batch);
    rds_close(&c->r);
    free(c);
}

const char *syncq_client_error(const syncq_client *c) { return c->err; }
int syncq_last_code(const syncq_client *c) { return c->code; }

static int64_t
wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* splice inserts "id" and "enqueued_at" members after the opening brace
 * without touching the producer's other bytes. */
static char *
splice(const char *text, size_t len, const envelope *e, const char *id, int64_t now, size_t *outlen)
{
    sbuf b;
    char ts[40];
    size_t brace = 0;
    while (brace < len && text[brace] != '{') brace++;
    sbuf_init(&b);
    sbuf_add(&b, text, brace + 1);
    if (!e->id) {
        sbuf_adds(&b, "\"id\":");
        sbuf_json_strz(&b, id);
        sbuf_addc(&b, ',');
    }
    if (!e->enqueued_at) {
        rfc3339_format(now, ts, sizeof(ts));
        sbuf_adds(&b, "\"enqueued_at\":");
        sbuf_json_strz(&b, ts);
        sbuf_addc(&b, ',');
    }
    /* an empty object "{}" would now end in ",}" */
    const char *rest = text + brace + 1;
    size_t restlen = len - brace - 1, k = 0;
    while (k < restlen && (rest[k] == ' ' || rest[k] == '\n' || rest[k] == '\t' || rest[k] == '\r')) k++;
    if (k < restlen && rest[k] == '}' && (!e->id || !e->enqueued_at)) b.len--;
    sbuf_add(&b, rest, restlen);
    return sbuf_steal(&b, outlen);
}

static char *
queued_record(const envelope *e, const char *id, const char *queue, int64_t now, size_t *len)
{
    record r;
    char *payload = NULL, *out;
    if (e->payload) {
        char *txt = json_print(e->payload);
        if (txt) payload = mask_json_text(txt, strlen(txt));
        free(txt);
    }
    record_init(&r);
    r.id = id;
    r.queue = queue;
    r.kind = envelope_kind_name(e->kind);
    r.service = e->service;
    r.action = e->action;
    r.target_type = e->target_type;
    r.target_id = e->target_id;
    r.scope = e->scope;
    r.actor = e->actor;
    r.payload = payload;
    r.status = "queued";
    r.enqueued_ms = e->enqueued_at_ms >= 0 ? e->enqueued_at_ms : now;
    r.rev = record_rev(0, REC_QUEUED);
    out = record_build(&r, len);
    free(payload);
    return out;
}

/* prepare validates json and fills ent (queue, completed envelope, record). */
static int
prepare(syncq_client *c, const char *queue, const char *text, size_t len, entry *ent, char *id_out, size_t idlen)
{
    envelope e;
    char err[400], id[UUID_STR_LEN];
    int64_t now = wall_ms();
    if (envelope_parse(text, len, ENVELOPE_MAX_BYTES, &e, err, sizeof(err)) != ENV_OK)
        return fail(c, SYNCQ_EDATA, err);
    if (!queue) queue = e.kind == KIND_SYNC ? "sync" : "urgent";
    if (!config_valid_queue_name(queue)) {
        envelope_free(&e);
        return fail(c, SYNCQ_EDATA, "bad queue name");
    }
    if (!e.id && uuid_v7(id) < 0) {
        envelope_free(&e);
        return fail(c, SYNCQ_EREDIS, "no randomness for a job id");
    }
    const char *jid = e.id ? e.id : id;
    snprintf(ent->queue, sizeof(ent->queue), "%s", queue);
    snprintf(id_out, idlen, "%s", jid);
    ent->env = (e.id && e.enqueued_at) ? xstrndup(text, len) : splice(text, len, &e, id, now, &ent->env_len);
    if (e.id && e.enqueued_at) ent->env_len = len;
    ent->rec = queued_record(&e, jid, queue, now, &ent->rec_len);
    envelope_free(&e);
    return 0;
}

/* append_block pipelines MULTI, one LPUSH and one RPUSH per queue run, EXEC. */
static int
append_block(syncq_client *c, entry *ents, int n)
{
    const char *argv[2 + BATCH_FLUSH];
    size_t lens[2 + BATCH_FLUSH];
    qkeys k;
    const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"};
    size_t ml[] = {5}, el[] = {4};
    if (rds_append(&c->r, 1, multi, ml) < 0) return -1;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && !strcmp(ents[j].queue, ents[i].queue)) j++;
        keys_queue(&k, c->prefix, ents[i].queue, NULL);
        for (int pass = 0; pass < 2; pass++) {
            argv[0] = pass ? "RPUSH" : "LPUSH";
            argv[1] = pass ? k.outbox : k.ready;
            lens[0] = 5;
            lens[1] = strlen(argv[1]);
            for (int x = i; x < j; x++) {
                argv[2 + x - i] = pass ? ents[x].rec : ents[x].env;
                lens[2 + x - i] = pass ? ents[x].rec_len : ents[x].env_len;
            }
            if (rds_append(&c->r, 2 + j - i, argv, lens) < 0) return -1;
        }
        i = j;
    }
    return rds_append(&c->r, 1, exec, el);
}

static int
read_all(syncq_client *c)
{
    int rc = 0;
    while (c->r.pending > 0) {
        rds_reply *x = rds_read(&c->r);
        if (!x) return fail(c, SYNCQ_EREDIS, c->r.errstr);
        if (rds_reply_type(x) == RDS_ERR) {
            rds_reply_ok(&c->r, x);
            rc = fail(c, SYNCQ_EREDIS, c->r.errstr);
        }
        rds_reply_free(x);
    }
    return rc;
}

int
syncq_batch_add(syncq_client *c, const char *queue, const char *text, size_t len, char *id_out, size_t idlen)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->batch = xrealloc(c->batch, (size_t)c->cap * sizeof(entry));
    }
    entry *ent = &c->batch[c->n];
    memset(ent, 0, sizeof(*ent));
    if (prepare(c, queue, text, len, ent, id_out, idlen) < 0) return -1;
    c->n++;
    return 0;
}

int
syncq_batch_flush(syncq_client *c)
{
    int rc = 0;
    for (int i = 0; i < c->n && rc == 0; i += BATCH_FLUSH) {
        int m = c->n - i < BATCH_FLUSH ? c->n - i : BATCH_FLUSH;
        if (append_block(c, c->batch + i, m) < 0) rc = fail(c, SYNCQ_EREDIS, c->r.errstr);
    }
    if (rc == 0 && rds_flush(&c->r) < 0) rc = fail(c, SYNCQ_EREDIS, c->r.errstr);
    if (rc == 0) rc = read_all(c);
    for (int i = 0; i < c->n; i++) {
        free(c->batch[i].env);
        free(c->batch[i].rec);
    }
    c->n = 0;
    return rc;
}

int
syncq_enqueue(syncq_client *c, const char *queue, const char *text, size_t len, char *id_out, size_t idlen)
{
    if (c->n) return fail(c, SYNCQ_EDATA, "a batch is pending: flush it first");
    if (syncq_batch_add(c, queue, text, len, id_out, idlen) < 0) return -1;
    return syncq_batch_flush(c);
}
