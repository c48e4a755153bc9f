/* metrics.c - the /metrics exposition of one master: its queues' gauges,
 * read from Redis at scrape time with cheap commands (qstat.c), the job
 * counters of its children (stats.c) and what the master counts itself.
 * Every label value is a queue name, a service or action of a registered
 * handler (cut to a safe alphabet), a status, a role or a signal name. */
#include "fmacros.h"
#include "metrics.h"
#include "prom.h"
#include "qstat.h"
#include "xalloc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- Queues */

static const struct {
    const char *name, *help;
} queue_gauges[] = {
    {"syncq_queue_ready", "Jobs waiting in the ready list."},
    {"syncq_queue_oldest_age_seconds", "Age of the oldest ready job: since its promotion for a retry, its "
                                       "replay, else its enqueued_at, else first sight (absent when unknown)."},
    {"syncq_queue_inflight", "Jobs held by workers (in-flight lists of the queue's owners)."},
    {"syncq_queue_delayed", "Jobs waiting in the retry set: retries with backoff and delayed jobs."},
    {"syncq_queue_dead", "Jobs in the dead-letter set."},
    {"syncq_queue_paused", "1 while the queue is paused fleet-wide."},
    {"syncq_audit_backlog", "Audit records waiting in the outbox for PostgreSQL."},
    {"syncq_audit_rejected", "Audit records set aside (PostgreSQL refused them): syncq audit refeed."},
};

static void
queue_values(const qstat *q, double *v, int *present)
{
    v[0] = (double)q->ready;
    v[1] = q->oldest_age_ms >= 0 ? (double)q->oldest_age_ms / 1000 : 0;
    present[1] = q->oldest_age_ms >= 0;
    v[2] = (double)q->inflight;
    v[3] = (double)q->retry;
    v[4] = (double)q->dead;
    v[5] = q->paused;
    v[6] = (double)q->outbox;
    v[7] = (double)q->rejected;
}

/* queues reads every queue of the master's configuration. 0 or -1. */
static int
read_queues(const metrics_src *src, qstat *qs)
{
    int64_t now;
    int n = 0;
    if (!src->r || qstat_now_ms(src->r, &now) < 0) return -1;
    for (; n < src->cfg->nqueues; n++)
        if (qstat_read(src->r, src->cfg->prefix, src->cfg->queues[n].name, now, (size_t)src->cfg->max_envelope, &qs[n]) < 0)
            break;
    if (n == src->cfg->nqueues) return 0;
    for (int i = 0; i < n; i++) qstat_free(&qs[i]);
    return -1;
}

static void
render_queues(sbuf *b, const qstat *qs, int nq)
{
    enum { NG = sizeof(queue_gauges) / sizeof(queue_gauges[0]) };
    double v[CONFIG_MAX_QUEUES][NG];
    int present[CONFIG_MAX_QUEUES][NG];
    for (int i = 0; i < nq; i++) {
        for (int g = 0; g < NG; g++) present[i][g] = 1;
        queue_values(&qs[i], v[i], present[i]);
    }
    for (int g = 0; g < NG; g++) {
        prom_family(b, queue_gauges[g].name, "gauge", queue_gauges[g].help);
        for (int i = 0; i < nq; i++) {
            prom_label l = {"queue", qs[i].name};
            if (present[i][g]) prom_sample_f64(b, queue_gauges[g].name, &l, 1, v[i][g]);
        }
    }
}

/* ---------------------------------------------------------------- Jobs */

static void
render_jobs(sbuf *b, const stats_totals *t)
{
    double bounds[STATS_NBUCKETS];
    for (int k = 0; k < STATS_NBUCKETS; k++) bounds[k] = (double)stats_bucket_ms[k] / 1000;
    prom_family(b, "syncq_jobs_processed_total", "counter",
                "Attempts that ended, by the job's status after them: success, retrying (failed, will retry), "
                "dead, conflict or superseded.");
    for (int i = 0; i < t->n; i++)
        for (int s = 0; s < STATS_NSTATUS; s++) {
            prom_label l[] = {{"service", t->p[i].service}, {"action", t->p[i].action},
                              {"status", stats_status_names[s]}};
            prom_sample_u64(b, "syncq_jobs_processed_total", l, 3, t->p[i].count[s]);
        }
    prom_family(b, "syncq_jobs_failed_total", "counter",
                "Attempts that did not succeed (status retrying, dead or conflict).");
    for (int i = 0; i < t->n; i++) {
        prom_label l[] = {{"service", t->p[i].service}, {"action", t->p[i].action}};
        const uint64_t *c = t->p[i].count;
        prom_sample_u64(b, "syncq_jobs_failed_total", l, 2, c[STATS_RETRYING] + c[STATS_DEAD] + c[STATS_CONFLICT]);
    }
    prom_family(b, "syncq_job_duration_seconds", "histogram", "Duration of attempts that ran a handler.");
    for (int i = 0; i < t->n; i++) {
        prom_label l[] = {{"service", t->p[i].service}, {"action", t->p[i].action}};
        prom_histogram(b, "syncq_job_duration_seconds", l, 2, bounds, t->p[i].bucket, STATS_NBUCKETS,
                       (double)t->p[i].sum_ms / 1000);
    }
}

