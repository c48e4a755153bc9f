/* handler.c - the handler registry, keyed by (service, action): the one
 * syncq_registry (syncq/handler.h) through which the built-ins, the
 * services file's actions and the plugins' handlers register; the dispatch
 * of an attempt; and what every services-file mutation holds (locks, rate
 * limits, the expected_hash check). */
#include "fmacros.h"
#include "clock.h"
#include "audit.h"
#include "db.h"
#include "mask.h"
#include "record.h"
#include "fiber.h"
#include "snapshot.h"
#include "worker.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HANDLER_MAX 256

#define SELF_TIMED_SLACK_MS 2000 /* the master's backstop after a self-timed handler's own deadline */

/* One registered handler. Every handler has the public signature
 * (syncq/handler.h); the built-ins that work on the child's handler_ctx are
 * registered as run_internal with their function in data. */
struct handler_entry {
    char *service, *action;
    syncq_handler_fn fn;
    void *data;
    int self_timed;  /* enforces the job's timeout itself (exec) */
    int plugin;      /* from a plugin: the dispatch takes the per-target lock */
    int concurrent;  /* may run beside other jobs of its child (handler_register_concurrent) */
};

typedef struct internal_fn {
    handler_fn fn;
} internal_fn;

static handler_entry table[HANDLER_MAX];
static int ntable;

static syncq_outcome
run_internal(const syncq_job *jv)
{
    handler_ctx *ctx = handler_ctx_of(jv);
    handler_result hr = ((const internal_fn *)jv->data)->fn(ctx);
    syncq_outcome o = {(syncq_outcome_kind)hr, NULL, NULL, ctx->retry_after_ms};
    return o;
}

/* valid_part: a service or action name (docs/HANDLERS.md, "C plugins") */
static int
valid_part(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 63) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_-.", *s)) return 0;
    return 1;
}

static void
free_data(handler_entry *e)
{
    if (e->fn == run_internal) free(e->data);
}

typedef struct reg_state {
    int plugin;
    char why[256];
} reg_state;

/* reg_add is the registry's add (syncq/handler.h): every handler, built-in
 * or a plugin's, is registered here. */
static int
reg_add(syncq_registry *reg, const char *service, const char *action, syncq_handler_fn fn, void *data)
{
    reg_state *st = reg->internal;
    if (!valid_part(service) || !valid_part(action) || !fn) {
        snprintf(st->why, sizeof(st->why), "add(\"%s\", \"%s\"): names are 1 to 63 letters, digits, _ - . and fn is required",
                 service ? service : "(null)", action ? action : "(null)");
        return -1;
    }
    if (st->plugin && !strcmp(service, "syncq")) {
        snprintf(st->why, sizeof(st->why), "add(\"syncq\", \"%s\"): the service name syncq is the built-ins'", action);
        return -1;
    }
    handler_entry *e = NULL;
    for (int i = 0; i < ntable && !e; i++)
        if (!strcmp(table[i].service, service) && !strcmp(table[i].action, action)) e = &table[i];
    if (e) {
        free_data(e);
    } else {
        if (ntable == HANDLER_MAX) {
            snprintf(st->why, sizeof(st->why), "more than %d handlers", HANDLER_MAX);
            return -1;
        }
        e = &table[ntable++];
        e->service = xstrdup(service);
        e->action = xstrdup(action);
    }
    e->fn = fn;
    e->data = data;
    e->self_timed = 0;
    e->concurrent = 0;
    e->plugin = st->plugin;
    return 0;
}

static void
reg_fail(syncq_registry *reg, const char *why)
{
    reg_state *st = reg->internal;
    snprintf(st->why, sizeof(st->why), "%s", why ? why : "");
}

static reg_state builtin_state = {0, ""}, plugin_state = {1, ""};
static syncq_registry builtin_registry = {SYNCQ_HANDLER_ABI, reg_add, reg_fail, &builtin_state};
static syncq_registry plugin_registry = {SYNCQ_HANDLER_ABI, reg_add, reg_fail, &plugin_state};

syncq_registry *
handler_registry(int plugin)
{
    return plugin ? &plugin_registry : &builtin_registry;
}

const char *
handler_registry_error(const syncq_registry *reg)
{
    return ((const reg_state *)reg->internal)->why;
}

static void
put(const char *service, const char *action, handler_fn fn, int self_timed)
{
    internal_fn *box = xmalloc(sizeof(*box));
    box->fn = fn;
    if (builtin_registry.add(&builtin_registry, service, action, run_internal, box) < 0) abort(); /* our own names */
    handler_entry *e = (handler_entry *)handler_find(service, action);
    e->self_timed = self_timed;
}

void
handler_register(const char *service, const char *action, handler_fn fn)
{
    put(service, action, fn, 0);
}

void
handler_register_self_timed(const char *service, const char *action, handler_fn fn)
{
    put(service, action, fn, 1);
}

int64_t
handler_deadline_slack_ms(const char *service, const char *action)
{
    const handler_entry *e = handler_find(service, action);
    return e && e->self_timed ? SELF_TIMED_SLACK_MS : 0;
}

