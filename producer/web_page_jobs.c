/* web_page_jobs.c - the jobs page: the audit log with the filters of `syncq
 * jobs` and its keyset pages (the filters checked by jobs_filter_set, cli_jobs.c,
 * then audit_jobs: the same query, so the same index use and cursor). /api/jobs answers what `syncq
 * jobs --json` prints. */
#include "fmacros.h"
#include "config.h"
#include "web.h"
#include "web_action.h"
#include "web_html.h"
#include "cli_jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The filters, as form fields and as jobs_filter_set names. */
static const char *const filter_names[] = {"status", "queue", "service", "action", "target", "actor", "text", "since",
                                           "until"};
#define NFILTERS (sizeof(filter_names) / sizeof(filter_names[0]))
static const char *const statuses[] = {"queued", "running", "retrying", "success", "dead", "conflict", "superseded"};

/* filters_from reads the request's filters; 0, or -1 with err. */
static int
filters_from(const web_req *rq, jobs_filter *f, char *err, size_t errlen)
{
    jobs_filter_init(f);
    for (size_t i = 0; i < NFILTERS; i++) {
        const char *v = web_req_arg(rq, filter_names[i]);
        if (v && v[0] && jobs_filter_set(f, filter_names[i], v, err, errlen) < 0) return -1;
    }
    const char *before = web_req_arg(rq, "before"), *limit = web_req_arg(rq, "limit");
    if (before && before[0] && jobs_filter_set(f, "before", before, err, errlen) < 0) return -1;
    if (limit && limit[0] && jobs_filter_set(f, "limit", limit, err, errlen) < 0) return -1;
    return 0;
}

/* query_string appends the request's filters as name=value&... (no cursor). */
static void
query_string(sbuf *b, const web_req *rq)
{
    for (size_t i = 0; i < NFILTERS; i++) {
        const char *v = web_req_arg(rq, filter_names[i]);
        if (!v || !v[0]) continue;
        sbuf_printf(b, "%s=", filter_names[i]);
        web_url(b, v);
        sbuf_addc(b, '&');
    }
}

static void
filter_form(sbuf *b, const web_req *rq)
{
    const char *st = web_req_arg(rq, "status");
    sbuf_adds(b, "<form class=\"filters\" method=\"get\" action=\"/jobs\"><label>Status<select name=\"status\">"
                 "<option value=\"\">any</option>");
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
        sbuf_printf(b, "<option%s>%s</option>", st && !strcmp(st, statuses[i]) ? " selected" : "", statuses[i]);
    sbuf_adds(b, "</select></label>");
    for (size_t i = 1; i < NFILTERS; i++) {
        sbuf_printf(b, "<label>%s<input name=\"%s\" size=\"%d\" value=\"", filter_names[i], filter_names[i],
                    i >= 7 ? 5 : 12);
        web_esc(b, web_req_arg(rq, filter_names[i]));
        sbuf_printf(b, "\"%s></label>", i >= 7 ? " placeholder=\"1h\"" : "");
    }
    sbuf_adds(b, "<button type=\"submit\">Filter</button><a href=\"/jobs\">clear</a></form>\n");
}

