/* queue.c - the queue layer: one typed function per syncq Redis Function
 * (see queue.h). The KEYS order and argument encoding of each Function live
 * here and in its comment in common/functions.lua, nowhere else. */
#include "fmacros.h"
#include "funcs.h"
#include "queue.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_MAX_ARGS 1024 /* a step: 3 + 5 per ack + 2, with room to spare */

/* ---------------------------------------------------------------- calling */

/* argv_build fills argv/lens for FCALL fn nkeys keys... args... (arglens
 * NULL: the args are C strings); returns argc, or -1 when too many. */
static int
argv_build(const char *fn, int nkeys, const char *const *keys, int nargs, const char *const *args,
           const size_t *arglens, const char **argv, size_t *lens, char *nk, size_t nklen)
{
    int argc = 0;
    if (3 + nkeys + nargs > QUEUE_MAX_ARGS) return -1;
    snprintf(nk, nklen, "%d", nkeys);
    argv[argc] = "FCALL"; lens[argc++] = 5;
    argv[argc] = fn; lens[argc++] = strlen(fn);
    argv[argc] = nk; lens[argc++] = strlen(nk);
    for (int i = 0; i < nkeys; i++) {
        argv[argc] = keys[i];
        lens[argc++] = strlen(keys[i]);
    }
    for (int i = 0; i < nargs; i++) {
        argv[argc] = args[i];
        lens[argc++] = arglens ? arglens[i] : strlen(args[i]);
    }
    return argc;
}

/* call runs FCALL and, on "Function not found", loads the library and tries
 * once more (Redis lost it: restarted without persistence, or flushed).
 * Returns the reply when it is not an error, else NULL with r->err set. */
static rds_reply *
call(rds *r, const char *fn, int nkeys, const char *const *keys, int nargs, const char *const *args,
     const size_t *arglens)
{
    const char *argv[QUEUE_MAX_ARGS];
    size_t lens[QUEUE_MAX_ARGS];
    char nk[16];
    int argc = argv_build(fn, nkeys, keys, nargs, args, arglens, argv, lens, nk, sizeof(nk));
    if (argc < 0) {
        rds_set_error(r, RDS_ERR_REPLY, "FCALL %s: too many arguments", fn);
        return NULL;
    }
    rds_reply *x = rds_cmd(r, argc, argv, lens);
    if (funcs_missing(x)) {
        rds_reply_free(x);
        if (funcs_load(r) < 0) return NULL;
        x = rds_cmd(r, argc, argv, lens);
    }
    if (!rds_reply_ok(r, x)) {
        rds_reply_free(x);
        return NULL;
    }
    return x;
}

/* call_int runs a Function whose reply is an integer. */
static long long
call_int(rds *r, const char *fn, int nkeys, const char *const *keys, int nargs, const char *const *args,
         const size_t *arglens)
{
    rds_reply *x = call(r, fn, nkeys, keys, nargs, args, arglens);
    if (!x) return -1;
    long long v = rds_reply_int(x);
    int is_int = rds_reply_type(x) == RDS_INT;
    rds_reply_free(x);
    if (!is_int) return rds_set_error(r, RDS_ERR_REPLY, "%s: unexpected reply", fn);
    return v;
}

/* ---------------------------------------------------------------- fetch */

/* fill takes the jobs out of a reply {status, fetch_us, e1, a1, l1, c1, ...}. */
static void
fill(queue_batch *b, rds_reply *x)
{
    size_t len = rds_reply_len(x);
    const char *us = rds_reply_str(rds_reply_at(x, 1), NULL);
    int64_t fetch_us = us ? strtoll(us, NULL, 10) : -1;
    long long st = rds_reply_int(rds_reply_at(x, 0));
    b->status = st == 1 ? QUEUE_FETCH_BACKPRESSURE : st == 2 ? QUEUE_FETCH_PAUSED : QUEUE_FETCH_OK;
    for (size_t i = 2; i + 3 < len && b->n < QUEUE_MAX_BATCH; i += 4) {
        queue_job *j = &b->jobs[b->n++];
        j->fetch_us = fetch_us;
        j->entry = rds_reply_str(rds_reply_at(x, i), &j->len);
        j->attempts = (int)rds_reply_int(rds_reply_at(x, i + 1));
        j->lost = (int)rds_reply_int(rds_reply_at(x, i + 2));
        j->crashes = (int)rds_reply_int(rds_reply_at(x, i + 3));
    }
    if (b->n) b->reply = x;
    else rds_reply_free(x);
}

