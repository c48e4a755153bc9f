/* web_page_overview.c - the overview: every queue and live worker (the
 * readings of `syncq stats`, cli_ops.c), the last hour and 24 hours per
 * service/action (those of `syncq health`, audit_rates_read), and charts:
 * processed and failed per minute (audit_minutes), and the oldest ready age
 * over the readings this console made (in memory: it starts empty). The
 * page reloads itself every REFRESH_S seconds; /api/overview is its twin. */
#include "fmacros.h"
#include "cli_ops.h"
#include "config.h"
#include "clock.h"
#include "web.h"
#include "web_chart.h"
#include "audit.h"
#include "web_html.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#define REFRESH_S 10
#define DAY_EVERY_S 60 /* the 24 h figures are read once a minute */

/* The last 24 hours per service/action cost a sort of a day of finished
 * jobs (tens of thousands of rows at a few jobs a second: 0.3 s on 1,000,000
 * rows, make bench-web). A thread of their own reads them once a minute on
 * its own connection, so no request waits for them; the pages copy the last
 * reading under a mutex. An index covering the window would make the query
 * cheap, but every job's write would pay for it: the console adds nothing to
 * the job path. Rejected: reading them on a page load every minute (that
 * page waits 0.3 s). */
static struct {
    pthread_mutex_t mu;
    audit_rate *v; /* owned, n rows; NULL before the first reading */
    int n;
    int64_t at_ms; /* when it was read (wall clock) */
    char err[400]; /* the last reading's failure, "" when it worked */
} day = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void
day_store(audit_rate *v, int n, const char *err)
{
    pthread_mutex_lock(&day.mu);
    if (v) {
        free(day.v);
        day.v = v;
        day.n = n;
        day.at_ms = clock_wall_ms();
    }
    snprintf(day.err, sizeof(day.err), "%s", err);
    pthread_mutex_unlock(&day.mu);
}

/* day_loop reads the 24 h figures every DAY_EVERY_S seconds, for ever (the
 * process ends with the server). The window ends at PostgreSQL's now(). */
static void *
day_loop(void *arg)
{
    const config *cfg = arg;
    db d;
    db_init(&d);
    for (;;) {
        audit_rate *v = NULL;
        int n = 0;
        char err[400] = "";
        if (!db_alive(&d)) {
            db_close(&d);
            db_init(&d);
            if (db_connect(&d, cfg->database_url) < 0) snprintf(err, sizeof(err), "24 h figures: PostgreSQL: %.300s", d.errstr);
        }
        if (!err[0] && audit_rates_read(&d, 86400000, -1, &v, &n) < 0)
            snprintf(err, sizeof(err), "24 h figures: PostgreSQL: %.300s", d.errstr);
        day_store(v, n, err);
        sleep(DAY_EVERY_S);
    }
    return NULL;
}

int
web_overview_start(const config *cfg)
{
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &attr, day_loop, (void *)cfg);
    pthread_attr_destroy(&attr);
    return rc == 0 ? 0 : -1;
}

typedef struct overview {
    ops_fleet f;
    int fleet_ok;
    char redis_err[400], pg_err[600];
    audit_rate *hour, *day; /* owned */
    int nhour, nday;
    int64_t day_at_ms;
    int day_ok;
    char day_err[400];
    double processed[AUDIT_MINUTES], failed[AUDIT_MINUTES];
    int pg_ok;
} overview;

/* day_copy copies the last 24 h reading into o (owned), or says why there is none. */
static void
day_copy(overview *o)
{
    pthread_mutex_lock(&day.mu);
    if (day.v) {
        o->day = xcalloc((size_t)(day.n ? day.n : 1), sizeof(*o->day));
        memcpy(o->day, day.v, (size_t)day.n * sizeof(*o->day));
        o->nday = day.n;
        o->day_at_ms = day.at_ms;
        o->day_ok = 1;
    }
    snprintf(o->day_err, sizeof(o->day_err), "%s", day.err[0] ? day.err : day.v ? "" : "24 h figures: being read");
    pthread_mutex_unlock(&day.mu);
}

