/* stats.c - per-child job counters in the status board (see stats.h). */
#include "fmacros.h"
#include "stats.h"

#include <stdio.h>
#include <string.h>

/* 5 ms .. 5 min: HTTP calls of a few ms to slow syncs walking many pages. */
const int64_t stats_bucket_ms[STATS_NBUCKETS] = {5,    10,   25,    50,    100,   250,   500,
                                                 1000, 2500, 5000, 10000, 30000, 60000, 300000};
const char *const stats_status_names[STATS_NSTATUS] = {"success", "retrying", "dead", "conflict", "superseded"};
const char *const stats_http_class_names[STATS_HTTP_NCLASS] = {"1xx", "2xx", "3xx", "4xx", "5xx", "error"};

#define OTHER "_other"

int
stats_status_of(const char *status)
{
    for (int i = 0; i < STATS_NSTATUS; i++)
        if (!strcmp(status, stats_status_names[i])) return i;
    return -1;
}

/* bump adds d to a counter with one writer: no read-modify-write cycle on
 * the bus, only a store the master may read at any time. */
static void
bump(_Atomic uint64_t *x, uint64_t d)
{
    atomic_store_explicit(x, atomic_load_explicit(x, memory_order_relaxed) + d, memory_order_relaxed);
}

static int
bucket_of(int64_t ms)
{
    int i = 0;
    while (i < STATS_NBUCKETS && ms > stats_bucket_ms[i]) i++;
    return i;
}

/* entry finds or adds the entry for (service, action), both already safe. */
static stats_entry *
entry(stats_table *t, const char *service, const char *action)
{
    int n = atomic_load_explicit(&t->n, memory_order_relaxed);
    for (int i = 0; i < n; i++)
        if (!strcmp(t->e[i].service, service) && !strcmp(t->e[i].action, action)) return &t->e[i];
    if (n == STATS_PAIRS) return &t->e[n - 1];
    stats_entry *e = &t->e[n];
    snprintf(e->service, sizeof(e->service), "%s", n == STATS_PAIRS - 1 ? OTHER : service);
    snprintf(e->action, sizeof(e->action), "%s", n == STATS_PAIRS - 1 ? OTHER : action);
    atomic_store_explicit(&t->n, n + 1, memory_order_release); /* names first, then the entry */
    return e;
}

void
stats_count(stats_table *t, const char *service, const char *action, int status, int64_t duration_ms)
{
    char s[PROM_LABEL_MAX], a[PROM_LABEL_MAX];
    if (!t || status < 0 || status >= STATS_NSTATUS) return;
    prom_label_safe(s, service ? service : "_unknown");
    prom_label_safe(a, action ? action : "_unknown");
    stats_entry *e = entry(t, s, a);
    bump(&e->count[status], 1);
    if (duration_ms < 0) return;
    bump(&e->bucket[bucket_of(duration_ms)], 1);
    bump(&e->sum_ms, (uint64_t)duration_ms);
}

int64_t
stats_mean_ms(stats_table *t, const char *service, const char *action)
{
    char s[PROM_LABEL_MAX], a[PROM_LABEL_MAX];
    if (!t) return -1;
    prom_label_safe(s, service ? service : "_unknown");
    prom_label_safe(a, action ? action : "_unknown");
    int n = atomic_load_explicit(&t->n, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        if (strcmp(t->e[i].service, s) || strcmp(t->e[i].action, a)) continue;
        uint64_t timed = 0;
        for (int b = 0; b <= STATS_NBUCKETS; b++) timed += atomic_load_explicit(&t->e[i].bucket[b], memory_order_relaxed);
        return timed ? (int64_t)(atomic_load_explicit(&t->e[i].sum_ms, memory_order_relaxed) / timed) : -1;
    }
    return -1;
}

static int
http_class(int status)
{
    return status >= 100 && status <= 599 ? status / 100 - 1 : STATS_HTTP_ERROR;
}