/* fetch_argv fills the FCALL syncq_fetch words; nb, lim and nk hold numbers. */
static int
fetch_argv(const qkeys *k, int max, int64_t outbox_max, const char **argv, size_t *lens, char *nb, char *lim,
           char *nk)
{
    const char *keys[] = {k->ready, k->inflight, k->outbox, k->att, k->seq, k->paused};
    const char *args[] = {nb, lim};
    snprintf(nb, 16, "%d", max);
    snprintf(lim, 32, "%lld", (long long)outbox_max);
    return argv_build("syncq_fetch", 6, keys, 2, args, NULL, argv, lens, nk, 16);
}

int
queue_fetch(rds *r, const qkeys *k, int max, int64_t outbox_max, queue_batch *b)
{
    const char *keys[] = {k->ready, k->inflight, k->outbox, k->att, k->seq, k->paused};
    char nb[16], lim[32];
    const char *args[] = {nb, lim};
    memset(b, 0, sizeof(*b));
    snprintf(nb, sizeof(nb), "%d", max);
    snprintf(lim, sizeof(lim), "%lld", (long long)outbox_max);
    rds_reply *x = call(r, "syncq_fetch", 6, keys, 2, args, NULL);
    if (!x) return -1;
    fill(b, x);
    return 0;
}

int
queue_fetch_send(rds *r, const qkeys *k, int max, int64_t outbox_max)
{
    const char *argv[16];
    size_t lens[16];
    char nb[16], lim[32], nk[16];
    int argc = fetch_argv(k, max, outbox_max, argv, lens, nb, lim, nk);
    if (argc < 0 || rds_append(r, argc, argv, lens) < 0) return -1;
    return rds_flush(r);
}

int
queue_fetch_recv(rds *r, queue_batch *b)
{
    memset(b, 0, sizeof(*b));
    rds_reply *x = rds_read(r);
    if (funcs_missing(x)) {
        rds_reply_free(x);
        return 1;
    }
    if (!rds_reply_ok(r, x)) {
        rds_reply_free(x);
        return -1;
    }
    fill(b, x);
    return 0;
}

/* The words of one BLMOVE from ready to in-flight, waiting up to secs. */
typedef struct block_cmd {
    char secs[16];
    const char *argv[6];
    size_t lens[6];
} block_cmd;

static void
block_cmd_init(block_cmd *c, const qkeys *k, int seconds)
{
    snprintf(c->secs, sizeof(c->secs), "%d", seconds);
    const char *argv[] = {"BLMOVE", k->ready, k->inflight, "RIGHT", "LEFT", c->secs};
    for (int i = 0; i < 6; i++) {
        c->argv[i] = argv[i];
        c->lens[i] = strlen(argv[i]);
    }
}

/* block_moved: 1 when the BLMOVE reply x is the job it moved, 0 when it
 * timed out (nil), -1 on an error. */
static int
block_moved(rds *r, rds_reply *x)
{
    int rc = rds_reply_ok(r, x) ? rds_reply_type(x) == RDS_STR : -1;
    rds_reply_free(x);
    return rc;
}

int
queue_block(rds *r, const qkeys *k, int seconds)
{
    block_cmd c;
    block_cmd_init(&c, k, seconds);
    return block_moved(r, rds_cmd(r, 6, c.argv, c.lens));
}

int
queue_block_send(rds *r, const qkeys *k, int seconds)
{
    block_cmd c;
    block_cmd_init(&c, k, seconds);
    if (rds_append(r, 6, c.argv, c.lens) < 0) return -1;
    return rds_flush(r);
}

int
queue_block_recv(rds *r)
{
    return block_moved(r, rds_read(r));
}

int
queue_claim(rds *r, const qkeys *k, queue_batch *b)
{
    const char *keys[] = {k->inflight, k->att, k->seq, k->paused};
    memset(b, 0, sizeof(*b));
    rds_reply *x = call(r, "syncq_claim", 4, keys, 0, NULL, NULL);
    if (!x) return -1;
    fill(b, x);
    return 0;
}

void
queue_batch_free(queue_batch *b)
{
    rds_reply_free(b->reply);
    memset(b, 0, sizeof(*b));
}

/* ---------------------------------------------------------------- step */

