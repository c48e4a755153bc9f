/* web_page_dlq.c - dead letters: per queue, with the filters of `syncq dlq
 * ls` (dlq_select, cli_dlq_store.c, reads them; payloads and errors masked),
 * and for managers replay or purge of the selected jobs or of all that
 * match, after a confirmation step that shows the count. The change itself
 * is `syncq dlq replay|purge` run as a background task (web_task.c) whose
 * page shows the progress, with the same --rate limit, audit events and
 * per-job atomicity as from a terminal.
 * /api/dlq is the twin: GET lists, POST previews (the count) and, with
 * confirm=1, acts. */
#include "fmacros.h"
#include "web.h"
#include "web_action.h"
#include "web_html.h"
#include "cli_dlq.h"
#include "mask.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SHOWN_MAX 200

/* The filters, as form fields and as `syncq dlq` flags. */
static const char *const fields[] = {"queue", "service", "action", "error", "older_than", "newer_than"};
static const char *const flags[] = {"--queue", "--service", "--action", "--error", "--older-than", "--newer-than"};
#define NFIELDS 6

static const char *
arg(const web_req *rq, const char *name)
{
    const char *v = web_req_arg(rq, name);
    return v && v[0] ? v : NULL;
}

/* opts_from fills o from the request's filters; 0, or -1 with err. */
static int
opts_from(const web_req *rq, dlq_opts *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    o->older_ms = o->newer_ms = -1;
    o->queue = arg(rq, "queue");
    o->f.service = arg(rq, "service");
    o->f.action = arg(rq, "action");
    o->f.error = arg(rq, "error");
    if (o->queue && !config_valid_queue_name(o->queue)) return snprintf(err, errlen, "bad queue name"), -1;
    if (arg(rq, "older_than") && config_parse_duration_ms(arg(rq, "older_than"), &o->older_ms) < 0)
        return snprintf(err, errlen, "bad duration for older than (30s, 10m, 2h, 7d)"), -1;
    if (arg(rq, "newer_than") && config_parse_duration_ms(arg(rq, "newer_than"), &o->newer_ms) < 0)
        return snprintf(err, errlen, "bad duration for newer than (30s, 10m, 2h, 7d)"), -1;
    return 0;
}

static void
hidden_filters(sbuf *b, const web_req *rq)
{
    for (int i = 0; i < NFIELDS; i++) {
        if (!arg(rq, fields[i])) continue;
        sbuf_printf(b, "<input type=\"hidden\" name=\"%s\" value=\"", fields[i]);
        web_esc(b, arg(rq, fields[i]));
        sbuf_adds(b, "\">");
    }
}

/* ---------------------------------------------------------------- One entry */

typedef struct entry {
    char job_id[WRAP_TAG_MAX + 64];
    char *error, *payload, *what; /* owned, masked */
} entry;

/* entry_load reads t; 1, 0 when it left the set meanwhile, or -1. */
static int
entry_load(dlq *d, const dlq_target *t, entry *x)
{
    char *text = NULL;
    size_t len = 0;
    dead_entry e;
    memset(x, 0, sizeof(*x));
    int rc = dlq_load(d, t, &text, &len);
    if (rc <= 0) return rc;
    dead_entry_parse(&e, text, len, (size_t)d->cfg->max_envelope);
    dead_job_id(&e, t->id, x->job_id, sizeof(x->job_id));
    x->error = e.w.err[0] ? mask_string(e.w.err) : NULL;
    if (e.w.err[0] && !x->error) x->error = xstrdup(e.w.err);
    x->payload = dead_masked_payload(&e);
    sbuf w;
    sbuf_init(&w);
    if (e.env_ok) sbuf_printf(&w, "%s/%s", e.env.service, e.env.action);
    else sbuf_printf(&w, "(unparsable: %s)", e.env_err);
    x->what = sbuf_steal(&w, &len);
    dead_entry_free(&e);
    free(text);
    return 1;
}

static void
entry_free(entry *x)
{
    free(x->error);
    free(x->payload);
    free(x->what);
}

static void
time_text(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms < 0 || !gmtime_r(&t, &tm)) snprintf(buf, len, "-");
    else strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---------------------------------------------------------------- Listing */

