/* h_exec.c - exec handlers (docs/HANDLERS.md): jobs run by a program in any
 * language, declared with "exec" in the services file.
 *
 *   per_job     the child forks and execs the command for each job, writes
 *               the job as one JSON object on its stdin, reads its stdout
 *               (one JSON object, bounded) and its exit status.
 *   persistent  the child starts the program once and keeps it for many
 *               jobs: one JSON line per request, one per reply. A program
 *               that dies, hangs past the job's timeout or answers garbage
 *               is killed, and started again for the next job.
 *
 * Programs run without a shell, in their own process group (a timeout kills
 * the whole group), and die with the child (PR_SET_PDEATHSIG): when the
 * master kills a child, its programs go too. They inherit the child's
 * rlimits. What every services-file mutation gets (the per-target lock, the
 * expected_hash check, the shared rate limit, the idempotency key) comes
 * from handler.c, as for HTTP actions; retries by class, masking of the
 * audit record and idempotent skips are job.c's and child.c's.
 *
 * Secrets: the payload goes to the program unmasked (it is the program's
 * input); what comes back (the result, error texts, stderr) is masked by
 * key and by value (the payload's secret members and the exec's env values)
 * before it reaches the audit record or a log. */
#include "fmacros.h"
#include "clock.h"
#include "db.h"
#include "exec.h"
#include "json.h"
#include "keys.h"
#include "services.h"
#include "snapshot.h"
#include "xalloc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define EXEC_PROGRAMS_MAX 32 /* persistent programs per child */
#define DEATHS_TTL_MS 86400000 /* a job's program deaths are forgotten a day after the last */

/* A persistent program of this child, shared by every action whose exec is
 * the same. */
typedef struct program {
    const svc_exec *x;
    exec_proc p;
    sbuf out;         /* bytes read past the last reply */
} program;

static program programs[EXEC_PROGRAMS_MAX];
static int nprograms;


/* answer reads the program's JSON object: "result", "error",
 * "retry_after_ms" (and "id", "status" for persistent replies). */
typedef struct answer {
    json *root;
    const json *result;
    const char *error, *status, *id;
    int64_t retry_after_ms; /* -1 none */
} answer;

static int
parse_answer(const char *s, size_t n, answer *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof(*a));
    a->retry_after_ms = -1;
    if (!(a->root = json_parse(s, n, err, errlen))) return -1;
    if (json_typeof(a->root) != JSON_OBJECT) {
        snprintf(err, errlen, "a JSON value that is not an object");
        return -1;
    }
    a->result = json_get(a->root, "result");
    a->error = json_str(json_get(a->root, "error"));
    a->status = json_str(json_get(a->root, "status"));
    a->id = json_str(json_get(a->root, "id"));
    const json *ra = json_get(a->root, "retry_after_ms");
    if (json_typeof(ra) == JSON_NUMBER && json_num(ra) >= 0 && json_num(ra) <= 86400000.0)
        a->retry_after_ms = (int64_t)json_num(ra);
    return 0;
}

/* ---- per_job ---- */

typedef struct run {
    handler_ctx *ctx;
    const svc_exec *x;
    exec_secrets s;
    int64_t timeout_ms;
    int max_attempts;
    char *snapshot;   /* owned: the target's snapshot row for the request, NULL to leave it out */
} run;

/* exited maps a per_job program's end to the job's outcome. */
static handler_result
exited(run *k, int st, sbuf *out, sbuf *err)
{
    handler_ctx *ctx = k->ctx;
    char h[64], perr[160];
    answer a;
    memset(&a, 0, sizeof(a));
    a.retry_after_ms = -1;
    exec_how(st, h, sizeof(h));
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    int parsed = out->len ? parse_answer(out->buf, out->len, &a, perr, sizeof(perr)) : (a.root = NULL, 0);
    handler_result hr;
    if (code == 0 && parsed < 0) {
        hr = handler_fail(ctx, HANDLER_PERMANENT, "exit 0 but stdout is not the JSON object the protocol asks for (%s)", perr);
    } else if (code == 0) {
        exec_set_result(ctx, a.result, &k->s);
        hr = HANDLER_OK;
    } else {
        hr = handler_fail(ctx, code == EXEC_TEMPFAIL ? HANDLER_TRANSIENT : HANDLER_PERMANENT, "%s%s", h,
                  code == EXEC_TEMPFAIL ? " (temporary failure)" : "");
        if (a.error) exec_explain(ctx, &k->s, a.error, strlen(a.error));
        else if (err->len) exec_explain(ctx, &k->s, err->buf, err->len);
        if (code == EXEC_TEMPFAIL) ctx->retry_after_ms = a.retry_after_ms;
    }
    json_free(a.root);
    return hr;
}

