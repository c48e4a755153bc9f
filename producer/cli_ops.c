/* cli_ops.c - connections, durations and fleet readings shared by the
 * operator commands (see cli_ops.h). */
#include "fmacros.h"
#include "cli_ops.h"
#include "keys.h"
#include "url.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REDIS_TIMEOUT_MS 5000

/* ---------------------------------------------------------------- Connecting */

int
ops_redis(rds *r, const config *cfg, const char *cmd)
{
    char shown[600];
    rds_init(r);
    if (rds_connect(r, cfg->redis_url, REDIS_TIMEOUT_MS) == 0) return 0;
    url_redact(cfg->redis_url, shown, sizeof(shown));
    if (r->err == RDS_ERR_IO) fprintf(stderr, "syncq %s: cannot reach Redis at %s: %s\n", cmd, shown, r->errstr);
    else fprintf(stderr, "syncq %s: Redis at %s: %s\n", cmd, shown, r->errstr); /* reached, but refused */
    rds_close(r);
    return SYNCQ_EX_UNAVAILABLE;
}

int
ops_db(db *d, const config *cfg, const char *cmd, int quiet)
{
    char shown[1100], why[sizeof(d->errstr)];
    db_init(d);
    if (db_connect(d, cfg->database_url) == 0) return 0;
    url_redact(cfg->database_url[0] ? cfg->database_url : "(libpq defaults)", shown, sizeof(shown));
    memcpy(why, d->errstr, sizeof(why));
    for (char *p = why; *p; p++)
        if (*p == '\n' || *p == '\t') *p = ' '; /* libpq's hint goes on a line of its own */
    snprintf(d->errstr, sizeof(d->errstr), "cannot reach PostgreSQL at %.200s: %.280s", shown, why);
    if (!quiet) fprintf(stderr, "syncq %s: %s\n", cmd, d->errstr);
    return SYNCQ_EX_UNAVAILABLE;
}

/* ---------------------------------------------------------------- Durations */

int
ops_duration(const char *s, int64_t *ms, const char *cmd, const char *opt)
{
    if (config_parse_duration_ms(s, ms) == 0) return 0;
    fprintf(stderr, "syncq %s: bad duration \"%s\" for --%s (use 30s, 10m, 1h, 7d, 1h30m; units ms s m h d w)\n",
            cmd, s, opt);
    return -1;
}

/* ---------------------------------------------------------------- Fleet */

void
ops_fleet_free(ops_fleet *f)
{
    for (int i = 0; i < f->nq; i++) qstat_free(&f->q[i]);
    for (int i = 0; i < f->nw; i++) {
        free(f->w[i].wid);
        free(f->w[i].role);
    }
    free(f->q);
    free(f->w);
    memset(f, 0, sizeof(*f));
}

static int
read_queues(rds *r, const config *cfg, ops_fleet *f)
{
    char(*names)[CONFIG_QUEUE_NAME_MAX] = NULL;
    int n = 0, rc = qstat_queue_names(r, cfg, &names, &n);
    if (rc == 0) f->q = xcalloc((size_t)(n ? n : 1), sizeof(*f->q));
    for (int i = 0; i < n && rc == 0; i++) {
        rc = qstat_read(r, cfg->prefix, names[i], f->now_ms, (size_t)cfg->max_envelope, &f->q[i]);
        if (rc == 0) f->nq++;
    }
    free(names);
    return rc;
}

/* jobs_of sums a worker's in-flight entries over the queues read. */
static long long
jobs_of(const ops_fleet *f, const char *wid)
{
    long long n = 0;
    for (int i = 0; i < f->nq; i++)
        for (size_t j = 0; j < f->q[i].nowners; j++)
            if (!strcmp(f->q[i].owners[j].wid, wid)) n += f->q[i].owners[j].inflight;
    return n;
}

static int
by_wid(const void *a, const void *b)
{
    return strcmp(((const ops_worker *)a)->wid, ((const ops_worker *)b)->wid);
}

