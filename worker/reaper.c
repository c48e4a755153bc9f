/* reaper.c - leases and orphans (docs/LEASES.md). Every worker id holds a
 * heartbeat key with a Redis-side TTL (the lease), refreshed by its master
 * with SET XX: once the key has expired it is never brought back, so a
 * worker whose lease ran out stays out even if its master wakes up. A worker whose
 * heartbeat is gone, on any host, has its in-flight jobs returned to their
 * queues and its claimed audit records to their outbox; the master runs this
 * sweep periodically, and right away for a child it has just reaped. Due
 * retries are promoted here too. All steps are atomic Redis functions, so
 * every master may run them at once. */
#include "fmacros.h"
#include "keys.h"
#include "log.h"
#include "worker.h"

#include <stdio.h>
#include <string.h>

#define PROMOTE_MAX 500 /* per queue per call; the master calls again while it moves any */

/* hb_value is a heartbeat's value: "<role> <ttl s>", so syncq stats computes
 * the age with the worker's own TTL, not its own setting. */
static void
hb_value(char *out, size_t len, const config *cfg, const char *role)
{
    snprintf(out, len, "%s %d", role, cfg->heartbeat_ttl_s);
}

int
reaper_register(rds *r, const config *cfg, const char *wid, const char *role)
{
    char hb[KEY_MAX], workers[KEY_MAX], val[64];
    qkeys k;
    int ok;
    keys_heartbeat(hb, sizeof(hb), cfg->prefix, wid);
    keys_workers(workers, sizeof(workers), cfg->prefix);
    hb_value(val, sizeof(val), cfg, role);
    rds_reply *x = rds_cmdf(r, "SET %s %s EX %d", hb, val, cfg->heartbeat_ttl_s);
    ok = rds_reply_ok(r, x);
    rds_reply_free(x);
    for (int i = 0; ok && i < cfg->nqueues; i++) {
        keys_queue(&k, cfg->prefix, cfg->queues[i].name, wid);
        x = rds_cmdf(r, "SADD %s %s", k.owners, wid);
        ok = rds_reply_ok(r, x);
        rds_reply_free(x);
    }
    x = ok ? rds_cmdf(r, "SADD %s %s", workers, wid) : NULL;
    ok = ok && rds_reply_ok(r, x);
    rds_reply_free(x);
    keys_queues(workers, sizeof(workers), cfg->prefix); /* for syncq queue ls, dlq */
    for (int i = 0; ok && i < cfg->nqueues; i++) {
        x = rds_cmdf(r, "SADD %s %s", workers, cfg->queues[i].name);
        ok = rds_reply_ok(r, x);
        rds_reply_free(x);
    }
    return ok ? 0 : -1;
}

void
reaper_forget(rds *r, const config *cfg, const char *wid)
{
    char hb[KEY_MAX], workers[KEY_MAX];
    qkeys k;
    keys_heartbeat(hb, sizeof(hb), cfg->prefix, wid);
    keys_workers(workers, sizeof(workers), cfg->prefix);
    rds_reply_free(rds_cmdf(r, "DEL %s", hb));
    rds_reply_free(rds_cmdf(r, "SREM %s %s", workers, wid));
    for (int i = 0; i < cfg->nqueues; i++) {
        keys_queue(&k, cfg->prefix, cfg->queues[i].name, wid);
        rds_reply_free(rds_cmdf(r, "SREM %s %s", k.owners, wid));
    }
}

/* reaper_heartbeat refreshes the leases of wids in one pipeline. With alive,
 * only leases that still exist are refreshed (SET XX) and alive[i] says
 * whether wids[i]'s was: 0 means it ran out, its jobs are being requeued and
 * the id is fenced. Without alive (a master's own key, which owns no jobs)
 * the key is set whatever. */