void
handler_register_concurrent(const char *service, const char *action, handler_fn fn)
{
    put(service, action, fn, 0);
    ((handler_entry *)handler_find(service, action))->concurrent = 1;
}

void
handler_mark_concurrent(const char *service, const char *action)
{
    handler_entry *e = (handler_entry *)handler_find(service, action);
    if (e && !e->plugin) e->concurrent = 1;
}

int
handler_concurrent(const handler_entry *e)
{
    return e && e->concurrent;
}

const handler_entry *
handler_find(const char *service, const char *action)
{
    for (int i = 0; i < ntable; i++)
        if (!strcmp(table[i].service, service) && !strcmp(table[i].action, action)) return &table[i];
    return NULL;
}

void
handler_clear(void)
{
    for (int i = 0; i < ntable; i++) {
        free(table[i].service);
        free(table[i].action);
        free_data(&table[i]);
    }
    ntable = 0;
}

/* handler_call runs one attempt: through the job view (handler_view.c); a
 * plugin's mutation holds the per-target lock like a services-file action. */
handler_result
handler_call(const handler_entry *e, handler_ctx *ctx)
{
    char lock[KEY_MAX + 512];
    int internal = e->fn == run_internal, locked = 0;
    if (e->plugin && ctx->env->kind == KIND_MUTATION) {
        int got = handler_lock(ctx, lock, sizeof(lock));
        if (got <= 0) {
            ctx->retry_after_ms = 500;
            if (got < 0) return handler_fail(ctx, HANDLER_DEFER, "Redis: %s", ctx->world->r->errstr);
            return handler_fail(ctx, HANDLER_DEFER, "another mutation of this target is running");
        }
        locked = 1;
    }
    handler_view *v = handler_view_open(ctx, e->data, !internal);
    syncq_outcome o = e->fn(handler_view_job(v));
    handler_result hr = internal ? (handler_result)o.kind : handler_view_outcome(v, &o);
    handler_view_close(v);
    if (locked) handler_unlock(ctx, lock);
    return hr;
}

handler_result
handler_fail(handler_ctx *ctx, handler_result hr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
    va_end(ap);
    return hr;
}

rds *
handler_redis(handler_ctx *ctx)
{
    handler_world *w = ctx->world;
    if (w->f && fetch_sync(w->f) < 0) return NULL;
    return w->r;
}

int64_t
handler_rate(handler_ctx *ctx, const char *service, double per_second, int burst)
{
    char key[KEY_MAX];
    if (per_second <= 0) return 0;
    rds *r = handler_redis(ctx);
    if (!r) return -1;
    keys_ratelimit(key, sizeof(key), ctx->world->cfg->prefix, service);
    return queue_ratelimit(r, key, per_second, burst);
}

int
handler_pace(handler_ctx *ctx, const char *service, double per_second, int burst, int64_t max_wait_ms)
{
    for (;;) {
        int64_t wait = handler_rate(ctx, service, per_second, burst);
        if (wait <= 0) return (int)wait; /* 0 go, -1 Redis failed */
        if (wait > max_wait_ms) {
            ctx->retry_after_ms = wait;
            return 1;
        }
        for (int64_t slept = 0; slept < wait; slept += 10) { /* short naps: an abort order ends them */
            if (ctx->stop && *ctx->stop) return -1;
            fiber_nap_us(10000); /* beside other jobs of the child: they go on meanwhile */
        }
    }
}

/* ---- which handlers this child has, for `syncq status` ---- */

#define PUBLISH_EVERY_MS 60000
#define PUBLISH_TTL_MS 600000 /* a queue no child reads any more forgets them */

int
handler_publish(rds *r, const config *cfg, int force)
{
    static int64_t last;
    int64_t now = clock_wall_ms(); /* compared by `syncq status` on another host */
    if (!force && now - last < PUBLISH_EVERY_MS) return 0;
    last = now;
    char stamp[24];
    snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
    int argc = 2 + 2 * ntable, rc = 0;
    const char **argv = xcalloc((size_t)argc, sizeof(char *));
    size_t *lens = xcalloc((size_t)argc, sizeof(size_t));
    char (*fields)[2 * 64 + 2] = xcalloc((size_t)ntable + 1, sizeof(*fields));
    for (int i = 0; i < ntable; i++) snprintf(fields[i], sizeof(fields[i]), "%s/%s", table[i].service, table[i].action);
    for (int q = 0; q < cfg->nqueues && rc == 0 && ntable; q++) {
        qkeys k;
        keys_queue(&k, cfg->prefix, cfg->queues[q].name, NULL);
        argv[0] = "HSET", argv[1] = k.handlers;
        for (int i = 0; i < ntable; i++) argv[2 + 2 * i] = fields[i], argv[3 + 2 * i] = stamp;
        for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
        rds_reply *x = rds_cmd(r, argc, argv, lens);
        rc = rds_reply_ok(r, x) ? 0 : -1;
        rds_reply_free(x);
        if (rc == 0) rds_reply_free(rds_cmdf(r, "PEXPIRE %s %d", k.handlers, PUBLISH_TTL_MS));
    }
    free(fields);
    free(lens);
    free(argv);
    return rc;
}