/* add_worker keeps wid when its heartbeat (GET and PTTL replies) is alive. */
static void
add_worker(ops_fleet *f, const config *cfg, const char *wid, const rds_reply *role, const rds_reply *pttl)
{
    const char *s = rds_reply_type(role) == RDS_STR ? rds_reply_str(role, NULL) : NULL;
    long long ms = rds_reply_int(pttl);
    if (!s) return; /* the lease ran out: the reaper returns its jobs */
    /* the value is "<role> <ttl s>": the worker's own TTL (older workers: the role alone) */
    const char *sp = strchr(s, ' ');
    long long ttl_s = sp ? atoll(sp + 1) : 0;
    if (ttl_s <= 0) ttl_s = cfg->heartbeat_ttl_s;
    ops_worker *w = &f->w[f->nw++];
    w->wid = xstrdup(wid);
    w->role = sp ? xstrndup(s, (size_t)(sp - s)) : xstrdup(s);
    w->age_ms = ms >= 0 ? ttl_s * 1000 - ms : -1;
    if (w->age_ms < 0 && ms >= 0) w->age_ms = 0; /* a master with a longer TTL setting */
    w->jobs = jobs_of(f, wid);
}

static int
read_workers(rds *r, const config *cfg, ops_fleet *f)
{
    char key[KEY_MAX], hb[KEY_MAX];
    keys_workers(key, sizeof(key), cfg->prefix);
    rds_reply *ids = rds_cmdf(r, "SMEMBERS %s", key), **x = NULL;
    if (!rds_reply_ok(r, ids)) {
        rds_reply_free(ids);
        return -1;
    }
    size_t n = rds_reply_len(ids), got = 0;
    int rc = 0;
    x = xcalloc(2 * n + 1, sizeof(*x));
    for (size_t i = 0; i < n && rc == 0; i++) {
        keys_heartbeat(hb, sizeof(hb), cfg->prefix, rds_reply_str(rds_reply_at(ids, i), NULL));
        const char *get[] = {"GET", hb}, *pttl[] = {"PTTL", hb};
        size_t lens[] = {3, strlen(hb)}, plens[] = {4, strlen(hb)};
        rc = rds_append(r, 2, get, lens) < 0 || rds_append(r, 2, pttl, plens) < 0 ? -1 : 0;
    }
    /* an error reply (a key of another type) reads as no heartbeat; only I/O fails */
    for (; rc == 0 && got < 2 * n; got++)
        if ((x[got] = rds_read(r)) == NULL) rc = -1;
    f->w = xcalloc(n ? n : 1, sizeof(*f->w));
    for (size_t i = 0; i < n && rc == 0; i++)
        add_worker(f, cfg, rds_reply_str(rds_reply_at(ids, i), NULL), x[2 * i], x[2 * i + 1]);
    qsort(f->w, (size_t)f->nw, sizeof(*f->w), by_wid);
    for (size_t i = 0; i < got; i++) rds_reply_free(x[i]);
    free(x);
    rds_reply_free(ids);
    return rc;
}

int
ops_fleet_read(rds *r, const config *cfg, ops_fleet *f)
{
    memset(f, 0, sizeof(*f));
    if (qstat_now_ms(r, &f->now_ms) < 0 || read_queues(r, cfg, f) < 0 || read_workers(r, cfg, f) < 0) {
        ops_fleet_free(f);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- Recent throughput */

int64_t
ops_redis_now(const config *cfg)
{
    rds r;
    int64_t ms = -1;
    rds_init(&r);
    if (rds_connect(&r, cfg->redis_url, REDIS_TIMEOUT_MS) == 0 && qstat_now_ms(&r, &ms) < 0) ms = -1;
    rds_close(&r);
    return ms;
}

/* ---------------------------------------------------------------- Rates */

double
ops_ratio(long long part, long long whole)
{
    return whole > 0 ? (double)part / (double)whole : 0;
}

/* ---------------------------------------------------------------- JSON */

void
ops_json_ms(sbuf *b, const char *key, int64_t ms)
{
    sbuf_json_key(b, key);
    if (ms < 0) sbuf_adds(b, "null");
    else sbuf_printf(b, "%lld", (long long)ms);
}

void
ops_json_int(sbuf *b, const char *key, long long v)
{
    sbuf_json_key(b, key);
    sbuf_printf(b, "%lld", v);
}
