/* handler.c - the handler registry, keyed by (service, action), and the
 * built-in syncq/... handlers used by the demo, the tests and the benchmark. */
#include "fmacros.h"
#include "db.h"
#include "funcs.h"
#include "snapshot.h"
#include "worker.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HANDLER_MAX 256

#define SELF_TIMED_SLACK_MS 2000 /* the master's backstop after a self-timed handler's own deadline */

typedef struct entry {
    char *service, *action;
    handler_fn fn;
    int self_timed;
} entry;

static entry table[HANDLER_MAX];
static int ntable;

static void
put(const char *service, const char *action, handler_fn fn, int self_timed)
{
    for (int i = 0; i < ntable; i++) {
        if (!strcmp(table[i].service, service) && !strcmp(table[i].action, action)) {
            table[i].fn = fn;
            table[i].self_timed = self_timed;
            return;
        }
    }
    if (ntable == HANDLER_MAX) abort(); /* a programming error, not an input */
    table[ntable].service = xstrdup(service);
    table[ntable].action = xstrdup(action);
    table[ntable].fn = fn;
    table[ntable].self_timed = self_timed;
    ntable++;
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
    for (int i = 0; i < ntable; i++)
        if (!strcmp(table[i].service, service) && !strcmp(table[i].action, action))
            return table[i].self_timed ? SELF_TIMED_SLACK_MS : 0;
    return 0;
}

void
handler_register_services(const struct svc_file *svc)
{
    http_handlers_register(svc);
    sync_handlers_register(svc);
    exec_sync_register(svc);
    exec_handlers_register(svc);
}

handler_fn
handler_find(const char *service, const char *action)
{
    for (int i = 0; i < ntable; i++)
        if (!strcmp(table[i].service, service) && !strcmp(table[i].action, action)) return table[i].fn;
    return NULL;
}

void
handler_clear(void)
{
    for (int i = 0; i < ntable; i++) {
        free(table[i].service);
        free(table[i].action);
    }
    ntable = 0;
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
    char key[KEY_MAX], rate[32], b[16];
    if (per_second <= 0) return 0;
    rds *r = handler_redis(ctx);
    if (!r) return -1;
    snprintf(key, sizeof(key), "%s:rl:%s", ctx->world->cfg->prefix, service);
    snprintf(rate, sizeof(rate), "%.6g", per_second);
    snprintf(b, sizeof(b), "%d", burst > 0 ? burst : 1);
    const char *keys[] = {key};
    const char *args[] = {rate, b};
    rds_reply *x = funcs_call(r, "syncq_ratelimit", 1, keys, 2, args, NULL);
    int64_t wait = rds_reply_ok(r, x) ? rds_reply_int(x) : -1;
    rds_reply_free(x);
    return wait;
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
            struct timespec ts = {0, 10 * 1000000L};
            while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
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
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
    snprintf(key, keylen, "%s:{%s}:lock:%s:%s:%s", ctx->world->cfg->prefix, ctx->queue, e->service,
             e->scope ? e->scope : "", e->target_id ? e->target_id : "");
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
    const char *keys[] = {key};
    const char *args[] = {ctx->job_id};
    rds *r = handler_redis(ctx);
    if (r) rds_reply_free(funcs_call(r, "syncq_unlock", 1, keys, 1, args, NULL));
}

const char *
handler_idempotency_key(const handler_ctx *ctx)
{
    return ctx->env->idempotency_key ? ctx->env->idempotency_key : ctx->root_id ? ctx->root_id : ctx->job_id;
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

/* ---- built-ins ---- */

static handler_result
h_noop(handler_ctx *ctx)
{
    (void)ctx;
    return HANDLER_OK;
}

/* h_sleep sleeps payload.ms in 10 ms steps so an abort order ends it early. */
static handler_result
h_sleep(handler_ctx *ctx)
{
    const json *ms = json_get(ctx->env->payload, "ms");
    double total = json_typeof(ms) == JSON_NUMBER ? json_num(ms) : 0;
    if (total < 0 || total > 86400000.0) {
        snprintf(ctx->error, sizeof(ctx->error), "payload.ms must be in 0..86400000");
        return HANDLER_PERMANENT;
    }
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        double done = (double)(now.tv_sec - t0.tv_sec) * 1000.0 + (double)(now.tv_nsec - t0.tv_nsec) / 1e6;
        if (done >= total) break;
        if (ctx->stop && *ctx->stop) {
            snprintf(ctx->error, sizeof(ctx->error), "aborted after %.0f ms", done);
            return HANDLER_TRANSIENT;
        }
        double left = total - done < 10 ? total - done : 10;
        struct timespec ts = {0, (long)(left * 1e6)};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
    }
    sbuf_printf(&ctx->result, "{\"slept_ms\":%.0f}", total);
    return HANDLER_OK;
}

static handler_result
h_fail(handler_ctx *ctx)
{
    const json *p = json_get(ctx->env->payload, "permanent");
    int permanent = json_typeof(p) == JSON_TRUE;
    const char *msg = json_str(json_get(ctx->env->payload, "message"));
    snprintf(ctx->error, sizeof(ctx->error), "%s failure requested%s%s", permanent ? "permanent" : "transient",
             msg ? ": " : "", msg ? msg : "");
    return permanent ? HANDLER_PERMANENT : HANDLER_TRANSIENT;
}

/* h_flaky fails transiently on its first payload.fail_times attempts. */
static handler_result
h_flaky(handler_ctx *ctx)
{
    const json *n = json_get(ctx->env->payload, "fail_times");
    double times = json_typeof(n) == JSON_NUMBER ? json_num(n) : 1;
    if (ctx->attempt <= times) {
        snprintf(ctx->error, sizeof(ctx->error), "flaky: attempt %d of the %.0f that fail", ctx->attempt, times);
        return HANDLER_TRANSIENT;
    }
    sbuf_printf(&ctx->result, "{\"attempt\":%d}", ctx->attempt);
    return HANDLER_OK;
}

static handler_result
h_crash(handler_ctx *ctx)
{
    (void)ctx;
    abort(); /* on purpose: the crash test and the poison-pill path */
}

void
handler_register_builtins(void)
{
    handler_register("syncq", "noop", h_noop);
    handler_register("syncq", "sleep", h_sleep);
    handler_register("syncq", "fail", h_fail);
    handler_register("syncq", "flaky", h_flaky);
    handler_register("syncq", "crash", h_crash);
}
