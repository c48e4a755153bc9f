/* fetch.c - reliable fetch and the per-job atomic step, from the child's side
 * of the Redis functions in common/functions.lua.
 *
 * Fetch moves a small batch from the first non-empty queue into the child's
 * in-flight list in one call. Each job's start and the acknowledgement of the
 * jobs before it travel together as one FCALL that the child does not wait
 * for: the bytes are on the wire before the handler runs (so a crash still
 * counts the delivery), and the replies are read once per batch. */
#include "fmacros.h"
#include "funcs.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEAD_CAP 10000                                /* like Sidekiq */
#define DEAD_MAX_AGE_MS (180LL * 24 * 3600 * 1000)    /* 180 days */
#define BLOCK_SECONDS "1"                             /* docs/DESIGN.md §7: at most 1 s */

void
fetcher_init(fetcher *f, rds *r, const config *cfg, const char *wid)
{
    memset(f, 0, sizeof(*f));
    f->r = r;
    f->cfg = cfg;
    snprintf(f->wid, sizeof(f->wid), "%s", wid);
    f->want = 1;
    for (int i = 0; i < cfg->nqueues; i++) keys_queue(&f->keys[i], cfg->prefix, cfg->queues[i].name, wid);
}

/* queue_order writes the order to try queues in: config order when strict.
 * Weighted, a smooth weighted round-robin (nginx's) picks the queue to try
 * first, then the rest follow in config order: over any run of sum(weights)
 * fetches with every queue busy, each queue leads exactly weight times, so a
 * burst on a low lane never starves a high one and a heavy high lane slows
 * a low one without stopping it. */
static void
queue_order(fetcher *f, int *order)
{
    const config *c = f->cfg;
    int best = 0, total = 0, k = 0;
    if (!c->weighted) {
        for (int i = 0; i < c->nqueues; i++) order[i] = i;
        return;
    }
    for (int i = 0; i < c->nqueues; i++) {
        f->cw[i] += c->queues[i].weight;
        total += c->queues[i].weight;
        if (f->cw[i] > f->cw[best]) best = i;
    }
    f->cw[best] -= total;
    order[k++] = best;
    for (int i = 0; i < c->nqueues; i++)
        if (i != best) order[k++] = i;
}

/* fill takes the jobs out of a reply {status, fetch_us, e1, a1, l1, c1, ...}. */
static void
fill(batch *b, rds_reply *x, int qi)
{
    size_t len = rds_reply_len(x);
    const char *us = rds_reply_str(rds_reply_at(x, 1), NULL);
    int64_t fetch_us = us ? strtoll(us, NULL, 10) : -1;
    b->reply = x;
    b->queue = qi;
    b->backpressure = rds_reply_int(rds_reply_at(x, 0)) == 1;
    b->paused = rds_reply_int(rds_reply_at(x, 0)) == 2;
    for (size_t i = 2; i + 3 < len && b->n < FETCH_MAX_BATCH; i += 4) {
        fetched *j = &b->jobs[b->n++];
        j->fetch_us = fetch_us;
        j->entry = rds_reply_str(rds_reply_at(x, i), &j->len);
        j->attempts = (int)rds_reply_int(rds_reply_at(x, i + 1));
        j->lost = (int)rds_reply_int(rds_reply_at(x, i + 2));
        j->crashes = (int)rds_reply_int(rds_reply_at(x, i + 3));
    }
}

/* take keeps a fetch or claim reply in b when it holds jobs; -1 on an error
 * reply (the message is in f->r). */
static int
take(fetcher *f, batch *b, rds_reply *x, int qi)
{
    if (!rds_reply_ok(f->r, x)) {
        rds_reply_free(x);
        return -1;
    }
    fill(b, x, qi);
    if (b->n == 0) {
        rds_reply_free(x);
        b->reply = NULL;
    }
    return 0;
}

static int
call_fetch(fetcher *f, int qi, batch *b)
{
    const qkeys *k = &f->keys[qi];
    const char *keys[] = {k->ready, k->inflight, k->outbox, k->att, k->seq, k->paused};
    char nb[16], lim[32];
    const char *args[] = {nb, lim};
    /* a sibling blocked on this queue would take what we prefetch: one at a time */
    snprintf(nb, sizeof(nb), "%d", board_waiters(f->slot, qi) > 0 ? 1 : f->want);
    snprintf(lim, sizeof(lim), "%lld", (long long)f->cfg->outbox_max);
    rds_reply *x = funcs_call(f->r, "syncq_fetch", 6, keys, 2, args, NULL);
    return take(f, b, x, qi);
}

