/* cli_dlq_store.c - the Redis side of `syncq dlq`: which queues to look at,
 * which dead-letter jobs pass the filters, and reading one entry. Changes
 * go through the syncq_dlq_* functions (cli_dlq_change.c), never from here. */
#include "fmacros.h"
#include "cli_dlq.h"
#include "keys.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HMGET_CHUNK 256 /* entries per HMGET when filtering by content */

/* ---------------------------------------------------------------- Session */

int
dlq_fail_rds(dlq *d)
{
    snprintf(d->errstr, sizeof(d->errstr), "%s", d->r.errstr);
    d->code = rds_broken(&d->r) ? SYNCQ_EX_UNAVAILABLE : SYNCQ_EX_SOFTWARE; /* an I/O error, or an error reply */
    return -1;
}

int
dlq_report(const dlq *d, const char *verb)
{
    fprintf(stderr, "syncq dlq %s: %s\n", verb, d->errstr);
    return d->code;
}

const char *
dlq_queue_name(const dlq *d, int qi)
{
    return d->queues[qi];
}

static void
add_queue(dlq *d, const char *name, size_t len)
{
    if (len >= CONFIG_QUEUE_NAME_MAX) return;
    char buf[CONFIG_QUEUE_NAME_MAX];
    memcpy(buf, name, len);
    buf[len] = '\0';
    if (!config_valid_queue_name(buf)) return; /* P:{P:fleet}:queues is written by workers; stay safe anyway */
    for (int i = 0; i < d->nqueues; i++)
        if (!strcmp(d->queues[i], buf)) return;
    d->queues = xrealloc(d->queues, (size_t)(d->nqueues + 1) * sizeof(*d->queues));
    memcpy(d->queues[d->nqueues++], buf, len + 1);
}

/* known_queues adds the queues workers have registered in P:{P:fleet}:queues. The set
 * may be missing or even of another type: only an I/O error fails. */
static int
known_queues(dlq *d)
{
    char key[KEY_MAX];
    keys_queues(key, sizeof(key), d->cfg->prefix);
    rds_reply *x = rds_cmdf(&d->r, "SMEMBERS %s", key);
    if (!x) return dlq_fail_rds(d);
    for (size_t i = 0; i < rds_reply_len(x); i++) {
        size_t len;
        const char *s = rds_reply_str(rds_reply_at(x, i), &len);
        if (s) add_queue(d, s, len);
    }
    rds_reply_free(x);
    return 0;
}

int
dlq_open(dlq *d, const config *cfg, const char *only)
{
    memset(d, 0, sizeof(*d));
    rds_init(&d->r);
    d->cfg = cfg;
    if (rds_connect(&d->r, cfg->redis_url, 5000) < 0) return dlq_fail_rds(d);
    if (only) {
        add_queue(d, only, strlen(only));
        return 0;
    }
    for (int i = 0; i < cfg->nqueues; i++) add_queue(d, cfg->queues[i].name, strlen(cfg->queues[i].name));
    return known_queues(d);
}

void
dlq_close(dlq *d)
{
    rds_close(&d->r);
    free(d->queues);
    d->queues = NULL;
    d->nqueues = 0;
}

int
dlq_now_ms(dlq *d, int64_t *ms)
{
    rds_reply *x = rds_cmdf(&d->r, "TIME");
    if (!rds_reply_ok(&d->r, x) || rds_reply_len(x) != 2) {
        rds_reply_free(x);
        return dlq_fail_rds(d);
    }
    const char *sec = rds_reply_str(rds_reply_at(x, 0), NULL), *usec = rds_reply_str(rds_reply_at(x, 1), NULL);
    *ms = strtoll(sec ? sec : "0", NULL, 10) * 1000 + strtoll(usec ? usec : "0", NULL, 10) / 1000;
    rds_reply_free(x);
    return 0;
}

/* ---------------------------------------------------------------- Lists */

void
dlq_list_push(dlq_list *l, const char *id, size_t idlen, int qi, int64_t dead_ms)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    dlq_target *t = &l->v[l->n++];
    t->id = xstrndup(id, idlen);
    t->queue = qi;
    t->dead_ms = dead_ms;
}

void
dlq_list_free(dlq_list *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i].id);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* newest_first orders by dead time, newest first; ties by id, for a stable listing. */
static int
newest_first(const void *a, const void *b)
{
    const dlq_target *x = a, *y = b;
    if (x->dead_ms != y->dead_ms) return x->dead_ms < y->dead_ms ? 1 : -1;
    return strcmp(y->id, x->id);
}

static int64_t
score_ms(const rds_reply *x)
{
    const char *s = rds_reply_str(x, NULL);
    return s ? (int64_t)strtod(s, NULL) : -1;
}

/* ---------------------------------------------------------------- Selecting */

int
dlq_opts_filtered(const dlq_opts *o)
{
    return o->f.service || o->f.action || o->f.error || o->older_ms >= 0 || o->newer_ms >= 0;
}

/* keep_matching reads the entries of ids[from, to) (a ZREVRANGE ... WITHSCORES
 * reply: member, score, ...) and appends those passing o's content filters. */