static handler_result
per_job(run *k)
{
    handler_ctx *ctx = k->ctx;
    exec_proc p;
    sbuf in, out, err;
    char why[256];
    handler_result hr;
    sbuf_init(&in);
    sbuf_init(&out);
    sbuf_init(&err);
    exec_request(ctx, k->timeout_ms, k->max_attempts, k->snapshot, &in);
    sbuf_addc(&in, '\n');
    int64_t deadline = clock_mono_ms() + k->timeout_ms;
    if (exec_spawn(k->x, &p, why, sizeof(why)) < 0) {
        hr = handler_fail(ctx, HANDLER_TRANSIENT, "cannot start %s: %s", k->x->argv[0], why);
        goto out;
    }
    exec_pump u = {in.buf, in.len, 0, 1, &out, 0, 0, &err, deadline, 0};
    int rc = exec_pump_run(&p, &u);
    if (rc == EXEC_PUMP_DONE) {
        int killed = 0, st = exec_reap(&p, deadline, &killed); /* both pipes closed: it is ending */
        if (killed) rc = EXEC_PUMP_TIMEOUT;
        else hr = exited(k, st, &out, &err);
    } else {
        exec_kill(&p);
    }
    if (rc == EXEC_PUMP_TIMEOUT) {
        ctx->timed_out = 1;
        hr = handler_fail(ctx, HANDLER_TRANSIENT, "timeout after %lld ms: the handler was killed", (long long)k->timeout_ms);
    }
    else if (rc == EXEC_PUMP_OVERSIZE)
        hr = handler_fail(ctx, HANDLER_PERMANENT, "stdout over %d bytes: the handler was killed", EXEC_OUT_MAX);
    else if (rc != EXEC_PUMP_DONE)
        hr = handler_fail(ctx, HANDLER_TRANSIENT, "talking to the handler: %s", strerror(errno));
out:
    explicit_bzero(in.buf, in.len); /* the unmasked payload */
    sbuf_free(&in);
    sbuf_free(&out);
    sbuf_free(&err);
    return hr;
}

/* ---- persistent ---- */

static int
same_exec(const svc_exec *a, const svc_exec *b)
{
    if (a->argc != b->argc || a->nenv != b->nenv || !a->cwd != !b->cwd || (a->cwd && strcmp(a->cwd, b->cwd)))
        return 0;
    for (int i = 0; i < a->argc; i++)
        if (strcmp(a->argv[i], b->argv[i])) return 0;
    for (int i = 0; i < a->nenv; i++)
        if (strcmp(a->env[i].name, b->env[i].name) || strcmp(a->env[i].value, b->env[i].value)) return 0;
    return 1;
}

static program *
program_for(const svc_exec *x)
{
    for (int i = 0; i < nprograms; i++)
        if (same_exec(programs[i].x, x)) return &programs[i];
    if (nprograms == EXEC_PROGRAMS_MAX) return NULL;
    program *g = &programs[nprograms++];
    memset(g, 0, sizeof(*g));
    g->x = x;
    g->p = (exec_proc){0, -1, -1, -1};
    sbuf_init(&g->out);
    return g;
}

/* restart kills g's program; the next job starts it again. */
static void
restart(program *g, char *h, size_t hlen)
{
    int st = exec_kill(&g->p);
    if (h) exec_how(st, h, hlen);
    sbuf_reset(&g->out);
}

/* drain reads what the program wrote to stderr between jobs (so it never
 * blocks on a full pipe) and forgets it: it belongs to no job. */
