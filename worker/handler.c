/* handler.c - the handler registry, keyed by (service, action), and the
 * built-in syncq/... handlers used by the demo, the tests and the benchmark. */
#include "fmacros.h"
#include "funcs.h"
#include "worker.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HANDLER_MAX 256

typedef struct entry {
    char *service, *action;
    handler_fn fn;
} entry;

static entry table[HANDLER_MAX];
static int ntable;

void
handler_register(const char *service, const char *action, handler_fn fn)
{
    for (int i = 0; i < ntable; i++) {
        if (!strcmp(table[i].service, service) && !strcmp(table[i].action, action)) {
            table[i].fn = fn;
            return;
        }
    }
    if (ntable == HANDLER_MAX) abort(); /* a programming error, not an input */
    table[ntable].service = xstrdup(service);
    table[ntable].action = xstrdup(action);
    table[ntable].fn = fn;
    ntable++;
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
