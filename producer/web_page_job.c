/* web_page_job.c - one job: its audit row, lineage, every attempt (the
 * reads of `syncq jobs show`: audit_job, audit_history), the payload and result
 * masked again on the way out (mask_json_text: what cannot be masked is not
 * shown), and for managers the buttons: retry (dead or conflict: `syncq
 * jobs retry`) and cancel (queued: `syncq cancel`). /api/job?id= answers
 * what `syncq jobs show --json` prints. */
#include "fmacros.h"
#include "config.h"
#include "web.h"
#include "web_action.h"
#include "web_html.h"
#include "cli_jobs.h"
#include "mask.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const labels[] = {"ID", "Queue", "Kind", "Service", "Action", "Target type", "Target id",
                                     "Scope", "Actor", "Status", "Attempts", "Enqueued", "Started", "Finished",
                                     "Duration", "Worker", "Replayed from", "Replayed as", "Error", "Payload",
                                     "Result"};
_Static_assert(sizeof(labels) / sizeof(labels[0]) == AUDIT_JOB_NCOLS, "a label per column of audit_job");

static void
job_link(sbuf *b, const char *id)
{
    sbuf_adds(b, "<a class=\"id\" href=\"/job?id=");
    web_url(b, id);
    sbuf_adds(b, "\">");
    web_esc(b, id);
    sbuf_adds(b, "</a>");
}

/* lineage links the replayed-as list ("a,b") one id at a time. */
static void
lineage(sbuf *b, const char *ids)
{
    char *copy = strdup(ids), *save = NULL;
    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save)) {
        job_link(b, t);
        sbuf_addc(b, ' ');
    }
    free(copy);
}

/* document prints a JSON column masked, or says it is withheld. */
static void
document(sbuf *b, const char *v)
{
    char *m = v ? mask_json_text(v, strlen(v)) : NULL;
    if (!v) sbuf_adds(b, "<span class=\"muted\">none</span>");
    else if (!m) sbuf_adds(b, "<span class=\"muted\">withheld: it cannot be masked</span>");
    else {
        sbuf_adds(b, "<pre class=\"payload\">");
        web_esc(b, m);
        sbuf_adds(b, "</pre>");
    }
    free(m);
}

static void
fields(sbuf *b, const db_result *j)
{
    char d[32];
    sbuf_adds(b, "<dl class=\"kv\">");
    for (int c = AUDIT_JOB_ID; c <= AUDIT_JOB_RESULT; c++) {
        const char *v = db_value(j, 0, c);
        if (!v && c != AUDIT_JOB_PAYLOAD) continue;
        sbuf_printf(b, "<dt>%s</dt><dd>", labels[c]);
        if (c == AUDIT_JOB_PAYLOAD || c == AUDIT_JOB_RESULT) document(b, v);
        else if (c == AUDIT_JOB_FROM) job_link(b, v);
        else if (c == AUDIT_JOB_AS) lineage(b, v);
        else if (c == AUDIT_JOB_DURATION) sbuf_adds(b, config_fmt_duration_ms(atoll(v), d, sizeof(d)));
        else if (c == AUDIT_JOB_STATUS) {
            sbuf_adds(b, "<span class=\"status ");
            web_esc(b, v);
            sbuf_adds(b, "\">");
            web_esc(b, v);
            sbuf_adds(b, "</span>");
        } else if (c == AUDIT_JOB_ERROR) {
            char *m = jobs_scrubbed(v);
            web_esc(b, m);
            free(m);
        } else web_esc(b, v);
        sbuf_adds(b, "</dd>");
    }
    sbuf_adds(b, "</dl>\n");
}

static void
history(sbuf *b, const db_result *h)
{
    char d[32];
    sbuf_adds(b, "<h2>History</h2><table id=\"history\"><thead><tr><th>At (UTC)</th><th class=\"num\">Attempt</th>"
                 "<th>Event</th><th>Outcome</th><th class=\"num\">Duration</th><th>Error</th><th>Retry due</th>"
                 "<th>Worker</th></tr></thead><tbody>");
    for (int i = 0; i < db_ntuples(h); i++) {
        const char *dur = db_value(h, i, AUDIT_HIST_DURATION);
        char *err = jobs_scrubbed(db_value(h, i, AUDIT_HIST_ERROR));
        const int cols[] = {AUDIT_HIST_AT, AUDIT_HIST_ATTEMPT, AUDIT_HIST_EVENT, AUDIT_HIST_OUTCOME};
        sbuf_adds(b, "<tr>");
        for (int k = 0; k < 4; k++) {
            sbuf_adds(b, k == 1 ? "<td class=\"num\">" : "<td>");
            web_esc(b, db_value(h, i, cols[k]));
            sbuf_adds(b, "</td>");
        }
        sbuf_printf(b, "<td class=\"num\">%s</td><td class=\"err\">", dur ? config_fmt_duration_ms(atoll(dur), d, sizeof(d)) : "-");
        web_esc(b, err);
        sbuf_adds(b, "</td><td>");
        web_esc(b, db_value(h, i, AUDIT_HIST_DUE));
        sbuf_adds(b, "</td><td class=\"id\">");
        web_esc(b, db_value(h, i, AUDIT_HIST_WORKER));
        sbuf_adds(b, "</td></tr>");
        free(err);
    }
    if (db_ntuples(h) == 0) sbuf_adds(b, "<tr><td colspan=\"8\" class=\"muted\">no attempt recorded yet</td></tr>");
    sbuf_adds(b, "</tbody></table>\n");
}