static void
drain(program *g)
{
    sbuf junk;
    int over = 0;
    sbuf_init(&junk);
    struct pollfd f = {g->p.err, POLLIN, 0};
    while (g->p.err >= 0 && poll(&f, 1, 0) > 0) {
        exec_read_into(&g->p.err, &junk, 1, &over, 0);
        sbuf_reset(&junk);
        f.fd = g->p.err;
    }
    sbuf_free(&junk);
}

/* replied maps a reply line to the job's outcome. A reply that is not a
 * protocol answer for this job means the program lost track: restart it. */
static handler_result
replied(run *k, program *g, size_t linelen, sbuf *err)
{
    handler_ctx *ctx = k->ctx;
    char perr[160];
    answer a;
    handler_result hr;
    int bad = parse_answer(g->out.buf, linelen, &a, perr, sizeof(perr)) < 0;
    if (!bad && (!a.id || strcmp(a.id, ctx->job_id)))
        bad = 1, snprintf(perr, sizeof(perr), "the id is not this job's");
    else if (!bad && (!a.status || (strcmp(a.status, "ok") && strcmp(a.status, "retry") && strcmp(a.status, "fail"))))
        bad = 1, snprintf(perr, sizeof(perr), "status is not ok, retry or fail");
    if (bad) {
        json_free(a.root);
        restart(g, NULL, 0);
        hr = handler_fail(ctx, HANDLER_TRANSIENT, "the handler answered garbage (%s): it was killed and will be restarted", perr);
        if (err->len) exec_explain(ctx, &k->s, err->buf, err->len);
        return hr;
    }
    if (!strcmp(a.status, "ok")) {
        exec_set_result(ctx, a.result, &k->s);
        hr = HANDLER_OK;
    } else {
        hr = handler_fail(ctx, !strcmp(a.status, "retry") ? HANDLER_TRANSIENT : HANDLER_PERMANENT, "handler: %s",
                  !strcmp(a.status, "retry") ? "retry" : "fail");
        if (a.error) exec_explain(ctx, &k->s, a.error, strlen(a.error));
        if (!strcmp(a.status, "retry")) ctx->retry_after_ms = a.retry_after_ms;
    }
    json_free(a.root);
    /* the reply is consumed; anything after it waits for the next job */
    size_t rest = g->out.len - linelen - 1;
    memmove(g->out.buf, g->out.buf + linelen + 1, rest);
    g->out.len = rest;
    return hr;
}

/* count_death counts one more death of the program during ctx's job and
 * returns the total so far (-1: Redis failed). They live in Redis, since
 * every attempt may run in another child or on another host. */
static int
count_death(handler_ctx *ctx)
{
    char key[KEY_MAX], ttl[24];
    rds *r = handler_redis(ctx);
    if (!r) return -1;
    keys_exec_deaths(key, sizeof(key), ctx->world->cfg->prefix, ctx->queue);
    snprintf(ttl, sizeof(ttl), "%d", DEATHS_TTL_MS);
    const char *incr[] = {"HINCRBY", key, ctx->job_id, "1"}, *px[] = {"PEXPIRE", key, ttl};
    size_t il[] = {7, strlen(key), strlen(ctx->job_id), 1}, pl[] = {7, strlen(key), strlen(ttl)};
    rds_reply *x = rds_cmd(r, 4, incr, il);
    int n = rds_reply_ok(r, x) ? (int)rds_reply_int(x) : -1;
    rds_reply_free(x);
    rds_reply_free(rds_cmd(r, 3, px, pl)); /* a hash without expiry costs a few bytes: not worth failing for */
    return n;
}

static void
forget_deaths(handler_ctx *ctx)
{
    char key[KEY_MAX];
    rds *r = handler_redis(ctx);
    if (!r) return;
    keys_exec_deaths(key, sizeof(key), ctx->world->cfg->prefix, ctx->queue);
    const char *del[] = {"HDEL", key, ctx->job_id};
    size_t dl[] = {4, strlen(key), strlen(ctx->job_id)};
    rds_reply_free(rds_cmd(r, 3, del, dl)); /* left behind, it expires */
}

