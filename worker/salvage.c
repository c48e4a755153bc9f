/* salvage.c - what the master writes for the job a child was running when it
 * died (from the status board): a timeout is a failed attempt (retry with
 * backoff, or the dead-letter set), a crash is recorded with how the child
 * died and its peak RSS while the job goes back to its queue with the crash
 * counted (the 3rd makes it a poison pill: syncq_crash counts it only while
 * the child still held the job, never for a fenced one), and a kill at the end of a
 * shutdown grace period hands the job back without using an attempt. The
 * rest of the child's lists go back afterwards (reaper_requeue). */
#include "fmacros.h"
#include "log.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* find_entry returns the in-flight entry carrying tag (caller frees the reply). */
static rds_reply *
find_entry(rds *r, const qkeys *k, const char *tag, queue_job *fe)
{
    rds_reply *x = rds_cmdf(r, "LRANGE %s 0 -1", k->inflight);
    if (!rds_reply_ok(r, x)) {
        rds_reply_free(x);
        return NULL;
    }
    for (size_t i = 0; i < rds_reply_len(x); i++) {
        wrap w;
        fe->entry = rds_reply_str(rds_reply_at(x, i), &fe->len);
        if (wrap_parse(fe->entry, fe->len, &w) == 1 && !strcmp(w.tag, tag)) return x;
    }
    rds_reply_free(x);
    return NULL;
}

/* counts reads the job's counters as its start left them; 0 when the start
 * never reached Redis (then the job did not begin and needs nothing). */
static int
counts(rds *r, const qkeys *k, const char *tag, queue_job *fe)
{
    rds_reply *x = rds_cmdf(r, "HGET %s %s", k->att, tag);
    long long v = 0;
    if (rds_reply_type(x) == RDS_STR) v = atoll(rds_reply_str(x, NULL));
    rds_reply_free(x);
    if (v < 1001) return 0;
    fe->attempts = (int)(v / 1000) - 1; /* before this delivery */
    fe->lost = (int)(v % 1000) - 1;
    return 1;
}

static int
send_ack(rds *r, const config *cfg, const char *wid, int qi, queue_ack *a)
{
    fetcher f;
    fetcher_init(&f, r, cfg, wid);
    int rc = fetch_step(&f, qi, a, 1, NULL, NULL, 0);
    if (rc == 0) rc = fetch_sync(&f);
    return rc;
}

int
salvage_job(rds *r, const config *cfg, const struct svc_file *svc, const char *wid, const board_job *bj,
            salvage_kind kind, const char *how)
{
    qkeys k;
    queue_job fe;
    job j;
    queue_ack a;
    job_ctx c = {cfg, wid, cfg->queues[bj->queue].name, NULL, (uint64_t)bj->started_ms, NULL, svc};
    int rc = 0;

    memset(&fe, 0, sizeof(fe));
    memset(&a, 0, sizeof(a));
    keys_queue(&k, cfg->prefix, cfg->queues[bj->queue].name, wid);
    rds_reply *x = find_entry(r, &k, bj->tag, &fe);
    if (!x) return r->err ? -1 : 0; /* acknowledged before it died (r->err: the LRANGE failed) */
    if (!counts(r, &k, bj->tag, &fe)) goto out;
    job_prepare(&j, &fe, &c, 0);
    j.started_ms = bj->started_ms;
    log_job lj = {j.id, j.env_ok ? j.env.service : NULL, j.env_ok ? j.env.action : NULL};
    if (kind == SALVAGE_TIMEOUT) {
        job_outcome o = {HANDLER_TRANSIENT, "timeout", how, -1, NULL, 0, 0, NULL};
        job_finish(&j, &c, &o, &a);
        rc = send_ack(r, cfg, wid, bj->queue, &a);
    } else if (kind == SALVAGE_SHUTDOWN) {
        job_handback(&j, &c, 1, &a);
        rc = send_ack(r, cfg, wid, bj->queue, &a);
        log_job_msg(LOG_INFO, "job.handback", &lj, NULL, "returned to queue %s without using an attempt", c.queue);
    } else {
        size_t len;
        char *rec = job_crash_record(&j, &c, how, &len);
        /* the function stamps the record's times on Redis's clock */
        rc = queue_crash(r, &k, bj->tag, rec, len) < 0 ? -1 : 0; /* 0: fenced, or not its job any more */
        free(rec);
        log_job_msg(LOG_WARN, "job.crash", &lj, how, "attempt %d died with its worker", j.attempt);
    }
    queue_ack_free(&a);
    job_free(&j);
out:
    rds_reply_free(x);
    return rc;
}