/* block_first waits up to 1 s on the first queue that is not paused, then
 * wraps what arrived; with every queue paused it only waits. */
static int
block_first(fetcher *f, batch *b, int qi)
{
    if (qi < 0) {
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL); /* an early wake-up only means an earlier look */
        return 0;
    }
    const qkeys *k = &f->keys[qi];
    board_wait(f->slot, qi); /* siblings with a batch hand it back while we wait */
    rds_reply *x = rds_cmdf(f->r, "BLMOVE %s %s RIGHT LEFT %s", k->ready, k->inflight, BLOCK_SECONDS);
    board_wait(f->slot, -1);
    if (!rds_reply_ok(f->r, x)) {
        rds_reply_free(x);
        return -1;
    }
    int got = rds_reply_type(x) == RDS_STR;
    rds_reply_free(x);
    if (!got) return 0;
    const char *keys[] = {k->inflight, k->att, k->seq};
    x = funcs_call(f->r, "syncq_claim", 3, keys, 0, NULL, NULL);
    return take(f, b, x, qi);
}

int
fetch_next(fetcher *f, batch *b)
{
    int order[CONFIG_MAX_QUEUES], paused[CONFIG_MAX_QUEUES] = {0}, first = -1;
    memset(b, 0, sizeof(*b));
    queue_order(f, order);
    for (int i = 0; i < f->cfg->nqueues; i++) {
        if (call_fetch(f, order[i], b) < 0) return -1;
        if (b->n > 0 || b->backpressure) return 0;
        paused[order[i]] = b->paused;
        b->paused = 0;
    }
    for (int i = 0; i < f->cfg->nqueues && first < 0; i++)
        if (!paused[i]) first = i; /* the highest queue in configured order */
    return block_first(f, b, first);
}

void
batch_free(batch *b)
{
    rds_reply_free(b->reply);
    memset(b, 0, sizeof(*b));
}

void
ack_free(ack *a)
{
    free(a->header);
    free(a->record);
    a->header = a->record = NULL;
    a->status = NULL;
}

static const char *ack_names[] = {"done", "retry", "dead", "back"};

int
fetch_step(fetcher *f, int qi, ack *acks, int nacks, const char *start_tag, const char *start_rec, size_t start_len)
{
    const qkeys *k = &f->keys[qi];
    const char *keys[] = {k->inflight, k->outbox, k->att, k->retry, k->dead, k->deadjobs, k->ready};
    const char *args[FUNCS_MAX_ARGS], *argv[FUNCS_MAX_ARGS];
    size_t lens[FUNCS_MAX_ARGS], alens[FUNCS_MAX_ARGS];
    char cap[24], age[24], na[16], nk[16];
    int n = 0;

    snprintf(cap, sizeof(cap), "%d", DEAD_CAP);
    snprintf(age, sizeof(age), "%lld", DEAD_MAX_AGE_MS);
    snprintf(na, sizeof(na), "%d", nacks);
    args[n] = cap; alens[n++] = strlen(cap);
    args[n] = age; alens[n++] = strlen(age);
    args[n] = na; alens[n++] = strlen(na);
    for (int i = 0; i < nacks && n + 7 < FUNCS_MAX_ARGS - 16; i++) {
        args[n] = acks[i].tag; alens[n++] = strlen(acks[i].tag);
        args[n] = ack_names[acks[i].kind]; alens[n++] = strlen(ack_names[acks[i].kind]);
        args[n] = acks[i].arg; alens[n++] = strlen(acks[i].arg);
        args[n] = acks[i].header ? acks[i].header : "";
        alens[n] = strlen(args[n]);
        n++;
        args[n] = acks[i].record ? acks[i].record : ""; alens[n++] = acks[i].record ? acks[i].record_len : 0;
    }
    args[n] = start_tag ? start_tag : "";
    alens[n] = strlen(args[n]);
    n++;
    args[n] = start_rec ? start_rec : ""; alens[n++] = start_rec ? start_len : 0;
    int argc = funcs_argv("syncq_step", 7, keys, n, args, alens, argv, lens, nk, sizeof(nk));
    if (argc < 0 || rds_append(f->r, argc, argv, lens) < 0) return -1;
    return rds_flush(f->r);
}

int
fetch_sync(fetcher *f)
{
    int rc = 0;
    while (f->r->pending > 0) {
        rds_reply *x = rds_read(f->r);
        if (!x) return -1;
        if (rds_reply_type(x) == RDS_ERR) {
            rds_reply_ok(f->r, x); /* copies the message */
            rc = -1;
        }
        rds_reply_free(x);
    }
    return rc;
}