void
stats_http(stats_table *t, const char *service, int status)
{
    char s[PROM_LABEL_MAX];
    if (!t) return;
    prom_label_safe(s, service ? service : "_unknown");
    int n = atomic_load_explicit(&t->nhttp, memory_order_relaxed), i = 0;
    while (i < n && strcmp(t->http[i].service, s) != 0) i++;
    if (i == n && n < STATS_HTTP_SERVICES) {
        snprintf(t->http[n].service, sizeof(t->http[n].service), "%s", n == STATS_HTTP_SERVICES - 1 ? OTHER : s);
        atomic_store_explicit(&t->nhttp, n + 1, memory_order_release);
    }
    if (i == STATS_HTTP_SERVICES) i--;
    bump(&t->http[i].calls[http_class(status)], 1);
}

void
stats_note(stats_table *t, int note)
{
    if (t && note >= 0 && note < STATS_NNOTES) bump(&t->notes[note], 1);
}

/* pair finds or adds (service, action) in the master's totals. */
static stats_pair *
pair(stats_totals *out, const char *service, const char *action)
{
    for (int i = 0; i < out->n; i++)
        if (!strcmp(out->p[i].service, service) && !strcmp(out->p[i].action, action)) return &out->p[i];
    if (out->n == STATS_TOTAL_PAIRS) return &out->p[out->n - 1];
    stats_pair *p = &out->p[out->n];
    int last = out->n == STATS_TOTAL_PAIRS - 1;
    snprintf(p->service, sizeof(p->service), "%s", last ? OTHER : service);
    snprintf(p->action, sizeof(p->action), "%s", last ? OTHER : action);
    out->n++;
    return p;
}

static uint64_t
take(_Atomic uint64_t *x, int zero)
{
    uint64_t v = atomic_load_explicit(x, memory_order_relaxed);
    if (zero) atomic_store_explicit(x, 0, memory_order_relaxed);
    return v;
}

static stats_http_total *
http_total(stats_totals *out, const char *service)
{
    for (int i = 0; i < out->nhttp; i++)
        if (!strcmp(out->http[i].service, service)) return &out->http[i];
    if (out->nhttp == STATS_HTTP_TOTAL) return &out->http[out->nhttp - 1];
    stats_http_total *h = &out->http[out->nhttp];
    snprintf(h->service, sizeof(h->service), "%s", out->nhttp == STATS_HTTP_TOTAL - 1 ? OTHER : service);
    out->nhttp++;
    return h;
}

static void
merge_http(stats_table *t, stats_totals *out, int zero)
{
    int n = atomic_load_explicit(&t->nhttp, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        stats_http_total *h = http_total(out, t->http[i].service);
        for (int c = 0; c < STATS_HTTP_NCLASS; c++) h->calls[c] += take(&t->http[i].calls[c], zero);
    }
    if (zero) atomic_store_explicit(&t->nhttp, 0, memory_order_relaxed);
}

static void
merge(stats_table *t, stats_totals *out, int zero)
{
    int n = atomic_load_explicit(&t->n, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        stats_entry *e = &t->e[i];
        stats_pair *p = pair(out, e->service, e->action);
        for (int s = 0; s < STATS_NSTATUS; s++) p->count[s] += take(&e->count[s], zero);
        for (int k = 0; k <= STATS_NBUCKETS; k++) p->bucket[k] += take(&e->bucket[k], zero);
        p->sum_ms += take(&e->sum_ms, zero);
    }
    for (int k = 0; k < STATS_NNOTES; k++) out->notes[k] += take(&t->notes[k], zero);
    merge_http(t, out, zero);
    if (zero) atomic_store_explicit(&t->n, 0, memory_order_relaxed);
}

void
stats_add(stats_table *t, stats_totals *out)
{
    if (t) merge(t, out, 0);
}

void
stats_drain(stats_table *t, stats_totals *out)
{
    if (t) merge(t, out, 1);
}
