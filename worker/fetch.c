/* fetch.c - reliable fetch and the per-job atomic step, from the child's side
 * of the Redis functions in common/functions.lua.
 *
 * Fetch moves a small batch from the first non-empty queue into the child's
 * in-flight list in one call. Each job's start and the acknowledgement of the
 * jobs before it travel together as one step (queue_step_send) that the
 * child does not wait for: the bytes are on the wire before the handler runs
 * (so a crash still counts the delivery), and the replies are read once per
 * batch; the last batch's are read behind the next fetch (fetch_behind). The
 * Functions' arguments and replies are the queue layer's
 * (common/queue.c). */
#include "fmacros.h"
#include "clock.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLOCK_SECONDS 1 /* docs/DESIGN.md §7: at most 1 s */

void
fetcher_init(fetcher *f, rds *r, const config *cfg, const char *wid)
{
    memset(f, 0, sizeof(*f));
    f->r = r;
    f->cfg = cfg;
    snprintf(f->wid, sizeof(f->wid), "%s", wid);
    f->want = 1;
    f->block_q = 0;
    for (int i = 0; i < cfg->nqueues; i++) keys_queue(&f->keys[i], cfg->prefix, cfg->queues[i].name, wid);
}

/* lane_order writes the order to try queues in: config order when strict.
 * Weighted, a smooth weighted round-robin (nginx's) picks the queue to try
 * first, then the rest follow in config order: over any run of sum(weights)
 * fetches with every queue busy, each queue leads exactly weight times, so a
 * burst on a low lane never starves a high one and a heavy high lane slows
 * a low one without stopping it. */
static void
lane_order(fetcher *f, int *order)
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

/* block_first waits up to 1 s on the first queue that is not paused, then
 * wraps what arrived; with every queue paused it only waits. */
static int
block_first(fetcher *f, batch *b, int qi)
{
    if (qi < 0) {
        clock_nap_ms(1000);
        return 0;
    }
    board_wait(f->slot, qi); /* siblings with a batch hand it back while we wait */
    int got = queue_block(f->r, &f->keys[qi], BLOCK_SECONDS);
    board_wait(f->slot, -1);
    if (got <= 0) return got;
    b->queue = qi;
    return queue_claim(f->r, &f->keys[qi], &b->got);
}

/* want is how many jobs to ask queue qi for: a sibling blocked on it would
 * take what we prefetch, so one at a time then. */
static int
want(fetcher *f, int qi)
{
    return board_waiters(f->slot, qi) > 0 ? 1 : f->want;
}

/* sync_n reads n owed replies; -1 when one is an error (its message kept). */
static int
sync_n(fetcher *f, int n)
{
    int rc = 0;
    for (; n > 0; n--) {
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

/* fetch_behind sends the fetch of queue qi behind the step replies still
 * owed (the last batch's acknowledgements) and reads them all: one round
 * trip instead of two between jobs. Redis runs the step first, so nothing
 * is fetched by a worker whose acknowledgement it has not seen, and a fenced
 * worker's fetch is refused as its step is. A step that failed ends the
 * child (its in-flight list, with what this fetch took, is requeued), as it
 * did before the fetch rode along. 0, 1 (library lost: fetch again), -1. */
static int
fetch_behind(fetcher *f, int qi, batch *b)
{
    int owed = f->r->pending;
    b->queue = qi;
    if (queue_fetch_send(f->r, &f->keys[qi], want(f, qi), f->cfg->outbox_max) < 0) return -1;
    if (sync_n(f, owed) < 0) return -1;
    return queue_fetch_recv(f->r, &b->got);
}

int
fetch_next(fetcher *f, batch *b, int block)
{
    int order[CONFIG_MAX_QUEUES], paused[CONFIG_MAX_QUEUES] = {0}, first = -1, i = 0;
    memset(b, 0, sizeof(*b));
    lane_order(f, order);
    if (f->r->pending > 0) {
        int rc = fetch_behind(f, order[0], b);
        if (rc < 0) return -1;
        if (rc == 0 && (b->got.n > 0 || b->got.status == QUEUE_FETCH_BACKPRESSURE)) return 0;
        if (rc == 0) {
            paused[order[0]] = b->got.status == QUEUE_FETCH_PAUSED;
            i = 1;
        }
    }
    for (; i < f->cfg->nqueues; i++) {
        b->queue = order[i];
        if (queue_fetch(f->r, &f->keys[order[i]], want(f, order[i]), f->cfg->outbox_max, &b->got) < 0) return -1;
        if (b->got.n > 0 || b->got.status == QUEUE_FETCH_BACKPRESSURE) return 0;
        paused[order[i]] = b->got.status == QUEUE_FETCH_PAUSED;
    }
    memset(b, 0, sizeof(*b));
    for (i = 0; i < f->cfg->nqueues && first < 0; i++)
        if (!paused[i]) first = i; /* the highest queue in configured order */
    f->block_q = first;
    if (!block) return 0;
    return block_first(f, b, first);
}

int
fetch_arm(fetcher *f, rds *w)
{
    int qi = f->block_q;
    if (qi < 0) return 0;
    if (queue_block_send(w, &f->keys[qi], BLOCK_SECONDS) < 0) {
        rds_set_error(f->r, w->err, "%s", w->errstr);
        return -1;
    }
    /* not on the status board as waiting (block_first is): its lanes are
     * busy, and siblings that fetched one job at a time for it would cost
     * Redis a round trip a job */
    f->armed = qi + 1;
    return 1;
}

int
fetch_woken(fetcher *f, rds *w, batch *b)
{
    int qi = f->armed - 1;
    memset(b, 0, sizeof(*b));
    f->armed = 0;
    int got = queue_block_recv(w);
    if (got < 0) rds_set_error(f->r, w->err, "%s", w->errstr);
    if (got <= 0) return got;
    if (fetch_sync(f) < 0) return -1; /* the lanes' owed step replies, then the claim */
    b->queue = qi;
    return queue_claim(f->r, &f->keys[qi], &b->got);
}

void
batch_free(batch *b)
{
    queue_batch_free(&b->got);
}

int
fetch_step(fetcher *f, int qi, const queue_ack *acks, int nacks, const char *start_tag, const char *start_rec,
           size_t start_len)
{
    return queue_step_send(f->r, &f->keys[qi], acks, nacks, start_tag, start_rec, start_len);
}

int
fetch_sync(fetcher *f)
{
    return sync_n(f, f->r->pending);
}