static void
row_html(sbuf *b, const db_result *r, int i)
{
    char d[32];
    const char *dur = db_value(r, i, AUDIT_JOBS_DURATION), *tt = db_value(r, i, AUDIT_JOBS_TTYPE);
    char *err = jobs_scrubbed(db_value(r, i, AUDIT_JOBS_ERROR));
    sbuf_adds(b, "<tr><td class=\"id\">");
    web_esc(b, db_value(r, i, AUDIT_JOBS_KEY));
    sbuf_adds(b, "</td><td class=\"id\"><a href=\"/job?id=");
    web_url(b, db_value(r, i, AUDIT_JOBS_ID));
    sbuf_adds(b, "\">");
    web_esc(b, db_value(r, i, AUDIT_JOBS_ID));
    sbuf_adds(b, "</a></td><td>");
    web_esc(b, db_value(r, i, AUDIT_JOBS_QUEUE));
    sbuf_adds(b, "</td><td>");
    web_esc(b, db_value(r, i, AUDIT_JOBS_SERVICE));
    sbuf_addc(b, '/');
    web_esc(b, db_value(r, i, AUDIT_JOBS_ACTION));
    sbuf_adds(b, "</td><td><span class=\"status ");
    web_esc(b, db_value(r, i, AUDIT_JOBS_STATUS));
    sbuf_adds(b, "\">");
    web_esc(b, db_value(r, i, AUDIT_JOBS_STATUS));
    sbuf_adds(b, "</span></td><td class=\"num\">");
    web_esc(b, db_value(r, i, AUDIT_JOBS_ATTEMPTS));
    sbuf_printf(b, "</td><td class=\"num\">%s</td><td>", dur ? config_fmt_duration_ms(atoll(dur), d, sizeof(d)) : "-");
    if (tt) {
        web_esc(b, tt);
        sbuf_addc(b, ':');
    }
    web_esc(b, db_value(r, i, AUDIT_JOBS_TID));
    sbuf_adds(b, "</td><td>");
    web_esc(b, db_value(r, i, AUDIT_JOBS_ACTOR));
    sbuf_adds(b, "</td><td class=\"err\">");
    web_esc(b, err);
    sbuf_adds(b, "</td></tr>\n");
    free(err);
}

static void
html(web_req *rq, sbuf *b, const db_result *r, int rows, const char *next)
{
    web_page_begin(b, rq, "Jobs", "jobs", 0);
    filter_form(b, rq);
    sbuf_adds(b, "<table id=\"jobs\"><thead><tr><th>Enqueued (UTC)</th><th>ID</th><th>Queue</th><th>Service/action"
                 "</th><th>Status</th><th class=\"num\">Att</th><th class=\"num\">Duration</th><th>Target</th>"
                 "<th>Actor</th><th>Error</th></tr></thead><tbody>\n");
    for (int i = 0; i < rows; i++) row_html(b, r, i);
    if (rows == 0) sbuf_adds(b, "<tr><td colspan=\"10\" class=\"muted\">no job matches</td></tr>");
    sbuf_adds(b, "</tbody></table><div class=\"pager\">");
    const char *before = web_req_arg(rq, "before");
    if (before && before[0]) {
        sbuf_adds(b, "<a href=\"/jobs?");
        query_string(b, rq);
        sbuf_adds(b, "\">« newest</a>");
    }
    if (next) {
        sbuf_adds(b, "<a rel=\"next\" href=\"/jobs?");
        query_string(b, rq);
        sbuf_adds(b, "before=");
        web_url(b, next);
        sbuf_adds(b, "\">older »</a>");
    }
    sbuf_adds(b, "</div>");
    web_page_end(b);
}

int
web_page_jobs(web_req *rq, web_resp *rs)
{
    jobs_filter f;
    char err[600];
    sbuf next;
    int rows = 0;
    if (filters_from(rq, &f, err, sizeof(err)) < 0) return web_error(rq, rs, 400, err);
    db *d = web_db(rq, err, sizeof(err));
    if (!d) return web_error(rq, rs, 503, err);
    sbuf_init(&next);
    audit_jobs_filter af = jobs_audit_filter(&f);
    db_result *r = audit_jobs(d, &af);
    if (r && (rows = db_ntuples(r)) > atoi(f.limit)) { /* one row more than the page: there is a next page */
        rows = atoi(f.limit);
        sbuf_printf(&next, "%s,%s", db_value(r, rows - 1, AUDIT_JOBS_KEY), db_value(r, rows - 1, AUDIT_JOBS_ID));
    }
    if (!r) {
        snprintf(err, sizeof(err), "PostgreSQL: %s", d->errstr);
        web_db_failed(rq);
        sbuf_free(&next);
        return web_error(rq, rs, 503, err);
    }
    if (rq->api) jobs_json_page(web_json(rs), r, rows, next.len ? next.buf : NULL);
    else html(rq, &rs->body, r, rows, next.len ? next.buf : NULL);
    db_result_free(r);
    sbuf_free(&next);
    return 0;
}
