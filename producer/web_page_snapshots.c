/* web_page_snapshots.c - the snapshots page: per service, resource and
 * scope, the rows kept, the last successful sync, and the failed rows with
 * their errors (snap_summary, snap_failures: common/snapshot.c). /api/snapshots is its twin. `syncq snapshot ls`
 * pages through one resource's rows; this page is the summary above it. */
#include "fmacros.h"
#include "web.h"
#include "snapshot.h"
#include "web_html.h"
#include "cli_jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAILURES_SHOWN 100

static void
html(web_req *rq, sbuf *b, const db_result *s, const db_result *f)
{
    web_page_begin(b, rq, "Snapshots", "snapshots", 0);
    sbuf_adds(b, "<table><thead><tr><th>Service</th><th>Resource</th><th>Scope</th><th class=\"num\">Rows</th>"
                 "<th class=\"num\">Failed</th><th class=\"num\">Pending</th><th>Last successful sync</th>"
                 "<th>Sync action</th></tr></thead><tbody>");
    for (int i = 0; i < db_ntuples(s); i++) {
        sbuf_adds(b, "<tr>");
        for (int c = SNAP_SUM_SERVICE; c <= SNAP_SUM_ACTION; c++) {
            const char *v = db_value(s, i, c);
            int num = c >= SNAP_SUM_ROWS && c <= SNAP_SUM_PENDING;
            sbuf_adds(b, num ? "<td class=\"num\">" : "<td>");
            if (v) web_esc(b, v);
            else sbuf_adds(b, c == SNAP_SUM_LAST ? "<span class=\"muted\">never</span>" : "");
            sbuf_adds(b, "</td>");
        }
        sbuf_adds(b, "</tr>");
    }
    if (db_ntuples(s) == 0) sbuf_adds(b, "<tr><td colspan=\"8\" class=\"muted\">no snapshot rows</td></tr>");
    sbuf_adds(b, "</tbody></table><h2>Failed rows</h2><table><thead><tr><th>Service</th><th>Resource</th>"
                 "<th>Scope</th><th>External id</th><th>Error</th><th>Written</th></tr></thead><tbody>");
    for (int i = 0; i < db_ntuples(f); i++) {
        char *err = jobs_scrubbed(db_value(f, i, 4));
        sbuf_adds(b, "<tr>");
        for (int c = 0; c < 6; c++) {
            sbuf_adds(b, c == 4 ? "<td class=\"err\">" : "<td>");
            web_esc(b, c == 4 ? err : db_value(f, i, c));
            sbuf_adds(b, "</td>");
        }
        sbuf_adds(b, "</tr>");
        free(err);
    }
    if (db_ntuples(f) == 0) sbuf_adds(b, "<tr><td colspan=\"6\" class=\"muted\">none</td></tr>");
    sbuf_adds(b, "</tbody></table>");
    web_page_end(b);
}

static void
json(sbuf *b, const db_result *s, const db_result *f)
{
    static const char *keys[] = {"service", "resource", "scope", "rows", "failed", "pending", "last_success", "action"};
    static const char *fkeys[] = {"service", "resource", "scope", "external_id", "error", "written_at"};
    sbuf_adds(b, "{\"snapshots\":[");
    for (int i = 0; i < db_ntuples(s); i++) {
        sbuf_adds(b, i ? ",{" : "{");
        for (int c = 0; c < 8; c++) {
            sbuf_json_key(b, keys[c]);
            if (c >= SNAP_SUM_ROWS && c <= SNAP_SUM_PENDING) sbuf_adds(b, db_value(s, i, c));
            else sbuf_json_strz(b, db_value(s, i, c));
        }
        sbuf_addc(b, '}');
    }
    sbuf_adds(b, "],\"failed_rows\":[");
    for (int i = 0; i < db_ntuples(f); i++) {
        sbuf_adds(b, i ? ",{" : "{");
        for (int c = 0; c < 6; c++) {
            char *m = c == 4 ? jobs_scrubbed(db_value(f, i, c)) : NULL;
            sbuf_json_key(b, fkeys[c]);
            sbuf_json_strz(b, c == 4 ? m : db_value(f, i, c));
            free(m);
        }
        sbuf_addc(b, '}');
    }
    sbuf_adds(b, "]}\n");
}

int
web_page_snapshots(web_req *rq, web_resp *rs)
{
    char err[600];
    db *d = web_db(rq, err, sizeof(err));
    if (!d) return web_error(rq, rs, 503, err);
    db_result *s = snap_summary(d), *f = s ? snap_failures(d, FAILURES_SHOWN) : NULL;
    if (!s || !f) {
        snprintf(err, sizeof(err), "PostgreSQL: %s", d->errstr);
        if (s) db_result_free(s);
        web_db_failed(rq);
        return web_error(rq, rs, 503, err);
    }
    if (rq->api) json(web_json(rs), s, f);
    else html(rq, &rs->body, s, f);
    db_result_free(s);
    db_result_free(f);
    return 0;
}
