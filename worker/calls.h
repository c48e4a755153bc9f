/* calls.h - the lanes of a child that runs several jobs at once
 * (SYNCQ_CHILD_CALLS, docs/DESIGN.md §3): per lane a fiber, an HTTP client
 * whose transfers run in the child's one curl multi handle, and the
 * handler_world and job_ctx its jobs see. The child's loop (child.c) decides
 * what runs; this file only keeps the lanes moving. */
#ifndef SYNCQ_CALLS_H
#define SYNCQ_CALLS_H

#include "fiber.h"
#include "http.h"
#include "worker.h"

typedef struct call_lane {
    fiber *fb;
    http_client http;
    handler_world world; /* the child's, with this lane's http */
    job_ctx ctx;         /* the child's, with this lane's world */
} call_lane;

typedef struct calls {
    int n;          /* lanes */
    int alone;      /* a job that must run by itself (not handler_concurrent) is running */
    int want_alone; /* one was handed back because others ran: fetch one job once they are done */
    http_multi *multi;
    call_lane lane[CONFIG_MAX_CALLS];
} calls;

/* calls_init makes n lanes after fork; -1 when a stack, a curl handle or
 * the multi cannot be made (calls_close frees what was). */
int calls_init(calls *k, int n, const handler_world *w, const job_ctx *c);
void calls_close(calls *k);
/* calls_idle returns the index of a lane with nothing to run, -1 when none. */
int calls_idle(const calls *k);
int calls_busy(const calls *k);
/* calls_start makes lane i run fn(arg) at the next calls_run. */
void calls_start(calls *k, int i, fiber_fn fn, void *arg);
/* calls_run moves the transfers on, waiting up to wait_ms when no lane can
 * go on at once (never past a nap's end; wake_fd readable ends the wait
 * too, -1: none), then resumes every lane that can:
 * each after sync(arg) returned 0, so a lane never finds a reply owed on the
 * Redis connection it shares (-1 from sync is returned at once). Returns
 * how many lanes finished their fn, or -1. */
int calls_run(calls *k, int wait_ms, int wake_fd, int (*sync)(void *), void *arg);

#endif