static void
filter_form(sbuf *b, const web_req *rq)
{
    static const char *const labels[] = {"queue", "service", "action", "error text", "older than", "newer than"};
    sbuf_adds(b, "<form class=\"filters\" method=\"get\" action=\"/dlq\">");
    for (int i = 0; i < NFIELDS; i++) {
        sbuf_printf(b, "<label>%s<input name=\"%s\" size=\"%d\" value=\"", labels[i], fields[i], i >= 4 ? 5 : 12);
        web_esc(b, arg(rq, fields[i]));
        sbuf_adds(b, "\"></label>");
    }
    sbuf_adds(b, "<button type=\"submit\">Filter</button><a href=\"/dlq\">clear</a></form>\n");
}

static void
row_html(sbuf *b, const web_req *rq, const dlq *d, const dlq_target *t, const entry *x)
{
    char when[40];
    time_text(t->dead_ms, when, sizeof(when));
    sbuf_adds(b, "<tr>");
    if (web_is_manager(rq)) {
        sbuf_adds(b, "<td><input type=\"checkbox\" name=\"id\" form=\"act\" value=\"");
        web_esc(b, t->id);
        sbuf_adds(b, "\"></td>");
    }
    sbuf_adds(b, "<td class=\"id\"><a href=\"/job?id=");
    web_url(b, x->job_id);
    sbuf_adds(b, "\">");
    web_esc(b, x->job_id);
    sbuf_adds(b, "</a></td><td>");
    web_esc(b, dlq_queue_name(d, t->queue));
    sbuf_printf(b, "</td><td>%s</td><td>", when);
    web_esc(b, x->what);
    sbuf_adds(b, "</td><td class=\"err\">");
    web_esc(b, x->error);
    sbuf_adds(b, "</td><td><pre class=\"payload\">");
    web_esc(b, x->payload ? x->payload : "-");
    sbuf_adds(b, "</pre></td></tr>\n");
}

static void
action_forms(sbuf *b, const web_req *rq, size_t matching)
{
    sbuf_adds(b, "<form id=\"act\" class=\"actions\" method=\"post\" action=\"/dlq\">");
    web_csrf_field(b, rq);
    hidden_filters(b, rq);
    sbuf_adds(b, "<button name=\"op\" value=\"replay\" type=\"submit\">Replay selected</button>"
                 "<button name=\"op\" value=\"purge\" class=\"danger\" type=\"submit\">Purge selected</button></form>");
    sbuf_adds(b, "<form class=\"actions\" method=\"post\" action=\"/dlq\">");
    web_csrf_field(b, rq);
    hidden_filters(b, rq);
    sbuf_printf(b, "<input type=\"hidden\" name=\"matching\" value=\"1\"><label>rate/s <input name=\"rate\" size=\"4\" "
                   "placeholder=\"no limit\"></label><button name=\"op\" value=\"replay\" type=\"submit\">Replay all %zu "
                   "matching</button><button name=\"op\" value=\"purge\" class=\"danger\" type=\"submit\">Purge all %zu "
                   "matching</button></form>\n", matching, matching);
}

static int
list_html(web_req *rq, web_resp *rs, dlq *d, const dlq_list *l)
{
    sbuf *b = &rs->body;
    int ok = 0;
    const char *flash = web_flash_take(rq, &ok);
    size_t shown = 0;
    web_page_begin(b, rq, "Dead letters", "dlq", 0);
    if (flash) web_note(b, ok ? "ok" : "error", flash);
    filter_form(b, rq);
    if (web_is_manager(rq) && l->n > 0) action_forms(b, rq, l->n);
    sbuf_adds(b, "<table id=\"dlq\"><thead><tr>");
    if (web_is_manager(rq)) sbuf_adds(b, "<th><input type=\"checkbox\" data-select-all aria-label=\"select all\"></th>");
    sbuf_adds(b, "<th>Job</th><th>Queue</th><th>Dead at (UTC)</th><th>Service/action</th><th>Error</th>"
                 "<th>Payload (masked)</th></tr></thead><tbody>");
    for (size_t i = 0; i < l->n && shown < SHOWN_MAX; i++) {
        entry x;
        int rc = entry_load(d, &l->v[i], &x);
        if (rc < 0) return web_error(rq, rs, 503, d->errstr);
        if (rc == 0) continue;
        row_html(b, rq, d, &l->v[i], &x);
        entry_free(&x);
        shown++;
    }
    if (l->n == 0) sbuf_adds(b, "<tr><td colspan=\"7\" class=\"muted\">no dead-letter job matches</td></tr>");
    sbuf_printf(b, "</tbody></table><p class=\"muted\">%zu shown of %zu matching, newest first.</p>", shown, l->n);
    web_page_end(b);
    return 0;
}