/* died ends an attempt whose program died during the job: transient (the
 * next attempt gets a new program), unless the job has now killed it (or
 * its child) POISON_CRASHES times: a poison pill, dead-lettered at once. */
static handler_result
died(run *k, const char *how_it_ended, const sbuf *err)
{
    handler_ctx *ctx = k->ctx;
    int n = count_death(ctx);
    handler_result hr;
    if (n > 0 && n + ctx->crashes >= POISON_CRASHES) {
        ctx->poison = 1;
        forget_deaths(ctx);
        hr = handler_fail(ctx, HANDLER_PERMANENT,
                          "poison: the handler program died during this job %d time(s)%s (last: %s); not retried", n,
                          ctx->crashes ? " and its worker child crashed too" : "", how_it_ended);
    } else {
        hr = handler_fail(ctx, HANDLER_TRANSIENT, "the handler program died during the job (%s); it will be restarted",
                          how_it_ended);
    }
    if (err->len) exec_explain(ctx, &k->s, err->buf, err->len);
    return hr;
}

static handler_result
persistent(run *k)
{
    handler_ctx *ctx = k->ctx;
    char why[256], h[64];
    sbuf in, err;
    handler_result hr;
    program *g = program_for(k->x);
    if (!g) return handler_fail(ctx, HANDLER_PERMANENT, "more than %d persistent programs in one child", EXEC_PROGRAMS_MAX);
    if (exec_exited(&g->p)) restart(g, NULL, 0); /* it ended between jobs: not this job's fault */
    if (!g->p.pid && exec_spawn(k->x, &g->p, why, sizeof(why)) < 0)
        return handler_fail(ctx, HANDLER_TRANSIENT, "cannot start %s: %s", k->x->argv[0], why);
    drain(g);
    sbuf_init(&in);
    sbuf_init(&err);
    exec_request(ctx, k->timeout_ms, k->max_attempts, k->snapshot, &in);
    sbuf_addc(&in, '\n');
    exec_pump u = {in.buf, in.len, 0, 0, &g->out, 0, 1, &err, clock_mono_ms() + k->timeout_ms, 0};
    int rc = exec_pump_run(&g->p, &u);
    char *nl = rc == EXEC_PUMP_DONE ? memchr(g->out.buf, '\n', g->out.len) : NULL;
    if (nl) {
        hr = replied(k, g, (size_t)(nl - g->out.buf), &err);
    } else if (rc == EXEC_PUMP_EOF) {
        restart(g, h, sizeof(h));
        hr = died(k, h, &err);
    } else if (rc == EXEC_PUMP_TIMEOUT) {
        restart(g, NULL, 0);
        ctx->timed_out = 1;
        hr = handler_fail(ctx, HANDLER_TRANSIENT, "timeout after %lld ms: the handler program was killed and will be restarted",
                  (long long)k->timeout_ms);
    } else if (rc == EXEC_PUMP_OVERSIZE) {
        restart(g, NULL, 0);
        hr = handler_fail(ctx, HANDLER_TRANSIENT, "reply over %d bytes: the handler program was killed and will be restarted",
                  EXEC_OUT_MAX);
    } else {
        restart(g, NULL, 0);
        hr = handler_fail(ctx, HANDLER_TRANSIENT, "talking to the handler program: %s", strerror(errno));
    }
    if (hr == HANDLER_OK && ctx->attempt > 1) forget_deaths(ctx); /* only a retried job can have some */
    explicit_bzero(in.buf, in.len);
    sbuf_free(&in);
    sbuf_free(&err);
    return hr;
}

/* ---- the handler ---- */

static int
max_attempts_of(const handler_ctx *ctx, const svc_action *act)
{
    if (ctx->env->max_attempts > 0) return ctx->env->max_attempts;
    if (act->max_attempts > 0) return act->max_attempts;
    return ENVELOPE_DEFAULT_MAX_ATTEMPTS;
}

/* read_target reads what a mutation's program gets of its target: the
 * snapshot row ("null" when the action is in no resource, the job names no
 * target or there is no row), after the expected_hash check. Under the
 * per-target lock, so the row is the one the mutation starts from. */
