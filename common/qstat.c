/* qstat.c - a queue's state from Redis in two pipelined round trips: the
 * queue's own keys, then the in-flight list of each owner. */
#include "fmacros.h"
#include "qstat.h"
#include "envelope.h"
#include "keys.h"
#include "wrap.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The replies of the first round trip, in order. */
enum { R_READY, R_OLDEST, R_RETRY, R_NEXT, R_DEAD, R_PAUSED, R_OUTBOX, R_OWNERS, R_REJECTED, R_COUNT };

int
qstat_now_ms(rds *r, int64_t *ms)
{
    int64_t us;
    if (rds_time_us(r, &us) < 0) return -1;
    *ms = us / 1000;
    return 0;
}

/* enqueued_ms reads the envelope's enqueued_at without validating the rest:
 * a job that is bad data still has an age. */
static int64_t
enqueued_ms(const char *s, size_t n, size_t max_envelope)
{
    char err[128];
    int64_t ms = -1;
    if (envelope_scan(s, n, max_envelope, err, sizeof(err)) != ENV_OK) return -1; /* bounds cJSON's recursion */
    json *root = json_parse(s, n, err, sizeof(err));
    const char *at = json_str(json_get(root, "enqueued_at"));
    if (!at || rfc3339_parse(at, &ms) < 0) ms = -1;
    json_free(root);
    return ms;
}

int64_t
qstat_entry_ms(const char *s, size_t n, size_t max_envelope)
{
    wrap w;
    int wrapped = wrap_parse(s, n, &w);
    if (wrapped < 0) return -1;
    if (wrapped == 1 && w.ready_ms >= 0) return w.ready_ms;
    if (wrapped == 1 && w.from[0] && w.seen_ms >= 0) return w.seen_ms; /* a replay: queued when replayed */
    int64_t ms = enqueued_ms(w.raw, w.rawlen, max_envelope);
    if (ms < 0 && wrapped == 1) ms = w.seen_ms;
    return ms;
}

void
qstat_free(qstat *q)
{
    for (size_t i = 0; i < q->nowners; i++) free(q->owners[i].wid);
    free(q->owners);
    q->owners = NULL;
    q->nowners = 0;
}

static int
append(rds *r, const char *cmd, const char *key, const char *a1, const char *a2, const char *a3)
{
    const char *argv[5] = {cmd, key, a1, a2, a3};
    size_t lens[5];
    int argc = a3 ? 5 : a2 ? 4 : a1 ? 3 : 2;
    for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
    return rds_append(r, argc, argv, lens);
}

/* read_owed reads n owed replies into x (NULLs on error). 0 or -1. */
static int
read_owed(rds *r, rds_reply **x, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        x[i] = rds_read(r);
        if (!rds_reply_ok(r, x[i])) rc = -1;
    }
    return rc;
}

static void
fill(qstat *q, rds_reply **x, int64_t now_ms, size_t max_envelope)
{
    size_t len;
    const char *s;
    q->ready = rds_reply_int(x[R_READY]);
    q->retry = rds_reply_int(x[R_RETRY]);
    q->dead = rds_reply_int(x[R_DEAD]);
    q->paused = rds_reply_int(x[R_PAUSED]) > 0;
    q->outbox = rds_reply_int(x[R_OUTBOX]);
    q->rejected = rds_reply_int(x[R_REJECTED]);
    q->oldest_age_ms = q->next_due_ms = -1;
    if ((s = rds_reply_str(x[R_OLDEST], &len)) != NULL) {
        int64_t at = qstat_entry_ms(s, len, max_envelope);
        if (at >= 0) q->oldest_age_ms = now_ms > at ? now_ms - at : 0;
    }
    if ((s = rds_reply_str(rds_reply_at(x[R_NEXT], 1), NULL)) != NULL) q->next_due_ms = (int64_t)strtod(s, NULL);
}