/* ---- what every services-file mutation holds and checks ---- */

#define LOCK_MARGIN_MS 30000 /* a lock outlives the attempt's timeout by this much */

/* lock_inherit takes over a lock that holds our own job id: an earlier
 * delivery of this job took it and lost its lease. That delivery has stopped
 * before this one could start (docs/LEASES.md), so waiting for the lock to
 * expire (the timeout plus LOCK_MARGIN_MS) would only strand the job. 1 ours
 * now, 0 another job's, -1 Redis. */
static int
lock_inherit(handler_ctx *ctx, rds *r, const char *key, const char *px)
{
    rds_reply *x = rds_cmdf(r, "GET %s", key);
    int rc = !rds_reply_ok(r, x) ? -1 : rds_reply_type(x) == RDS_STR && !strcmp(rds_reply_str(x, NULL), ctx->job_id);
    rds_reply_free(x);
    if (rc == 1) {
        x = rds_cmdf(r, "PEXPIRE %s %s", key, px);
        if (!rds_reply_ok(r, x)) rc = -1;
        rds_reply_free(x);
    }
    return rc;
}

int
handler_lock(handler_ctx *ctx, char *key, size_t keylen)
{
    const envelope *e = ctx->env;
    char px[24];
    int64_t timeout = e->timeout_ms ? e->timeout_ms : ctx->world->cfg->timeout_ms;
    if (!e->target_id || !*e->target_id) { /* no object to serialize on: a call, a create the service names */
        key[0] = '\0';
        return 1;
    }
    keys_lock(key, keylen, ctx->world->cfg->prefix, ctx->queue, e->service, e->scope, e->target_id);
    snprintf(px, sizeof(px), "%lld", (long long)(timeout + LOCK_MARGIN_MS));
    const char *argv[] = {"SET", key, ctx->job_id, "NX", "PX", px};
    size_t lens[] = {3, strlen(key), strlen(ctx->job_id), 2, 2, strlen(px)};
    rds *r = handler_redis(ctx);
    if (!r) return -1;
    rds_reply *x = rds_cmd(r, 6, argv, lens);
    int rc = !rds_reply_ok(r, x) ? -1 : rds_reply_type(x) == RDS_STATUS ? 1 : 0;
    rds_reply_free(x);
    if (rc == 0) rc = lock_inherit(ctx, r, key, px);
    return rc;
}

void
handler_unlock(handler_ctx *ctx, const char *key)
{
    if (!*key) return; /* handler_lock took none */
    rds *r = handler_redis(ctx);
    if (r) (void)queue_unlock(r, key, ctx->job_id); /* if it fails, the lock's lease ends it */
}

const char *
handler_idempotency_key(const handler_ctx *ctx)
{
    return ctx->env->idempotency_key ? ctx->env->idempotency_key : ctx->root_id ? ctx->root_id : ctx->job_id;
}

void
handler_outcome_init(handler_ctx *ctx, audit_outcome *o, const char *status)
{
    int64_t now_us = -1;
    rds *r = handler_redis(ctx);
    if (r && rds_time_us(r, &now_us) < 0) now_us = -1; /* the record's step stamps its own */
    free(ctx->outcome_result);
    ctx->outcome_result = ctx->result.len ? mask_job_result(ctx->result.buf) : NULL;
    *o = (audit_outcome){ctx->job_id, ctx->queue, status, ctx->outcome_result, ctx->attempt,
                         record_rev(ctx->attempt, REC_TERMINAL), ctx->worker, now_us,
                         ctx->started_ms > 0 ? clock_wall_ms() - ctx->started_ms : -1};
}

void
handler_outcome_written(handler_ctx *ctx, const audit_outcome *o)
{
    if (o->finished_us <= 0) return;
    ctx->ended_us = o->finished_us;
    ctx->ended_duration_ms = o->duration_ms;
}

handler_result
handler_check_expected(handler_ctx *ctx, const snap_key *key)
{
    char have[64] = "";
    if (!ctx->env->expected_hash) return HANDLER_OK;
    if (!ctx->env->target_id) {
        snprintf(ctx->error, sizeof(ctx->error), "expected_hash needs a target_id");
        return HANDLER_PERMANENT;
    }
    int found = snap_hash(ctx->world->d, key, have, sizeof(have));
    if (found < 0) {
        snprintf(ctx->error, sizeof(ctx->error), "PostgreSQL: %s", ctx->world->d->errstr);
        return HANDLER_DEFER;
    }
    if (found && !strcmp(have, ctx->env->expected_hash)) return HANDLER_OK;
    snprintf(ctx->error, sizeof(ctx->error), "expected hash %s, the snapshot has %s; the service was not called",
             ctx->env->expected_hash, found ? have : "no row");
    return HANDLER_CONFLICT;
}