static handler_result
read_target(run *k, const svc_service *svc, const svc_resource *res)
{
    handler_ctx *ctx = k->ctx;
    handler_world *w = ctx->world;
    if (ctx->env->kind != KIND_MUTATION) return HANDLER_OK;
    if (!res || !ctx->env->target_id) {
        if (res && ctx->env->expected_hash) /* handler_check_expected says why it cannot hold */
            return handler_check_expected(ctx, &(snap_key){svc->name, res->name, "", ""});
        k->snapshot = xstrdup("null");
        return HANDLER_OK;
    }
    if (!db_alive(w->d) && db_connect(w->d, w->cfg->database_url) < 0) {
        ctx->retry_after_ms = 2000;
        return handler_fail(ctx, HANDLER_DEFER, "PostgreSQL unavailable: %s", w->d->errstr);
    }
    snap_key key = {svc->name, res->name, ctx->env->scope ? ctx->env->scope : "", ctx->env->target_id};
    handler_result hr = handler_check_expected(ctx, &key);
    if (hr != HANDLER_OK) return hr;
    int found = snap_row(w->d, &key, &k->snapshot);
    if (found < 0) return handler_fail(ctx, HANDLER_DEFER, "reading the target's snapshot row: %s", w->d->errstr);
    if (!found) k->snapshot = xstrdup("null");
    return HANDLER_OK;
}

/* guarded runs the program under what every services-file mutation holds:
 * the expected_hash check, the shared rate limit. */
static handler_result
guarded(run *k, const svc_service *svc, const svc_resource *res)
{
    handler_ctx *ctx = k->ctx;
    handler_result hr = read_target(k, svc, res);
    if (hr != HANDLER_OK) return hr;
    int pace = handler_pace(ctx, svc->name, svc->rate_per_s, svc->burst, 1000);
    if (pace != 0) /* over the shared rate limit: wait in the retry set, not in a child */
        return pace > 0 ? handler_fail(ctx, HANDLER_DEFER, "%s rate limit: %lld ms to wait", svc->name,
                               (long long)ctx->retry_after_ms)
                        : handler_fail(ctx, HANDLER_DEFER, "rate limit: Redis unavailable");
    return k->x->mode == EXEC_PERSISTENT ? persistent(k) : per_job(k);
}

static handler_result
h_exec(handler_ctx *ctx)
{
    const svc_service *svc;
    const svc_resource *res;
    const svc_action *act;
    handler_world *w = ctx->world;
    char lock[KEY_MAX + 512];
    if (!w->svc || svc_find_action(w->svc, ctx->env->service, ctx->env->action, &svc, &res, &act) < 0 || !act ||
        act->exec.mode == EXEC_NONE)
        return handler_fail(ctx, HANDLER_PERMANENT, "no exec action %s in the services file", ctx->env->action);
    run k = {ctx, &act->exec, {{0}, 0}, 0, max_attempts_of(ctx, act), NULL};
    k.timeout_ms = ctx->env->timeout_ms ? ctx->env->timeout_ms : act->timeout_ms ? act->timeout_ms : w->cfg->timeout_ms;
    exec_secrets_of(ctx, k.x, &k.s);
    int got = handler_lock(ctx, lock, sizeof(lock));
    if (got <= 0) {
        ctx->retry_after_ms = 500;
        if (got < 0) return handler_fail(ctx, HANDLER_DEFER, "Redis: %s", w->r->errstr);
        return handler_fail(ctx, HANDLER_DEFER, "another mutation of this target is running");
    }
    handler_result hr = guarded(&k, svc, res);
    handler_unlock(ctx, lock);
    free(k.snapshot);
    return hr;
}

static void
register_actions(const svc_service *s, const svc_action *as, int n)
{
    for (int i = 0; i < n; i++)
        if (as[i].exec.mode != EXEC_NONE) handler_register_self_timed(s->name, as[i].name, h_exec);
}

void
exec_handlers_register(const svc_file *svc)
{
    for (int i = 0; i < svc->nservices; i++) {
        const svc_service *s = &svc->services[i];
        register_actions(s, s->actions, s->nactions);
        for (int r = 0; r < s->nresources; r++) register_actions(s, s->resources[r].actions, s->resources[r].nactions);
    }
}