static int
list_json(web_req *rq, web_resp *rs, dlq *d, const dlq_list *l)
{
    sbuf *b = web_json(rs);
    char when[40];
    size_t shown = 0;
    sbuf_printf(b, "{\"matching\":%zu,\"jobs\":[", l->n);
    for (size_t i = 0; i < l->n && shown < SHOWN_MAX; i++) {
        entry x;
        int rc = entry_load(d, &l->v[i], &x);
        if (rc < 0) return web_error(rq, rs, 503, d->errstr);
        if (rc == 0) continue;
        time_text(l->v[i].dead_ms, when, sizeof(when));
        sbuf_adds(b, shown++ ? ",{" : "{");
        sbuf_json_key(b, "member");
        sbuf_json_strz(b, l->v[i].id);
        sbuf_json_key(b, "id");
        sbuf_json_strz(b, x.job_id);
        sbuf_json_key(b, "queue");
        sbuf_json_strz(b, dlq_queue_name(d, l->v[i].queue));
        sbuf_json_key(b, "dead_at");
        sbuf_json_strz(b, when);
        sbuf_json_key(b, "what");
        sbuf_json_strz(b, x.what);
        sbuf_json_key(b, "error");
        sbuf_json_strz(b, x.error);
        sbuf_json_key(b, "payload");
        sbuf_adds(b, x.payload ? x.payload : "null"); /* JSON already, masked */
        sbuf_addc(b, '}');
        entry_free(&x);
    }
    sbuf_adds(b, "]}\n");
    return 0;
}

/* select_all runs the request's filters: 0, or -1 with rs answered. */
static int
select_all(web_req *rq, web_resp *rs, dlq *d, dlq_opts *o, dlq_list *l)
{
    char err[400];
    memset(l, 0, sizeof(*l));
    if (opts_from(rq, o, err, sizeof(err)) < 0) return web_error(rq, rs, 400, err), -1;
    if (dlq_open(d, web_cfg(rq), o->queue) < 0) return web_error(rq, rs, 503, d->errstr), -1;
    if (dlq_select(d, o, l) < 0) return web_error(rq, rs, 503, d->errstr), -1;
    return 0;
}

int
web_page_dlq(web_req *rq, web_resp *rs)
{
    dlq d;
    dlq_opts o;
    dlq_list l;
    memset(&d, 0, sizeof(d));
    if (select_all(rq, rs, &d, &o, &l) == 0) {
        if (rq->api) list_json(rq, rs, &d, &l);
        else list_html(rq, rs, &d, &l);
    }
    dlq_list_free(&l);
    dlq_close(&d);
    return 0;
}

/* ---------------------------------------------------------------- Replay and purge */

/* count_selected: the ids given, one per checkbox. */
static int
count_selected(const web_req *rq)
{
    int n = 0;
    for (int i = 0; i < rq->form.n; i++)
        if (!strcmp(rq->form.k[i], "id") && rq->form.v[i][0] && rq->form.v[i][0] != '-') n++;
    return n;
}

static int
confirm_page(web_req *rq, web_resp *rs, const char *op, size_t n, int matching)
{
    sbuf *b = &rs->body;
    const char *rate = arg(rq, "rate");
    web_page_begin(b, rq, "Confirm", "dlq", 0);
    sbuf_printf(b, "<p id=\"confirm-count\">%s %zu dead-letter job%s%s?</p>", !strcmp(op, "replay") ? "Replay" : "Purge",
                n, n == 1 ? "" : "s", matching ? " (all that match the filters)" : "");
    if (!strcmp(op, "purge")) sbuf_adds(b, "<p class=\"note error\">Purged jobs are gone for good; their audit rows stay.</p>");
    sbuf_adds(b, "<form class=\"actions\" method=\"post\" action=\"/dlq\">");
    web_csrf_field(b, rq);
    hidden_filters(b, rq);
    sbuf_printf(b, "<input type=\"hidden\" name=\"op\" value=\"%s\"><input type=\"hidden\" name=\"confirm\" value=\"1\">",
                op);
    if (matching) sbuf_adds(b, "<input type=\"hidden\" name=\"matching\" value=\"1\">");
    if (rate) {
        sbuf_adds(b, "<input type=\"hidden\" name=\"rate\" value=\"");
        web_esc(b, rate);
        sbuf_adds(b, "\">");
    }
    for (int i = 0; !matching && i < rq->form.n; i++)
        if (!strcmp(rq->form.k[i], "id")) {
            sbuf_adds(b, "<input type=\"hidden\" name=\"id\" value=\"");
            web_esc(b, rq->form.v[i]);
            sbuf_adds(b, "\">");
        }
    sbuf_printf(b, "<button type=\"submit\" id=\"confirm\"%s>Yes, %s %zu</button><a href=\"/dlq\">cancel</a></form>",
                !strcmp(op, "purge") ? " class=\"danger\"" : "", op, n);
    web_page_end(b);
    return 0;
}

