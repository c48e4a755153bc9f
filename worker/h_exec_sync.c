/* h_exec_sync.c - sync jobs whose list is made by a program (docs/HANDLERS.md,
 * "Exec syncs"): the child runs the resource's list program per job, hands it
 * the job on stdin and reads NDJSON on stdout, one record a line,
 *   {"id": "42", "data": {...}}
 * then one summary line, {"complete": true}. The records go to the staging
 * table as they come (stage.h: the same staging and convergence as HTTP
 * syncs, so memory stays flat and the same guards hold); the snapshot
 * converges only when the program said its summary and exited 0. Deletions
 * need "complete": true. A line over EXEC_OUT_MAX bytes, a line that is no
 * record, or anything after the summary kills the program and fails the job
 * permanently; nothing converges. Its stderr reaches the audit masked. */
#include "fmacros.h"
#include "clock.h"
#include "exec.h"
#include "json.h"
#include "log.h"
#include "services.h"
#include "stage.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define FLUSH_BYTES (256 * 1024) /* staged rows sent to PostgreSQL in COPYs of about this size */

typedef struct feed {
    handler_ctx *ctx;
    const svc_exec *x;
    exec_secrets s;
    stage st;
    long lines;     /* lines read, for the error texts */
    int summary;    /* the summary line came */
} feed;

/* record_line stages one record line; -1 (ctx->error set) when it is none. */
static int
record_line(feed *f, const json *root)
{
    const json *id = json_get(root, "id"), *data = json_get(root, "data");
    char num[64], *txt;
    const char *ext = json_str(id);
    if (!ext && json_typeof(id) == JSON_NUMBER && json_num(id) == (double)(long long)json_num(id)) {
        snprintf(num, sizeof(num), "%lld", (long long)json_num(id));
        ext = num;
    }
    if (!ext || !*ext || json_typeof(data) != JSON_OBJECT) {
        handler_fail(f->ctx, HANDLER_PERMANENT,
                     "line %ld: a record needs \"id\" (a non-empty string or an integer) and \"data\" (an object)", f->lines);
        return -1;
    }
    if (!(txt = json_print(data))) {
        handler_fail(f->ctx, HANDLER_PERMANENT, "line %ld: the record's data cannot be printed", f->lines);
        return -1;
    }
    stage_row(&f->st, ext, txt);
    free(txt);
    return 0;
}

/* take_line reads one line of the program's stdout (n bytes, no newline):
 * a record or the summary. 0, or -1 with ctx->error set. */
static int
take_line(feed *f, const char *s, size_t n)
{
    char perr[160];
    f->lines++;
    while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (!n) return 0; /* blank lines are harmless */
    if (n > EXEC_OUT_MAX) {
        handler_fail(f->ctx, HANDLER_PERMANENT, "line %ld is over %d bytes", f->lines, EXEC_OUT_MAX);
        return -1;
    }
    if (f->summary) {
        handler_fail(f->ctx, HANDLER_PERMANENT, "line %ld: output after the summary line", f->lines);
        return -1;
    }
    json *root = json_parse(s, n, perr, sizeof(perr));
    int rc = 0;
    if (json_typeof(root) != JSON_OBJECT) {
        handler_fail(f->ctx, HANDLER_PERMANENT, "line %ld is not a JSON object (%s)", f->lines,
                     root ? "another JSON value" : perr);
        rc = -1;
    } else if (json_get(root, "complete")) {
        const json *c = json_get(root, "complete");
        if (json_typeof(c) != JSON_TRUE && json_typeof(c) != JSON_FALSE) {
            handler_fail(f->ctx, HANDLER_PERMANENT, "line %ld: the summary's \"complete\" must be true or false", f->lines);
            rc = -1;
        } else {
            f->summary = 1;
            f->st.complete = json_typeof(c) == JSON_TRUE;
        }
    } else {
        rc = record_line(f, root);
    }
    json_free(root);
    return rc;
}

/* take_lines consumes every whole line in out: HANDLER_OK, PERMANENT (a
 * bad line) or DEFER (staging failed), with ctx->error set. */
static handler_result
take_lines(feed *f, sbuf *out)
{
    size_t off = 0;
    char *nl;
    int rc = 0;
    while (rc == 0 && (nl = memchr(out->buf + off, '\n', out->len - off))) {
        rc = take_line(f, out->buf + off, (size_t)(nl - (out->buf + off)));
        off = (size_t)(nl - out->buf) + 1;
    }
    memmove(out->buf, out->buf + off, out->len - off);
    out->len -= off;
    if (rc < 0) return HANDLER_PERMANENT;
    if (out->len > EXEC_OUT_MAX)
        return handler_fail(f->ctx, HANDLER_PERMANENT, "line %ld is over %d bytes", f->lines + 1, EXEC_OUT_MAX);
    return f->st.copy.len >= FLUSH_BYTES ? stage_flush(&f->st) : HANDLER_OK;
}