static int
keep_matching(dlq *d, int qi, const dlq_opts *o, const rds_reply *ids, size_t from, size_t to, dlq_list *out)
{
    const char *argv[HMGET_CHUNK + 2];
    size_t lens[HMGET_CHUNK + 2];
    qkeys k;
    int argc = 0;
    keys_queue(&k, d->cfg->prefix, d->queues[qi], NULL);
    argv[argc] = "HMGET"; lens[argc++] = 5;
    argv[argc] = k.deadjobs; lens[argc++] = strlen(k.deadjobs);
    for (size_t i = from; i < to; i++, argc++) argv[argc] = rds_reply_str(rds_reply_at(ids, 2 * i), &lens[argc]);
    rds_reply *x = rds_cmd(&d->r, argc, argv, lens);
    if (!rds_reply_ok(&d->r, x)) {
        rds_reply_free(x);
        return dlq_fail_rds(d);
    }
    for (size_t i = from; i < to; i++) {
        size_t len;
        const char *s = rds_reply_str(rds_reply_at(x, i - from), &len);
        dead_entry e;
        if (!s) continue; /* gone meanwhile, or a member without an entry */
        dead_entry_parse(&e, s, len, (size_t)d->cfg->max_envelope);
        if (dead_match(&e, &o->f))
            dlq_list_push(out, argv[2 + i - from], lens[2 + i - from], qi, score_ms(rds_reply_at(ids, 2 * i + 1)));
        dead_entry_free(&e);
    }
    rds_reply_free(x);
    return 0;
}

/* scan_queue selects from one queue: the age bounds in Redis (the score is
 * the dead time), the content filters here, in chunks. */
static int
scan_queue(dlq *d, int qi, const dlq_opts *o, const char *min, const char *max, dlq_list *out)
{
    qkeys k;
    int rc = 0;
    keys_queue(&k, d->cfg->prefix, d->queues[qi], NULL);
    rds_reply *x = rds_cmdf(&d->r, "ZREVRANGEBYSCORE %s %s %s WITHSCORES", k.dead, max, min);
    if (!rds_reply_ok(&d->r, x)) {
        rds_reply_free(x);
        return dlq_fail_rds(d);
    }
    size_t n = rds_reply_len(x) / 2;
    int by_content = o->f.service || o->f.action || o->f.error;
    for (size_t i = 0; i < n && !by_content; i++) {
        size_t len;
        const char *id = rds_reply_str(rds_reply_at(x, 2 * i), &len);
        dlq_list_push(out, id, len, qi, score_ms(rds_reply_at(x, 2 * i + 1)));
    }
    for (size_t i = 0; i < n && by_content && rc == 0; i += HMGET_CHUNK)
        rc = keep_matching(d, qi, o, x, i, i + HMGET_CHUNK < n ? i + HMGET_CHUNK : n, out);
    rds_reply_free(x);
    return rc;
}

int
dlq_select(dlq *d, const dlq_opts *o, dlq_list *out)
{
    char min[32] = "-inf", max[32] = "+inf";
    int64_t now;
    if (o->older_ms >= 0 || o->newer_ms >= 0) {
        if (dlq_now_ms(d, &now) < 0) return -1;
        if (o->older_ms >= 0) snprintf(max, sizeof(max), "%lld", (long long)(now - o->older_ms));
        if (o->newer_ms >= 0) snprintf(min, sizeof(min), "%lld", (long long)(now - o->newer_ms));
    }
    for (int qi = 0; qi < d->nqueues; qi++)
        if (scan_queue(d, qi, o, min, max, out) < 0) return -1;
    if (out->n > 1) qsort(out->v, out->n, sizeof(*out->v), newest_first);
    return 0;
}

/* ---------------------------------------------------------------- One job */

int
dlq_find(dlq *d, const char *id, dlq_list *out)
{
    int hits = 0;
    for (int qi = 0; qi < d->nqueues; qi++) {
        qkeys k;
        keys_queue(&k, d->cfg->prefix, d->queues[qi], NULL);
        const char *argv[] = {"ZSCORE", k.dead, id};
        size_t lens[] = {6, strlen(k.dead), strlen(id)};
        rds_reply *x = rds_cmd(&d->r, 3, argv, lens);
        if (!rds_reply_ok(&d->r, x)) {
            rds_reply_free(x);
            return dlq_fail_rds(d);
        }
        if (rds_reply_type(x) == RDS_STR && hits++ == 0) dlq_list_push(out, id, strlen(id), qi, score_ms(x));
        rds_reply_free(x);
    }
    return hits;
}

int
dlq_load(dlq *d, const dlq_target *t, char **text, size_t *len)
{
    qkeys k;
    keys_queue(&k, d->cfg->prefix, d->queues[t->queue], NULL);
    const char *argv[] = {"HGET", k.deadjobs, t->id};
    size_t lens[] = {4, strlen(k.deadjobs), strlen(t->id)};
    rds_reply *x = rds_cmd(&d->r, 3, argv, lens);
    if (!rds_reply_ok(&d->r, x)) {
        rds_reply_free(x);
        return dlq_fail_rds(d);
    }
    const char *s = rds_reply_str(x, len);
    int found = rds_reply_type(x) == RDS_STR;
    if (found) {
        *text = xmalloc(*len + 1);
        memcpy(*text, s, *len);
        (*text)[*len] = '\0';
    }
    rds_reply_free(x);
    return found;
}