void
queue_ack_free(queue_ack *a)
{
    free(a->header);
    free(a->record);
    a->header = a->record = NULL;
    a->status = NULL;
    if (a->kind == QUEUE_ACK_DONE) {
        free(a->done.idem_key);
        a->done.idem_key = NULL;
    }
}

static const char *const ack_names[] = {"done", "retry", "dead", "back"};

/* ack_wire is one ack as syncq_step reads it: tag disposition arg header
 * record. arg and header mean per disposition (functions.lua, syncq_step):
 *   done : idempotency key or ''; '<window s or empty> <service>/<action>'
 *   retry: '<delay ms>' or '<delay ms> undo'; the wrapper line
 *   dead : the job id; the wrapper line
 *   back : '1' started, '0' not; '' */
typedef struct ack_wire {
    char num[64];            /* room for a formatted arg or header */
    char spec[QUEUE_ACTION_MAX + 32];
} ack_wire;

static void
ack_encode(const queue_ack *a, ack_wire *w, const char **args, size_t *lens)
{
    const char *arg = "", *hdr = a->header ? a->header : "";
    switch (a->kind) {
    case QUEUE_ACK_DONE:
        if (a->done.idem_key) {
            arg = a->done.idem_key;
            if (a->done.idem_ttl_s > 0)
                snprintf(w->spec, sizeof(w->spec), "%lld %s", (long long)a->done.idem_ttl_s, a->done.action);
            else
                snprintf(w->spec, sizeof(w->spec), " %s", a->done.action);
            hdr = w->spec;
        }
        break;
    case QUEUE_ACK_RETRY:
        snprintf(w->num, sizeof(w->num), "%lld%s", (long long)a->retry.delay_ms, a->retry.deferred ? " undo" : "");
        arg = w->num;
        break;
    case QUEUE_ACK_DEAD:
        arg = a->dead.id;
        break;
    case QUEUE_ACK_BACK:
        arg = a->back.started ? "1" : "0";
        hdr = "";
        break;
    }
    args[0] = a->tag; lens[0] = strlen(a->tag);
    args[1] = ack_names[a->kind]; lens[1] = strlen(args[1]);
    args[2] = arg; lens[2] = strlen(arg);
    args[3] = hdr; lens[3] = strlen(hdr);
    args[4] = a->record ? a->record : ""; lens[4] = a->record ? a->record_len : 0;
}

#define DEAD_CAP 10000                                /* like Sidekiq */
#define DEAD_MAX_AGE_MS (180LL * 24 * 3600 * 1000)    /* 180 days */

int
queue_step_send(rds *r, const qkeys *k, const queue_ack *acks, int nacks, const char *start_tag,
                const char *start_rec, size_t start_len)
{
    const char *keys[] = {k->inflight, k->outbox, k->att, k->retry, k->dead, k->deadjobs, k->ready};
    const char *args[3 + 5 * QUEUE_MAX_BATCH + 2], *argv[QUEUE_MAX_ARGS];
    size_t alens[3 + 5 * QUEUE_MAX_BATCH + 2], lens[QUEUE_MAX_ARGS];
    ack_wire wire[QUEUE_MAX_BATCH];
    char cap[24], age[24], na[16], nk[16];
    int n = 0;

    if (nacks < 0 || nacks > QUEUE_MAX_BATCH)
        return rds_set_error(r, RDS_ERR_REPLY, "syncq_step: %d acks (at most %d)", nacks, QUEUE_MAX_BATCH);
    snprintf(cap, sizeof(cap), "%d", DEAD_CAP);
    snprintf(age, sizeof(age), "%lld", DEAD_MAX_AGE_MS);
    snprintf(na, sizeof(na), "%d", nacks);
    args[n] = cap; alens[n++] = strlen(cap);
    args[n] = age; alens[n++] = strlen(age);
    args[n] = na; alens[n++] = strlen(na);
    for (int i = 0; i < nacks; i++, n += 5) ack_encode(&acks[i], &wire[i], &args[n], &alens[n]);
    args[n] = start_tag ? start_tag : "";
    alens[n] = strlen(args[n]);
    n++;
    args[n] = start_rec ? start_rec : ""; alens[n++] = start_rec ? start_len : 0;
    int argc = argv_build("syncq_step", 7, keys, n, args, alens, argv, lens, nk, sizeof(nk));
    if (argc < 0 || rds_append(r, argc, argv, lens) < 0) return -1;
    return rds_flush(r);
}