/* ended maps the program's exit to the job's outcome once stdout closed. */
static handler_result
ended(feed *f, int st, const sbuf *err)
{
    handler_ctx *ctx = f->ctx;
    char h[64];
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    exec_how(st, h, sizeof(h));
    if (code == 0 && f->summary) return HANDLER_OK;
    handler_result hr;
    if (code == 0)
        hr = handler_fail(ctx, HANDLER_PERMANENT,
                          "the program exited after %d record(s) without its summary line ({\"complete\": true}): nothing converged",
                          f->st.seen);
    else
        hr = handler_fail(ctx, code == EXEC_TEMPFAIL ? HANDLER_TRANSIENT : HANDLER_PERMANENT,
                          "%s%s after %d record(s): nothing converged", h, code == EXEC_TEMPFAIL ? " (temporary failure)" : "",
                          f->st.seen);
    if (err->len) exec_explain(ctx, &f->s, err->buf, err->len);
    return hr;
}

/* stream runs the program and stages what it prints. */
static handler_result
stream(feed *f, int64_t timeout_ms)
{
    handler_ctx *ctx = f->ctx;
    exec_proc p;
    sbuf in, out, err;
    char why[256];
    handler_result hr = HANDLER_OK;
    sbuf_init(&in);
    sbuf_init(&out);
    sbuf_init(&err);
    exec_request(ctx, timeout_ms, ctx->max_attempts, NULL, &in);
    sbuf_addc(&in, '\n');
    int64_t deadline = clock_mono_ms() + timeout_ms;
    if (exec_spawn(f->x, &p, why, sizeof(why)) < 0) {
        hr = handler_fail(ctx, HANDLER_TRANSIENT, "cannot start %s: %s", f->x->argv[0], why);
        goto out;
    }
    exec_pump u = {in.buf, in.len, 0, 1, &out, 0, 1, &err, deadline, EXEC_OUT_MAX + 65536 + 1};
    int rc;
    while ((rc = exec_pump_run(&p, &u)) == EXEC_PUMP_DONE && (hr = take_lines(f, &out)) == HANDLER_OK) u.scanned = 0;
    if (rc == EXEC_PUMP_EOF && out.len) sbuf_addc(&out, '\n'); /* a last line without its newline */
    if (rc == EXEC_PUMP_EOF && (hr = take_lines(f, &out)) == HANDLER_OK) {
        int killed = 0, st = exec_reap(&p, deadline, &killed);
        if (killed) rc = EXEC_PUMP_TIMEOUT;
        else hr = ended(f, st, &err);
    } else {
        exec_kill(&p);
        /* a bad line (ctx->error says which): what it said on stderr may say why */
        if (hr == HANDLER_PERMANENT && err.len) exec_explain(ctx, &f->s, err.buf, err.len);
    }
    if (rc == EXEC_PUMP_TIMEOUT) {
        ctx->timed_out = 1;
        hr = handler_fail(ctx, HANDLER_TRANSIENT, "timeout after %lld ms: the program was killed after %d record(s); nothing converged",
                          (long long)timeout_ms, f->st.seen);
    } else if (rc == EXEC_PUMP_OVERSIZE) {
        hr = handler_fail(ctx, HANDLER_PERMANENT, "line %ld is over %d bytes: the program was killed", f->lines + 1, EXEC_OUT_MAX);
    } else if (rc == EXEC_PUMP_ERROR) {
        hr = handler_fail(ctx, HANDLER_TRANSIENT, "talking to the program: %s", strerror(errno));
    }
out:
    explicit_bzero(in.buf, in.len); /* the unmasked payload */
    sbuf_free(&in);
    sbuf_free(&out);
    sbuf_free(&err);
    return hr;
}

static handler_result
h_exec_sync(handler_ctx *ctx)
{
    const svc_service *svc;
    const svc_resource *res;
    const svc_action *act = NULL;
    handler_world *w = ctx->world;
    if (!w->svc || svc_find_action(w->svc, ctx->env->service, ctx->env->action, &svc, &res, &act) < 0 || act || !res ||
        res->list_exec.mode == EXEC_NONE)
        return handler_fail(ctx, HANDLER_PERMANENT, "no exec sync action %s in the services file", ctx->env->action);
    feed f;
    memset(&f, 0, sizeof(f));
    f.ctx = ctx;
    f.x = &res->list_exec;
    exec_secrets_of(ctx, f.x, &f.s);
    int64_t timeout_ms = ctx->timeout_ms;
    int pace = handler_pace(ctx, svc->name, svc->rate_per_s, svc->burst, 1000);
    if (pace != 0) /* over the shared rate limit: wait in the retry set, not in a child */
        return pace > 0 ? handler_fail(ctx, HANDLER_DEFER, "%s rate limit: %lld ms to wait", svc->name,
                                       (long long)ctx->retry_after_ms)
                        : handler_fail(ctx, HANDLER_DEFER, "rate limit: Redis unavailable");
    handler_result hr = stage_open(&f.st, ctx, svc->name, res, ctx->env->scope);
    if (hr == HANDLER_OK) {
        f.st.complete = 0;
        hr = stream(&f, timeout_ms);
    }
    if (hr == HANDLER_OK) hr = stage_converge(&f.st);
    stage_close(&f.st);
    return hr;
}

/* exec_sync_register registers the sync action of every resource whose list
 * a program makes. */
void
exec_sync_register(const svc_file *svc)
{
    for (int i = 0; i < svc->nservices; i++)
        for (int r = 0; r < svc->services[i].nresources; r++) {
            const svc_resource *res = &svc->services[i].resources[r];
            if (res->list_exec.mode != EXEC_NONE) handler_register_self_timed(svc->services[i].name, res->sync_action, h_exec_sync);
        }
}