/* run starts `syncq dlq OP --actor A [--yes] [--rate N] (filters | --all | ids)` as
 * a task (web_task.c) touching about total jobs, and sends the browser to
 * its progress page (the API: 202 with the task's URL). */
static int
run(web_req *rq, web_resp *rs, const char *op, int matching, const dlq_opts *o, size_t total)
{
    const char *args[WEB_ACTION_ARGS_MAX + 1];
    char actor[WEB_NAME_MAX + 8];
    int n = 0, filtered = dlq_opts_filtered(o);
    web_actor(rq, actor, sizeof(actor));
    args[n++] = "dlq";
    args[n++] = op;
    args[n++] = "--actor";
    args[n++] = actor;
    if (!strcmp(op, "purge")) args[n++] = "--yes";
    if (arg(rq, "rate") && !strcmp(op, "replay")) {
        args[n++] = "--rate";
        args[n++] = arg(rq, "rate");
    }
    for (int i = 0; i < NFIELDS; i++)
        if (arg(rq, fields[i]) && (i == 0 || matching)) {
            args[n++] = flags[i];
            args[n++] = arg(rq, fields[i]);
        }
    if (matching && !filtered) args[n++] = "--all";
    if (!matching) {
        args[n++] = "--";
        for (int i = 0; i < rq->form.n && n < WEB_ACTION_ARGS_MAX; i++)
            if (!strcmp(rq->form.k[i], "id") && rq->form.v[i][0]) args[n++] = rq->form.v[i];
        if (n >= WEB_ACTION_ARGS_MAX) return web_error(rq, rs, 400, "too many jobs selected: use all matching");
    }
    args[n] = NULL;
    char err[300], where[64];
    sbuf back;
    sbuf_init(&back);
    sbuf_adds(&back, "/dlq?");
    for (int i = 0; i < NFIELDS; i++)
        if (arg(rq, fields[i])) {
            sbuf_printf(&back, "%s=", fields[i]);
            web_url(&back, arg(rq, fields[i]));
            sbuf_addc(&back, '&');
        }
    int id = web_task_start(web_cfg(rq), args, rq->user, op, total, back.buf, err, sizeof(err));
    sbuf_free(&back);
    if (id < 0) return web_error(rq, rs, 503, err);
    snprintf(where, sizeof(where), "%s/dlq/task?id=%d", rq->api ? "/api" : "", id);
    if (!rq->api) return web_redirect(rs, where);
    sbuf_printf(web_json(rs), "{\"task\":%d,\"status\":\"%s\"}\n", id, where);
    rs->status = 202;
    return 0;
}

int
web_do_dlq(web_req *rq, web_resp *rs)
{
    const char *op = arg(rq, "op");
    int matching = arg(rq, "matching") != NULL, confirmed = arg(rq, "confirm") != NULL;
    dlq d;
    dlq_opts o;
    dlq_list l;
    char err[300];
    if (!op || (strcmp(op, "replay") && strcmp(op, "purge"))) return web_error(rq, rs, 400, "op is replay or purge");
    if (opts_from(rq, &o, err, sizeof(err)) < 0) return web_error(rq, rs, 400, err);
    if (!matching && count_selected(rq) == 0) return web_error(rq, rs, 400, "select jobs first (or use all matching)");
    if (!matching && confirmed) return run(rq, rs, op, 0, &o, (size_t)count_selected(rq));
    if (!matching) {
        if (rq->api) return sbuf_printf(web_json(rs), "{\"selected\":%d,\"confirm\":\"repeat with confirm=1\"}\n",
                                        count_selected(rq)), 0;
        return confirm_page(rq, rs, op, (size_t)count_selected(rq), 0);
    }
    memset(&d, 0, sizeof(d));
    if (select_all(rq, rs, &d, &o, &l) == 0) {
        if (confirmed) run(rq, rs, op, 1, &o, l.n);
        else if (rq->api) sbuf_printf(web_json(rs), "{\"matching\":%zu,\"confirm\":\"repeat with confirm=1\"}\n", l.n);
        else confirm_page(rq, rs, op, l.n, 1);
    }
    dlq_list_free(&l);
    dlq_close(&d);
    return 0;
}
