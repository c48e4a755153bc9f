/* calls.c - the lanes of a child that runs several jobs at once (calls.h).
 * A lane's job parks in http_do while its transfer runs in the multi
 * handle, or in fiber_nap_us; calls_run polls the multi once for all of
 * them and resumes whoever can go on. */
#include "fmacros.h"
#include "calls.h"

#include <string.h>

/* park is the lanes' http_client park: wait in the fiber until the multi
 * ends the transfer. */
static void
park(volatile int *done)
{
    fiber_wait(done);
}

int
calls_init(calls *k, int n, const handler_world *w, const job_ctx *c)
{
    memset(k, 0, sizeof(*k));
    k->multi = http_multi_new();
    if (!k->multi) return -1;
    for (int i = 0; i < n; i++) {
        call_lane *l = &k->lane[i];
        l->fb = fiber_new(FIBER_STACK);
        if (!l->fb || http_init(&l->http) < 0) return -1;
        k->n = i + 1;
        http_attach(&l->http, k->multi, park);
        l->world = *w;
        l->world.http = &l->http;
        l->ctx = *c;
        l->ctx.world = &l->world;
        l->ctx.rng ^= (uint64_t)(i + 1) * 0xD1B54A32D192ED03ull; /* lanes draw their own jitter */
    }
    return 0;
}

void
calls_close(calls *k)
{
    for (int i = 0; i < CONFIG_MAX_CALLS; i++) {
        call_lane *l = &k->lane[i];
        http_close(&l->http); /* out of the multi first */
        fiber_free(l->fb);
        l->fb = NULL;
    }
    http_multi_free(k->multi);
    k->multi = NULL;
    k->n = 0;
}

int
calls_idle(const calls *k)
{
    for (int i = 0; i < k->n; i++)
        if (!fiber_busy(k->lane[i].fb)) return i;
    return -1;
}

int
calls_busy(const calls *k)
{
    int n = 0;
    for (int i = 0; i < k->n; i++) n += fiber_busy(k->lane[i].fb);
    return n;
}

void
calls_start(calls *k, int i, fiber_fn fn, void *arg)
{
    (void)fiber_start(k->lane[i].fb, fn, arg); /* i came from calls_idle */
}

/* wait_for bounds the poll: not at all when a lane can go on, never past
 * the earliest nap's end. */
static int
wait_for(const calls *k, int wait_ms)
{
    int64_t now = fiber_now_us(), wake = INT64_MAX;
    for (int i = 0; i < k->n; i++) {
        if (fiber_ready(k->lane[i].fb, now)) return 0;
        int64_t w = fiber_wake_at(k->lane[i].fb);
        if (w < wake) wake = w;
    }
    if (wake != INT64_MAX && (wake - now + 999) / 1000 < wait_ms) wait_ms = (int)((wake - now + 999) / 1000);
    return wait_ms;
}

int
calls_run(calls *k, int wait_ms, int wake_fd, int (*sync)(void *), void *arg)
{
    int ended = 0;
    if (http_multi_run(k->multi, wait_for(k, wait_ms), wake_fd) < 0) return -1;
    int64_t now = fiber_now_us();
    for (int i = 0; i < k->n; i++) {
        fiber *fb = k->lane[i].fb;
        if (!fiber_ready(fb, now)) continue;
        if (sync(arg) < 0) return -1;
        fiber_resume(fb);
        ended += !fiber_busy(fb);
    }
    return ended;
}