static void
read_pg(web_req *rq, overview *o)
{
    db *d = web_db(rq, o->pg_err, sizeof(o->pg_err));
    int64_t end = o->fleet_ok ? o->f.now_ms : -1;
    if (!d) return;
    day_copy(o);
    if (audit_rates_read(d, 3600000, end, &o->hour, &o->nhour) < 0 || audit_minutes(d, end, o->processed, o->failed) < 0) {
        snprintf(o->pg_err, sizeof(o->pg_err), "PostgreSQL: %s", d->errstr);
        web_db_failed(rq);
        return;
    }
    o->pg_ok = 1;
}

static void
read_all(web_req *rq, overview *o)
{
    memset(o, 0, sizeof(*o));
    rds *r = web_rds(rq, o->redis_err, sizeof(o->redis_err));
    if (r && ops_fleet_read(r, web_cfg(rq), &o->f) == 0) {
        int64_t oldest = 0;
        o->fleet_ok = 1;
        for (int i = 0; i < o->f.nq; i++)
            if (o->f.q[i].oldest_age_ms > oldest) oldest = o->f.q[i].oldest_age_ms;
        web_sample_add(rq, o->f.now_ms, oldest);
    } else if (r) {
        snprintf(o->redis_err, sizeof(o->redis_err), "Redis: %s", r->errstr);
        web_rds_failed(rq);
    }
    read_pg(rq, o);
}

static void
overview_free(overview *o)
{
    if (o->fleet_ok) ops_fleet_free(&o->f);
    free(o->hour);
    free(o->day);
}

/* ---------------------------------------------------------------- HTML */

static void
queues_html(sbuf *b, const overview *o)
{
    char age[32];
    sbuf_adds(b, "<h2>Queues</h2><table><thead><tr><th>Queue</th><th class=\"num\">Ready</th><th class=\"num\">Oldest"
                 "</th><th class=\"num\">In flight</th><th class=\"num\">Retry</th><th class=\"num\">Dead</th>"
                 "<th class=\"num\">Audit backlog</th><th>State</th></tr></thead><tbody>");
    for (int i = 0; i < o->f.nq; i++) {
        const qstat *q = &o->f.q[i];
        sbuf_adds(b, "<tr><td>");
        web_esc(b, q->name);
        sbuf_printf(b, "</td><td class=\"num\">%lld</td><td class=\"num\">%s</td><td class=\"num\">%lld</td>"
                       "<td class=\"num\">%lld</td><td class=\"num\"><a href=\"/dlq?queue=", q->ready,
                    config_fmt_duration_ms(q->oldest_age_ms, age, sizeof(age)), q->inflight, q->retry);
        web_url(b, q->name);
        sbuf_printf(b, "\">%lld</a></td><td class=\"num\">%lld</td><td>%s</td></tr>", q->dead, q->outbox,
                    q->paused ? "<span class=\"paused\">paused</span>" : "running");
    }
    if (o->f.nq == 0) sbuf_adds(b, "<tr><td colspan=\"8\" class=\"muted\">no queue known yet</td></tr>");
    sbuf_adds(b, "</tbody></table>\n");
}

static void
workers_html(sbuf *b, const overview *o)
{
    char age[32];
    sbuf_adds(b, "<h2>Workers</h2><table><thead><tr><th>Worker (host:pid)</th><th>Role</th><th class=\"num\">Jobs"
                 "</th><th class=\"num\">Heartbeat</th></tr></thead><tbody>");
    for (int i = 0; i < o->f.nw; i++) {
        const ops_worker *w = &o->f.w[i];
        sbuf_adds(b, "<tr><td class=\"id\">");
        web_esc(b, w->wid);
        sbuf_adds(b, "</td><td>");
        web_esc(b, w->role);
        sbuf_printf(b, "</td><td class=\"num\">%lld</td><td class=\"num\">%s ago</td></tr>", w->jobs,
                    config_fmt_duration_ms(w->age_ms, age, sizeof(age)));
    }
    if (o->f.nw == 0) sbuf_adds(b, "<tr><td colspan=\"4\" class=\"muted\">no live worker</td></tr>");
    sbuf_adds(b, "</tbody></table>\n");
}