static void
render_http(sbuf *b, const stats_totals *t)
{
    prom_family(b, "syncq_http_requests_total", "counter",
                "HTTP calls of the service handlers, by service and status class (error: no response).");
    for (int i = 0; i < t->nhttp; i++)
        for (int c = 0; c < STATS_HTTP_NCLASS; c++) {
            if (!t->http[i].calls[c]) continue;
            prom_label l[] = {{"service", t->http[i].service}, {"class", stats_http_class_names[c]}};
            prom_sample_u64(b, "syncq_http_requests_total", l, 2, t->http[i].calls[c]);
        }
}

/* ---------------------------------------------------------------- Processes */

static void
counter(sbuf *b, const char *name, const char *help, uint64_t v)
{
    prom_family(b, name, "counter", help);
    prom_sample_u64(b, name, NULL, 0, v);
}

static void
gauge(sbuf *b, const char *name, const char *help, uint64_t v)
{
    prom_family(b, name, "gauge", help);
    prom_sample_u64(b, name, NULL, 0, v);
}

/* sig_name names the signals a crashing child meets; others by number. */
static void
sig_name(int sig, char *out, size_t len)
{
    static const struct { int sig; const char *name; } names[] = {
        {SIGHUP, "SIGHUP"}, {SIGINT, "SIGINT"}, {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"}, {SIGTRAP, "SIGTRAP"},
        {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"}, {SIGFPE, "SIGFPE"}, {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"},
        {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"}, {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"},
        {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"}, {SIGSYS, "SIGSYS"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].sig == sig) {
            snprintf(out, len, "%s", names[i].name);
            return;
        }
    snprintf(out, len, "%d", sig);
}

static void
render_crashes(sbuf *b, const metrics_counters *mc)
{
    char name[PROM_LABEL_MAX];
    prom_family(b, "syncq_child_crashes_total", "counter",
                "Children killed by a signal the master did not send (SIGSEGV, the OOM killer's SIGKILL...).");
    for (int s = 1; s < METRICS_SIGNALS; s++) {
        if (!mc->crashes[s]) continue;
        sig_name(s, name, sizeof(name));
        prom_label l = {"signal", name};
        prom_sample_u64(b, "syncq_child_crashes_total", &l, 1, mc->crashes[s]);
    }
}

static void
render_processes(sbuf *b, const metrics_src *src, const stats_totals *t, int redis_up)
{
    const metrics_counters *mc = src->mc;
    prom_family(b, "syncq_children", "gauge", "Children alive, by role (job children and the audit writer).");
    prom_sample_u64(b, "syncq_children", (prom_label[]){{"role", "job"}}, 1, (uint64_t)src->children_alive);
    prom_sample_u64(b, "syncq_children", (prom_label[]){{"role", "writer"}}, 1, (uint64_t)src->writer_alive);
    gauge(b, "syncq_children_desired", "Job children this master keeps running.", (uint64_t)src->children);
    counter(b, "syncq_child_restarts_total", "Children started again after one exited.", mc->restarts);
    render_crashes(b, mc);
    counter(b, "syncq_job_timeouts_total", "Children killed because their job passed its deadline.", mc->timeouts);
    prom_family(b, "syncq_redis_reconnects_total", "counter",
                "Redis connections re-established: the master's own, and children started again after losing Redis.");
    prom_sample_u64(b, "syncq_redis_reconnects_total", (prom_label[]){{"role", "master"}}, 1,
                    mc->redis_reconnects_master);
    prom_sample_u64(b, "syncq_redis_reconnects_total", (prom_label[]){{"role", "child"}}, 1,
                    mc->redis_reconnects_children);
    counter(b, "syncq_postgres_reconnects_total", "PostgreSQL connections re-established by the audit writer.",
            t->notes[STATS_PG_RECONNECTS]);
    gauge(b, "syncq_redis_up", "1 when the master reached Redis for this scrape.", (uint64_t)redis_up);
}

int
metrics_render(const metrics_src *src, sbuf *b)
{
    qstat qs[CONFIG_MAX_QUEUES];
    stats_totals *t = xmalloc(sizeof(*t)); /* 16 KB: not on the master's stack */
    int redis_up = read_queues(src, qs) == 0;
    *t = src->mc->reaped;
    for (int i = 0; i < src->ntables; i++) stats_add(src->tables[i], t);
    if (redis_up) render_queues(b, qs, src->cfg->nqueues);
    render_jobs(b, t);
    render_http(b, t);
    render_processes(b, src, t, redis_up);
    if (redis_up)
        for (int i = 0; i < src->cfg->nqueues; i++) qstat_free(&qs[i]);
    free(t);
    return redis_up ? 0 : -1;
}