/* read_owners takes the owner ids and sums their in-flight lists. */
static int
read_owners(rds *r, const char *prefix, qstat *q, const rds_reply *owners)
{
    size_t n = rds_reply_len(owners);
    rds_reply **x = xcalloc(n ? n : 1, sizeof(*x));
    int rc = 0;
    q->owners = xcalloc(n ? n : 1, sizeof(*q->owners));
    for (size_t i = 0; i < n && rc == 0; i++) {
        qkeys k;
        const char *wid = rds_reply_str(rds_reply_at(owners, i), NULL);
        q->owners[q->nowners++].wid = xstrdup(wid ? wid : "");
        keys_queue(&k, prefix, q->name, wid ? wid : "");
        rc = append(r, "LLEN", k.inflight, NULL, NULL, NULL);
    }
    if (rc == 0) rc = read_owed(r, x, q->nowners);
    for (size_t i = 0; i < q->nowners; i++) {
        q->owners[i].inflight = rds_reply_int(x[i]);
        q->inflight += q->owners[i].inflight;
        rds_reply_free(x[i]);
    }
    free(x);
    return rc;
}

int
qstat_read(rds *r, const char *prefix, const char *name, int64_t now_ms, size_t max_envelope, qstat *q)
{
    qkeys k;
    rds_reply *x[R_COUNT] = {NULL};
    int rc = 0;
    memset(q, 0, sizeof(*q));
    snprintf(q->name, sizeof(q->name), "%s", name);
    keys_queue(&k, prefix, name, NULL);
    if (append(r, "LLEN", k.ready, NULL, NULL, NULL) < 0 || append(r, "LINDEX", k.ready, "-1", NULL, NULL) < 0 ||
        append(r, "ZCARD", k.retry, NULL, NULL, NULL) < 0 ||
        append(r, "ZRANGE", k.retry, "0", "0", "WITHSCORES") < 0 || append(r, "ZCARD", k.dead, NULL, NULL, NULL) < 0 ||
        append(r, "EXISTS", k.paused, NULL, NULL, NULL) < 0 || append(r, "LLEN", k.outbox, NULL, NULL, NULL) < 0 ||
        append(r, "SMEMBERS", k.owners, NULL, NULL, NULL) < 0 || append(r, "LLEN", k.rejected, NULL, NULL, NULL) < 0)
        return -1;
    if ((rc = read_owed(r, x, R_COUNT)) == 0) {
        fill(q, x, now_ms, max_envelope);
        rc = read_owners(r, prefix, q, x[R_OWNERS]);
    }
    for (int i = 0; i < R_COUNT; i++) rds_reply_free(x[i]);
    if (rc < 0) qstat_free(q);
    return rc;
}

/* ---------------------------------------------------------------- Queue names */

static int
has_name(char (*v)[CONFIG_QUEUE_NAME_MAX], int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i], s)) return 1;
    return 0;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

int
qstat_queue_names(rds *r, const config *cfg, char (**out)[CONFIG_QUEUE_NAME_MAX], int *n)
{
    char key[KEY_MAX];
    keys_queues(key, sizeof(key), cfg->prefix);
    rds_reply *x = rds_cmdf(r, "SMEMBERS %s", key);
    if (!x) return -1; /* a wrong type is no reason to fail: the configured queues remain */
    size_t cap = (size_t)cfg->nqueues + rds_reply_len(x);
    char(*v)[CONFIG_QUEUE_NAME_MAX] = xcalloc(cap ? cap : 1, sizeof(*v));
    int m = 0;
    for (int i = 0; i < cfg->nqueues; i++)
        if (!has_name(v, m, cfg->queues[i].name)) snprintf(v[m++], CONFIG_QUEUE_NAME_MAX, "%s", cfg->queues[i].name);
    int configured = m;
    for (size_t i = 0; i < rds_reply_len(x); i++) {
        const char *s = rds_reply_str(rds_reply_at(x, i), NULL);
        if (s && config_valid_queue_name(s) && !has_name(v, m, s)) snprintf(v[m++], CONFIG_QUEUE_NAME_MAX, "%s", s);
    }
    qsort(v + configured, (size_t)(m - configured), sizeof(*v), by_name);
    rds_reply_free(x);
    *out = v;
    *n = m;
    return 0;
}