static void
pct_cell(sbuf *b, long long part, long long whole)
{
    if (whole <= 0) sbuf_adds(b, "<td class=\"num\">-</td>");
    else sbuf_printf(b, "<td class=\"num\">%.1f%%</td>", 100.0 * ops_ratio(part, whole));
}

static void
rates_html(sbuf *b, const char *title, const audit_rate *v, int n)
{
    char d1[32], d2[32];
    sbuf_adds(b, "<div class=\"card\"><h2>");
    web_esc(b, title);
    sbuf_adds(b, "</h2><table><thead><tr><th>Service/action</th><th class=\"num\">Finished</th><th class=\"num\">"
                 "Success</th><th class=\"num\">1st-attempt fail</th><th class=\"num\">Final fail</th>"
                 "<th class=\"num\">p50</th><th class=\"num\">p95</th></tr></thead><tbody>");
    for (int i = 0; i < n; i++) {
        sbuf_adds(b, v[i].total ? "<tr><th>all</th>" : "<tr><td>");
        if (!v[i].total) {
            web_esc(b, v[i].service);
            sbuf_addc(b, '/');
            web_esc(b, v[i].action);
            sbuf_adds(b, "</td>");
        }
        sbuf_printf(b, "<td class=\"num\">%lld</td>", v[i].finished);
        pct_cell(b, v[i].success, v[i].finished);
        pct_cell(b, v[i].finished - v[i].first_ok, v[i].finished);
        pct_cell(b, v[i].dead + v[i].conflict, v[i].finished);
        sbuf_printf(b, "<td class=\"num\">%s</td><td class=\"num\">%s</td></tr>",
                    config_fmt_duration_ms(v[i].p50_ms < 0 ? -1 : (int64_t)(v[i].p50_ms + 0.5), d1, sizeof(d1)),
                    config_fmt_duration_ms(v[i].p95_ms < 0 ? -1 : (int64_t)(v[i].p95_ms + 0.5), d2, sizeof(d2)));
    }
    if (n == 0) sbuf_adds(b, "<tr><td colspan=\"7\" class=\"muted\">no job finished</td></tr>");
    sbuf_adds(b, "</tbody></table></div>\n");
}

static void
charts_html(web_req *rq, sbuf *b, const overview *o)
{
    int64_t at[WEB_SAMPLES], oldest[WEB_SAMPLES];
    double v[WEB_SAMPLES];
    int n = web_samples(rq, at, oldest);
    char first[40] = "", last[40] = "";
    for (int i = 0; i < n; i++) v[i] = (double)oldest[i];
    if (n > 0) {
        time_t t0 = (time_t)(at[0] / 1000), t1 = (time_t)(at[n - 1] / 1000);
        struct tm tm;
        strftime(first, sizeof(first), "%H:%M:%SZ", gmtime_r(&t0, &tm));
        strftime(last, sizeof(last), "%H:%M:%SZ", gmtime_r(&t1, &tm));
    }
    sbuf_adds(b, "<div class=\"cards\"><div class=\"card\"><h2>Last hour</h2>");
    if (o->pg_ok) web_chart_bars(b, "Jobs processed and failed attempts per minute, last hour", o->processed, o->failed,
                                 AUDIT_MINUTES, "-60 min", "now");
    sbuf_adds(b, "</div><div class=\"card\"><h2>Oldest ready job</h2>");
    web_chart_line(b, "Age of the oldest ready job over every queue", "oldest ready age, at each reading of this page",
                   v, n, first, last);
    sbuf_adds(b, "</div></div>\n");
}