static void
action_form(sbuf *b, const web_req *rq, const char *id, const char *path, const char *label, const char *extra)
{
    sbuf_printf(b, "<form method=\"post\" action=\"%s\">", path);
    web_csrf_field(b, rq);
    sbuf_adds(b, "<input type=\"hidden\" name=\"id\" value=\"");
    web_esc(b, id);
    sbuf_adds(b, "\">");
    if (extra) sbuf_adds(b, extra);
    sbuf_printf(b, "<button type=\"submit\" id=\"%s\">%s</button></form>", label[0] == 'R' ? "retry" : "cancel", label);
}

static void
buttons(sbuf *b, const web_req *rq, const db_result *j)
{
    const char *id = db_value(j, 0, AUDIT_JOB_ID), *st = db_value(j, 0, AUDIT_JOB_STATUS), *as = db_value(j, 0, AUDIT_JOB_AS);
    if (!web_is_manager(rq)) return;
    sbuf_adds(b, "<div class=\"actions\">");
    if (!strcmp(st, "dead") && !as) action_form(b, rq, id, "/job/retry", "Retry", NULL);
    if (!strcmp(st, "conflict") && !as)
        action_form(b, rq, id, "/job/retry", "Retry conflict",
                    "<label>expected hash <input name=\"expected_hash\" size=\"20\"></label>"
                    "<label><input type=\"checkbox\" name=\"force\" value=\"1\"> no hash check</label>");
    if (!strcmp(st, "queued")) action_form(b, rq, id, "/job/cancel", "Cancel", NULL);
    sbuf_adds(b, "</div>");
}

static void
html(web_req *rq, sbuf *b, const db_result *j, const db_result *h)
{
    int ok = 0;
    const char *flash = web_flash_take(rq, &ok);
    char title[300];
    snprintf(title, sizeof(title), "Job %.280s", db_value(j, 0, AUDIT_JOB_ID));
    web_page_begin(b, rq, title, "jobs", 0);
    if (flash) web_note(b, ok ? "ok" : "error", flash);
    buttons(b, rq, j);
    fields(b, j);
    history(b, h);
    web_page_end(b);
}

int
web_page_job(web_req *rq, web_resp *rs)
{
    const char *id = web_req_arg(rq, "id");
    char err[600];
    db_result *j = NULL, *h = NULL;
    if (!id || !id[0]) return web_error(rq, rs, 400, "which job? (?id=JOB_ID)");
    db *d = web_db(rq, err, sizeof(err));
    if (!d) return web_error(rq, rs, 503, err);
    if (!(j = audit_job(d, id)) || !(h = audit_history(d, id))) {
        if (j) db_result_free(j);
        snprintf(err, sizeof(err), "PostgreSQL: %s", d->errstr);
        web_db_failed(rq);
        return web_error(rq, rs, 503, err);
    }
    if (db_ntuples(j) == 0) web_error(rq, rs, 404, "no such job in the audit table");
    else if (rq->api) jobs_show_json(web_json(rs), j, h);
    else html(rq, &rs->body, j, h);
    db_result_free(j);
    db_result_free(h);
    return 0;
}

/* ---------------------------------------------------------------- Actions */

/* job_back: the job page to return to after acting on id. */
static void
job_back(char *out, size_t len, const char *id)
{
    sbuf b;
    sbuf_init(&b);
    sbuf_adds(&b, "/job?id=");
    web_url(&b, id);
    snprintf(out, len, "%s", b.buf);
    sbuf_free(&b);
}

static int
valid_id(const char *id)
{
    return id && id[0] && id[0] != '-' && strlen(id) < 200;
}

int
web_do_job_retry(web_req *rq, web_resp *rs)
{
    const char *id = web_req_arg(rq, "id"), *hash = web_req_arg(rq, "expected_hash"), *force = web_req_arg(rq, "force");
    char actor[WEB_NAME_MAX + 8], back[1024];
    const char *args[10];
    int n = 0;
    if (!valid_id(id)) return web_error(rq, rs, 400, "which job? (id)");
    web_actor(rq, actor, sizeof(actor));
    args[n++] = "jobs";
    args[n++] = "retry";
    args[n++] = "--actor";
    args[n++] = actor;
    if (hash && hash[0]) {
        args[n++] = "--expected-hash";
        args[n++] = hash;
    } else if (force && force[0]) {
        args[n++] = "--force";
    }
    args[n++] = id;
    args[n] = NULL;
    sbuf out;
    sbuf_init(&out);
    int code = web_action_run(web_cfg(rq), args, &out);
    job_back(back, sizeof(back), id);
    web_action_answer(rq, rs, code, &out, back);
    sbuf_free(&out);
    return 0;
}

int
web_do_job_cancel(web_req *rq, web_resp *rs)
{
    const char *id = web_req_arg(rq, "id");
    char actor[WEB_NAME_MAX + 8], back[1024];
    if (!valid_id(id)) return web_error(rq, rs, 400, "which job? (id)");
    web_actor(rq, actor, sizeof(actor));
    const char *args[] = {"cancel", id, "--actor", actor, NULL};
    sbuf out;
    sbuf_init(&out);
    int code = web_action_run(web_cfg(rq), args, &out);
    job_back(back, sizeof(back), id);
    web_action_answer(rq, rs, code, &out, back);
    sbuf_free(&out);
    return 0;
}
