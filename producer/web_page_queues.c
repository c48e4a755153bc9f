/* web_page_queues.c - queues and their switch: every queue's depth and
 * state (ops_fleet_read, as `syncq queue ls`), and for managers pause and
 * resume, which run `syncq queue pause|resume` (web_action.h). The CLI
 * verb writes no audit event (a queue is not a job); the console logs who
 * switched it. /api/queues is the twin (POST queue=Q&op=pause|resume). */
#include "fmacros.h"
#include "cli_ops.h"
#include "config.h"
#include "web.h"
#include "web_action.h"
#include "web_html.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

static void
html(web_req *rq, sbuf *b, const ops_fleet *f)
{
    char age[32];
    int ok = 0;
    const char *flash = web_flash_take(rq, &ok);
    web_page_begin(b, rq, "Queues", "queues", 0);
    if (flash) web_note(b, ok ? "ok" : "error", flash);
    sbuf_adds(b, "<table id=\"queues\"><thead><tr><th>Queue</th><th>State</th><th class=\"num\">Ready</th>"
                 "<th class=\"num\">Oldest</th><th class=\"num\">In flight</th><th class=\"num\">Retry</th>"
                 "<th class=\"num\">Dead</th>");
    if (web_is_manager(rq)) sbuf_adds(b, "<th></th>");
    sbuf_adds(b, "</tr></thead><tbody>");
    for (int i = 0; i < f->nq; i++) {
        const qstat *q = &f->q[i];
        sbuf_adds(b, "<tr><td>");
        web_esc(b, q->name);
        sbuf_printf(b, "</td><td>%s</td><td class=\"num\">%lld</td><td class=\"num\">%s</td><td class=\"num\">%lld"
                       "</td><td class=\"num\">%lld</td><td class=\"num\">%lld</td>",
                    q->paused ? "<span class=\"paused\">paused</span>" : "running", q->ready,
                    config_fmt_duration_ms(q->oldest_age_ms, age, sizeof(age)), q->inflight, q->retry, q->dead);
        if (web_is_manager(rq)) {
            sbuf_adds(b, "<td><form method=\"post\" action=\"/queues\">");
            web_csrf_field(b, rq);
            sbuf_adds(b, "<input type=\"hidden\" name=\"queue\" value=\"");
            web_esc(b, q->name);
            sbuf_printf(b, "\"><button type=\"submit\" name=\"op\" value=\"%s\" class=\"plain\">%s</button></form></td>",
                        q->paused ? "resume" : "pause", q->paused ? "Resume" : "Pause");
        }
        sbuf_adds(b, "</tr>");
    }
    if (f->nq == 0) sbuf_adds(b, "<tr><td colspan=\"8\" class=\"muted\">no queue known yet</td></tr>");
    sbuf_adds(b, "</tbody></table><p class=\"muted\">A paused queue keeps its jobs and takes new ones; no worker on any"
                 " host fetches from it until it is resumed.</p>");
    web_page_end(b);
}

int
web_page_queues(web_req *rq, web_resp *rs)
{
    char err[400];
    ops_fleet f;
    rds *r = web_rds(rq, err, sizeof(err));
    if (!r) return web_error(rq, rs, 503, err);
    if (ops_fleet_read(r, web_cfg(rq), &f) < 0) {
        snprintf(err, sizeof(err), "Redis: %s", r->errstr);
        web_rds_failed(rq);
        return web_error(rq, rs, 503, err);
    }
    if (rq->api) {
        sbuf *b = web_json(rs);
        sbuf_adds(b, "{\"queues\":[");
        for (int i = 0; i < f.nq; i++) {
            if (i) sbuf_addc(b, ',');
            ops_json_queue(b, &f.q[i], f.now_ms);
        }
        sbuf_adds(b, "]}\n");
    } else {
        html(rq, &rs->body, &f);
    }
    ops_fleet_free(&f);
    return 0;
}

int
web_do_queue(web_req *rq, web_resp *rs)
{
    const char *q = web_req_arg(rq, "queue"), *op = web_req_arg(rq, "op");
    if (!q || !config_valid_queue_name(q)) return web_error(rq, rs, 400, "bad queue name");
    if (!op || (strcmp(op, "pause") && strcmp(op, "resume"))) return web_error(rq, rs, 400, "op is pause or resume");
    const char *args[] = {"queue", op, q, NULL}; /* a valid name never starts with - */
    sbuf out;
    sbuf_init(&out);
    int code = web_action_run(web_cfg(rq), args, &out);
    log_msg(LOG_INFO, "web.queue", "%s %s by web:%s: exit %d", op, q, rq->user, code);
    web_action_answer(rq, rs, code, &out, "/queues");
    sbuf_free(&out);
    return 0;
}