static void
html(web_req *rq, web_resp *rs, const overview *o)
{
    sbuf *b = &rs->body;
    web_page_begin(b, rq, "Overview", "overview", REFRESH_S);
    if (o->redis_err[0]) web_note(b, "error", o->redis_err);
    if (o->pg_err[0]) web_note(b, "error", o->pg_err);
    charts_html(rq, b, o);
    if (o->fleet_ok) {
        queues_html(b, o);
        workers_html(b, o);
    }
    if (o->pg_ok) {
        sbuf_adds(b, "<div class=\"cards\">");
        rates_html(b, "Last hour", o->hour, o->nhour);
        if (o->day_ok) rates_html(b, "Last 24 hours", o->day, o->nday);
        else web_note(b, "info", o->day_err);
        sbuf_adds(b, "</div><p class=\"muted\">Durations: percentile_cont over each finished job's last attempt."
                     " This page reloads every 10 s; the 24 hour figures are read once a minute.</p>");
        if (o->day_ok && o->day_err[0]) web_note(b, "error", o->day_err);
    }
    web_page_end(b);
}

/* ---------------------------------------------------------------- JSON */

static void
rates_json(sbuf *b, const char *key, const audit_rate *v, int n)
{
    sbuf_json_key(b, key);
    sbuf_adds(b, "{\"handlers\":[");
    for (int i = 0, k = 0; i < n; i++)
        if (!v[i].total) {
            if (k++) sbuf_addc(b, ',');
            ops_json_rate(b, &v[i]);
        }
    sbuf_adds(b, "]");
    sbuf_json_key(b, "all");
    if (n > 0 && v[n - 1].total) ops_json_rate(b, &v[n - 1]);
    else sbuf_adds(b, "null");
    sbuf_addc(b, '}');
}

static void
json(web_resp *rs, const overview *o)
{
    sbuf *b = web_json(rs);
    sbuf_addc(b, '{');
    if (o->fleet_ok) {
        ops_json_ms(b, "now_ms", o->f.now_ms);
        sbuf_json_key(b, "queues");
        sbuf_addc(b, '[');
        for (int i = 0; i < o->f.nq; i++) {
            if (i) sbuf_addc(b, ',');
            ops_json_queue(b, &o->f.q[i], o->f.now_ms);
        }
        sbuf_adds(b, "]");
        sbuf_json_key(b, "workers");
        sbuf_addc(b, '[');
        for (int i = 0; i < o->f.nw; i++) {
            if (i) sbuf_addc(b, ',');
            ops_json_worker(b, &o->f.w[i]);
        }
        sbuf_adds(b, "]");
    }
    if (o->pg_ok) {
        rates_json(b, "last_hour", o->hour, o->nhour);
        if (o->day_ok) {
            rates_json(b, "last_24h", o->day, o->nday);
            ops_json_ms(b, "last_24h_at_ms", o->day_at_ms);
        }
        sbuf_json_key(b, "per_minute");
        sbuf_adds(b, "{\"processed\":[");
        for (int i = 0; i < AUDIT_MINUTES; i++) sbuf_printf(b, "%s%.0f", i ? "," : "", o->processed[i]);
        sbuf_adds(b, "],\"failed_attempts\":[");
        for (int i = 0; i < AUDIT_MINUTES; i++) sbuf_printf(b, "%s%.0f", i ? "," : "", o->failed[i]);
        sbuf_adds(b, "]}");
    }
    sbuf_json_key(b, "errors");
    sbuf_addc(b, '[');
    if (o->redis_err[0]) sbuf_json_strz(b, o->redis_err);
    if (o->pg_err[0]) {
        if (o->redis_err[0]) sbuf_addc(b, ',');
        sbuf_json_strz(b, o->pg_err);
    }
    sbuf_adds(b, "]}\n");
}

int
web_page_overview(web_req *rq, web_resp *rs)
{
    overview o;
    read_all(rq, &o);
    if (rq->api) json(rs, &o);
    else html(rq, rs, &o);
    if (rq->api && !o.fleet_ok && !o.pg_ok) rs->status = 503;
    overview_free(&o);
    return 0;
}
