/* web_task.c - bulk dead-letter actions in the background (web_action.h):
 * the child's output goes to an unlinked temporary file, not a pipe, so a
 * child whose page nobody watches never blocks on a full pipe; each look at
 * the task (its page, or any dead-letter page) reads the file and reaps the
 * child when it has ended. One thread serves every request (web.h): the
 * table needs no lock. */
#include "fmacros.h"
#include "config.h"
#include "clock.h"
#include "web_action.h"
#include "web_html.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SHOWN_MAX (64 * 1024) /* the report shown: its first 64 KiB */

typedef struct web_task {
    int id;           /* 0: free slot */
    pid_t pid;        /* 0 once reaped */
    int fd;           /* the output file, -1 when closed */
    int code;         /* exit code once done */
    char user[WEB_NAME_MAX], op[8], back[512];
    size_t total;
    int64_t started_ms;
} web_task;

static web_task tasks[WEB_TASKS_MAX];
static int next_id = 1;

/* reap: a task whose child ended gets its exit code. */
static void
reap(web_task *t)
{
    int status = 0;
    if (!t->pid) return;
    pid_t r = waitpid(t->pid, &status, WNOHANG);
    if (r == t->pid || (r < 0 && errno == ECHILD)) {
        t->code = r == t->pid && WIFEXITED(status) ? WEXITSTATUS(status) : SYNCQ_EX_SOFTWARE;
        t->pid = 0;
    }
}

/* slot: a free slot, else the oldest finished task's. NULL when all run. */
static web_task *
slot(void)
{
    web_task *best = NULL;
    for (int i = 0; i < WEB_TASKS_MAX; i++) {
        web_task *t = &tasks[i];
        reap(t);
        if (!t->id) return t;
        if (!t->pid && (!best || t->started_ms < best->started_ms)) best = t;
    }
    if (best && best->fd >= 0) close(best->fd);
    return best;
}

int
web_task_start(const config *cfg, const char *const *args, const char *user, const char *op, size_t total,
               const char *back, char *err, size_t errlen)
{
    char path[] = "/tmp/syncq-web-task.XXXXXX";
    web_task *t = slot();
    if (!t) return snprintf(err, errlen, "%d actions are running already: wait for one to end", WEB_TASKS_MAX), -1;
    memset(t, 0, sizeof(*t));
    t->fd = mkstemp(path);
    if (t->fd < 0) return snprintf(err, errlen, "mkstemp: %s", strerror(errno)), -1;
    unlink(path); /* only the two descriptors keep it */
    if (web_action_spawn(cfg, args, t->fd, &t->pid, err, errlen) < 0) {
        close(t->fd);
        memset(t, 0, sizeof(*t));
        return -1;
    }
    t->id = next_id++;
    snprintf(t->user, sizeof(t->user), "%s", user);
    snprintf(t->op, sizeof(t->op), "%s", op);
    snprintf(t->back, sizeof(t->back), "%s", back);
    t->total = total;
    t->started_ms = clock_wall_ms();
    return t->id;
}

/* output reads what the task printed so far (its first SHOWN_MAX bytes). */
static void
output(const web_task *t, sbuf *out)
{
    char buf[8192];
    ssize_t n;
    off_t at = 0;
    while (at < SHOWN_MAX && (n = pread(t->fd, buf, sizeof(buf), at)) > 0) {
        size_t take = at + n > SHOWN_MAX ? (size_t)(SHOWN_MAX - at) : (size_t)n;
        sbuf_add(out, buf, take);
        at += n;
    }
}

/* done_count: the jobs the CLI reported replayed ("replayed OLD as NEW"
 * lines); a purge reports its count only at the end. */
static size_t
done_count(const sbuf *out)
{
    size_t n = 0;
    for (const char *p = out->buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, "replayed ", 9)) n++;
    return n;
}

static web_task *
find(int id)
{
    for (int i = 0; i < WEB_TASKS_MAX; i++)
        if (tasks[i].id == id && id > 0) return &tasks[i];
    return NULL;
}

static void
html(web_req *rq, web_resp *rs, const web_task *t, const sbuf *out, size_t done)
{
    sbuf *b = &rs->body;
    char el[32];
    web_page_begin(b, rq, t->pid ? "Working…" : "Done", "dlq", t->pid ? 1 : 0);
    sbuf_printf(b, "<p id=\"task\" data-done=\"%d\">", t->pid ? 0 : 1);
    config_fmt_duration_ms(clock_wall_ms() - t->started_ms, el, sizeof(el));
    web_escf(b, "%s by web:%s, started %s ago: ", t->op, t->user, el);
    if (!strcmp(t->op, "replay")) sbuf_printf(b, "%zu of %zu replayed", done, t->total);
    else sbuf_printf(b, "%zu job%s to purge", t->total, t->total == 1 ? "" : "s");
    sbuf_adds(b, t->pid ? " (this page reloads every second)</p>" : "</p>");
    if (!strcmp(t->op, "replay") && t->total)
        sbuf_printf(b, "<progress max=\"%zu\" value=\"%zu\"></progress>", t->total, done);
    if (!t->pid) web_note(b, t->code == 0 ? "ok" : "error", t->code == 0 ? "finished" : "finished with errors (below)");
    sbuf_adds(b, "<pre id=\"task-output\">");
    web_esc(b, out->len ? out->buf : "");
    sbuf_adds(b, "</pre><p><a href=\"");
    web_esc(b, t->back);
    sbuf_adds(b, "\">back to the dead letters</a></p>");
    web_page_end(b);
}

int
web_page_task(web_req *rq, web_resp *rs)
{
    const char *id = web_req_arg(rq, "id");
    web_task *t = find(id ? atoi(id) : 0);
    sbuf out;
    if (!t) return web_error(rq, rs, 404, "no such action (finished ones are forgotten after a while)");
    reap(t);
    sbuf_init(&out);
    output(t, &out);
    size_t done = done_count(&out);
    if (rq->api) {
        sbuf *b = web_json(rs);
        sbuf_printf(b, "{\"id\":%d,\"op\":\"%s\",\"done\":%s,\"total\":%zu,\"replayed\":%zu", t->id, t->op,
                    t->pid ? "false" : "true", t->total, done);
        if (!t->pid) sbuf_printf(b, ",\"exit_code\":%d", t->code);
        sbuf_json_key(b, "output");
        sbuf_json_strz(b, out.len ? out.buf : "");
        sbuf_adds(b, "}\n");
    } else {
        html(rq, rs, t, &out, done);
    }
    sbuf_free(&out);
    return 0;
}