/* ---------------------------------------------------------------- master */

int
queue_requeue(rds *r, const qkeys *k, const char *wid, const char *reason, long long *jobs, long long *recs)
{
    const char *keys[] = {k->inflight, k->ready, k->owners, k->claim, k->outbox};
    const char *args[] = {wid, reason};
    rds_reply *x = call(r, "syncq_requeue", 5, keys, 2, args, NULL);
    if (!x) return -1;
    *jobs = rds_reply_int(rds_reply_at(x, 0));
    *recs = rds_reply_int(rds_reply_at(x, 1));
    rds_reply_free(x);
    return 0;
}

int
queue_crash(rds *r, const qkeys *k, const char *tag, const char *rec, size_t len)
{
    const char *keys[] = {k->inflight, k->att, k->outbox};
    const char *args[] = {tag, rec ? rec : ""};
    size_t alens[] = {strlen(tag), rec ? len : 0};
    return (int)call_int(r, "syncq_crash", 3, keys, 2, args, alens);
}

int
queue_promote(rds *r, const qkeys *k, int max)
{
    const char *keys[] = {k->retry, k->ready};
    char m[16];
    const char *args[] = {m};
    snprintf(m, sizeof(m), "%d", max);
    return (int)call_int(r, "syncq_promote", 2, keys, 1, args, NULL);
}

/* ---------------------------------------------------------------- outbox */

rds_reply *
queue_outbox_claim(rds *r, const qkeys *k, int max)
{
    const char *keys[] = {k->outbox, k->claim};
    char m[16];
    const char *args[] = {m};
    snprintf(m, sizeof(m), "%d", max);
    return call(r, "syncq_outbox_claim", 2, keys, 1, args, NULL);
}

int
queue_outbox_done(rds *r, const qkeys *k, int n)
{
    const char *keys[] = {k->claim};
    char c[16];
    const char *args[] = {c};
    snprintf(c, sizeof(c), "%d", n);
    return call_int(r, "syncq_outbox_done", 1, keys, 1, args, NULL) < 0 ? -1 : 0;
}

int
queue_set_aside(rds *r, const qkeys *k, const char *rec, size_t len)
{
    const char *argv[] = {"RPUSH", k->rejected, rec};
    size_t lens[] = {5, strlen(k->rejected), len};
    rds_reply *x = rds_cmd(r, 3, argv, lens);
    int rc = rds_reply_ok(r, x) ? 0 : -1;
    rds_reply_free(x);
    return rc;
}

/* ---------------------------------------------------------------- producers */

int
queue_enqueue_send(rds *r, const qkeys *k, const char *text, size_t len, const char *masked)
{
    const char *argv[] = {"FCALL", "syncq_enqueue", "1", k->ready, text, masked};
    size_t lens[] = {5, 13, 1, strlen(k->ready), len, masked ? strlen(masked) : 0};
    return rds_append(r, masked ? 6 : 5, argv, lens);
}

queue_enq_result
queue_enqueue_reply(const rds_reply *x, queue_enqueued *out)
{
    memset(out, 0, sizeof(*out));
    if (funcs_missing(x)) return QUEUE_ENQ_MISSING;
    if (!x) return QUEUE_ENQ_REFUSED;
    if (rds_reply_type(x) == RDS_ERR) {
        out->error = rds_reply_str(x, &out->errlen);
        if (out->errlen > 4 && !strncmp(out->error, "ERR ", 4)) out->error += 4, out->errlen -= 4;
        return QUEUE_ENQ_REFUSED;
    }
    out->id = rds_reply_str(rds_reply_at(x, 0), &out->idlen);
    out->state = rds_reply_str(rds_reply_at(x, 1), NULL);
    return QUEUE_ENQ_OK;
}

int
queue_enqueue(rds *r, const qkeys *k, const char *text, char *id, size_t idlen)
{
    const char *keys[] = {k->ready};
    const char *args[] = {text};
    queue_enqueued e;
    rds_reply *x = call(r, "syncq_enqueue", 1, keys, 1, args, NULL);
    if (!x) return -1;
    queue_enqueue_reply(x, &e);
    snprintf(id, idlen, "%.*s", (int)e.idlen, e.id ? e.id : "");
    rds_reply_free(x);
    return 0;
}