int
reaper_heartbeat(rds *r, const config *cfg, const char *const *wids, int n, const char *role, int *alive)
{
    char hb[KEY_MAX], ttl[16], val[64];
    snprintf(ttl, sizeof(ttl), "%d", cfg->heartbeat_ttl_s);
    hb_value(val, sizeof(val), cfg, role);
    for (int i = 0; i < n; i++) {
        keys_heartbeat(hb, sizeof(hb), cfg->prefix, wids[i]);
        const char *argv[] = {"SET", hb, val, "EX", ttl, "XX"};
        size_t lens[] = {3, strlen(hb), strlen(val), 2, strlen(ttl), 2};
        if (rds_append(r, alive ? 6 : 5, argv, lens) < 0) return -1;
    }
    int rc = 0;
    for (int i = 0; r->pending > 0; i++) {
        rds_reply *x = rds_read(r);
        if (!x) return -1;
        if (!rds_reply_ok(r, x)) rc = -1;
        else if (alive && i < n) alive[i] = rds_reply_type(x) != RDS_NIL;
        rds_reply_free(x);
    }
    return rc;
}

static int
requeue_one(rds *r, const config *cfg, int qi, const char *wid, const char *reason)
{
    qkeys k;
    keys_queue(&k, cfg->prefix, cfg->queues[qi].name, wid);
    long long jobs, recs;
    if (queue_requeue(r, &k, wid, reason, &jobs, &recs) < 0) return -1;
    if (jobs || recs)
        log_msg(LOG_WARN, "reaper.requeue", "returned %lld in-flight job(s) and %lld audit record(s) of %s worker %s to queue %s",
                jobs, recs, strcmp(reason, "lease") ? "dead" : "lease-expired", wid, cfg->queues[qi].name);
    return 0;
}

int
reaper_requeue(rds *r, const config *cfg, const char *wid, const char *reason)
{
    for (int i = 0; i < cfg->nqueues; i++)
        if (requeue_one(r, cfg, i, wid, reason) < 0) return -1;
    return 0;
}

/* sweep_queue checks every owner of queue qi for a live heartbeat. */
static int
sweep_queue(rds *r, const config *cfg, int qi)
{
    qkeys k;
    char hb[KEY_MAX];
    keys_queue(&k, cfg->prefix, cfg->queues[qi].name, NULL);
    rds_reply *owners = rds_cmdf(r, "SMEMBERS %s", k.owners);
    if (!rds_reply_ok(r, owners)) {
        rds_reply_free(owners);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < rds_reply_len(owners) && rc == 0; i++) {
        const char *wid = rds_reply_str(rds_reply_at(owners, i), NULL);
        keys_heartbeat(hb, sizeof(hb), cfg->prefix, wid);
        rds_reply *x = rds_cmdf(r, "EXISTS %s", hb);
        if (!rds_reply_ok(r, x)) rc = -1;
        else if (rds_reply_int(x) == 0) rc = requeue_one(r, cfg, qi, wid, "lease");
        rds_reply_free(x);
    }
    rds_reply_free(owners);
    return rc;
}

/* prune_workers drops ids without a heartbeat from the workers set (syncq
 * stats): a worker killed with -9 never says goodbye. */
static int
prune_workers(rds *r, const config *cfg)
{
    char workers[KEY_MAX], hb[KEY_MAX];
    keys_workers(workers, sizeof(workers), cfg->prefix);
    rds_reply *ids = rds_cmdf(r, "SMEMBERS %s", workers);
    if (!rds_reply_ok(r, ids)) {
        rds_reply_free(ids);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < rds_reply_len(ids) && rc == 0; i++) {
        const char *wid = rds_reply_str(rds_reply_at(ids, i), NULL);
        keys_heartbeat(hb, sizeof(hb), cfg->prefix, wid);
        rds_reply *x = rds_cmdf(r, "EXISTS %s", hb);
        if (!rds_reply_ok(r, x)) rc = -1;
        else if (rds_reply_int(x) == 0) rds_reply_free(rds_cmdf(r, "SREM %s %s", workers, wid));
        rds_reply_free(x);
    }
    rds_reply_free(ids);
    return rc;
}

int
reaper_sweep(rds *r, const config *cfg)
{
    for (int i = 0; i < cfg->nqueues; i++)
        if (sweep_queue(r, cfg, i) < 0) return -1;
    return prune_workers(r, cfg);
}

int
reaper_promote(rds *r, const config *cfg)
{
    int total = 0;
    for (int i = 0; i < cfg->nqueues; i++) {
        qkeys k;
        keys_queue(&k, cfg->prefix, cfg->queues[i].name, NULL);
        int moved = queue_promote(r, &k, PROMOTE_MAX);
        if (moved < 0) return -1;
        total += moved;
    }
    return total;
}