int
queue_status_get(rds *r, const qkeys *k, const char *id, queue_status *st)
{
    const char *keys[] = {k->ready};
    const char *args[] = {id};
    memset(st, 0, sizeof(*st));
    st->reply = call(r, "syncq_status", 1, keys, 1, args, NULL);
    if (!st->reply) return -1;
    st->state = rds_reply_str(rds_reply_at(st->reply, 0), NULL);
    st->detail = rds_reply_str(rds_reply_at(st->reply, 1), NULL);
    st->error = rds_reply_str(rds_reply_at(st->reply, 2), NULL);
    if (!st->state) st->state = "unknown";
    return 0;
}

void
queue_status_free(queue_status *st)
{
    rds_reply_free(st->reply);
    memset(st, 0, sizeof(*st));
}

int
queue_cancel(rds *r, const qkeys *k, const char *id, const char *actor)
{
    const char *keys[] = {k->ready};
    const char *args[] = {id, actor};
    return (int)call_int(r, "syncq_cancel", 1, keys, 2, args, NULL);
}

int
queue_entry(rds *r, const qkeys *k, const char *id, rds_reply **entry)
{
    const char *keys[] = {k->ready};
    const char *args[] = {id};
    *entry = NULL;
    rds_reply *x = call(r, "syncq_entry", 1, keys, 1, args, NULL);
    if (!x) return -1;
    if (rds_reply_type(x) != RDS_STR) {
        rds_reply_free(x);
        return 0;
    }
    *entry = x;
    return 1;
}

/* with_records runs fn with args first... then nrecs records. */
static long long
with_records(rds *r, const char *fn, int nkeys, const char *const *keys, int nfirst, const char *const *first,
             const size_t *flens, const char *const *recs, const size_t *rlens, int nrecs)
{
    const char *args[16];
    size_t lens[16];
    if (nfirst + nrecs > 16) return rds_set_error(r, RDS_ERR_REPLY, "%s: too many records", fn);
    for (int i = 0; i < nfirst; i++) args[i] = first[i], lens[i] = flens[i];
    for (int i = 0; i < nrecs; i++) args[nfirst + i] = recs[i], lens[nfirst + i] = rlens[i];
    return call_int(r, fn, nkeys, keys, nfirst + nrecs, args, lens);
}

int
queue_push_entry(rds *r, const qkeys *k, const char *entry, size_t len, const char *const *recs,
                 const size_t *rlens, int nrecs)
{
    const char *keys[] = {k->ready, k->outbox};
    const char *first[] = {entry};
    size_t flens[] = {len};
    return with_records(r, "syncq_push_entry", 2, keys, 1, first, flens, recs, rlens, nrecs) < 0 ? -1 : 0;
}

int
queue_dlq_replay(rds *r, const qkeys *k, const char *id, const char *entry, size_t len, const char *const *recs,
                 const size_t *rlens, int nrecs)
{
    const char *keys[] = {k->dead, k->deadjobs, k->ready, k->outbox};
    const char *first[] = {id, entry};
    size_t flens[] = {strlen(id), len};
    return (int)with_records(r, "syncq_dlq_replay", 4, keys, 2, first, flens, recs, rlens, nrecs);
}

int
queue_dlq_purge(rds *r, const qkeys *k, const char *id, const char *rec, size_t len)
{
    const char *keys[] = {k->dead, k->deadjobs, k->outbox};
    const char *args[] = {id, rec ? rec : ""};
    size_t lens[] = {strlen(id), rec ? len : 0};
    return (int)call_int(r, "syncq_dlq_purge", 3, keys, 2, args, lens);
}

/* ---------------------------------------------------------------- handlers */

int
queue_unlock(rds *r, const char *lock, const char *owner)
{
    const char *keys[] = {lock};
    const char *args[] = {owner};
    return call_int(r, "syncq_unlock", 1, keys, 1, args, NULL) < 0 ? -1 : 0;
}

int64_t
queue_ratelimit(rds *r, const char *bucket, double per_second, int burst)
{
    char rate[32], b[16];
    snprintf(rate, sizeof(rate), "%.6g", per_second);
    snprintf(b, sizeof(b), "%d", burst > 0 ? burst : 1);
    const char *keys[] = {bucket};
    const char *args[] = {rate, b};
    return call_int(r, "syncq_ratelimit", 1, keys, 2, args, NULL);
}
