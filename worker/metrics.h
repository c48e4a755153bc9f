/* metrics.h - what the master serves on SYNCQ_METRICS_ADDR:
 *   metrics_http.c  a tiny non-blocking HTTP/1.0 responder polled from the
 *                   master's poll() loop: no thread, no library
 *   metrics.c       the /metrics exposition (Prometheus text 0.0.4)
 * The listener is opened by the master and closed in every child right
 * after fork (docs/DESIGN.md §10: no server state crosses a fork). */
#ifndef SYNCQ_METRICS_H
#define SYNCQ_METRICS_H

#include <poll.h>   /* for struct pollfd */
#include <stddef.h> /* for size_t */
#include <stdint.h> /* for int64_t, uint64_t */

#include "config.h"
#include "rds.h"
#include "sbuf.h"
#include "stats.h"

/* ---- metrics_http.c ---- */

#define MHTTP_CONNS 64          /* connections held at once; a new one evicts the oldest unanswered */
#define MHTTP_REQUEST_MAX 4096  /* request line and headers */
#define MHTTP_HEADER_MS 1000    /* from accept to the end of the request headers */
#define MHTTP_DEADLINE_MS 2000  /* from accept to the last byte sent */

typedef struct mhttp_conn {
    int fd;                     /* -1 when free */
    int64_t accepted_ms;        /* the header and answer deadlines count from here */
    uint64_t seq;               /* accept order: the lowest unanswered one is evicted first */
    char req[MHTTP_REQUEST_MAX];
    size_t got;
    sbuf out;                   /* the response, once the request is in */
    size_t sent;
    int answering;
} mhttp_conn;

typedef struct mhttp {
    int lfd;                    /* listener, -1 when off */
    char bound[160];            /* host:port actually bound (port 0 resolved) */
    uint64_t accepts;           /* connections accepted so far (the next seq) */
    mhttp_conn c[MHTTP_CONNS];
} mhttp;

/* A handler fills body and returns the status (200, 404, 503...); *ctype
 * may be set (default text/plain). */
typedef int (*mhttp_handler)(void *ctx, const char *path, sbuf *body, const char **ctype);

void mhttp_init(mhttp *h);
/* mhttp_open listens on addr (config_parse_listen form), non-blocking.
 * 0, or -1 with err. */
int mhttp_open(mhttp *h, const char *addr, char *err, size_t errlen);
/* mhttp_pollfds fills at most max entries for poll(); returns how many. */
int mhttp_pollfds(const mhttp *h, struct pollfd *p, int max);
/* mhttp_serve accepts, reads, answers and closes as the poll results in p
 * (n entries, from mhttp_pollfds) allow, and drops connections past their
 * deadlines (MHTTP_HEADER_MS for the request, MHTTP_DEADLINE_MS in all).
 * With every slot taken, a new connection evicts the oldest one still
 * sending its request, so idle clients cannot starve a health check.
 * Never blocks. */
void mhttp_serve(mhttp *h, const struct pollfd *p, int n, int64_t now_ms, mhttp_handler fn, void *ctx);
void mhttp_close(mhttp *h);
/* mhttp_forget closes every descriptor in a child after fork. */
void mhttp_forget(mhttp *h);

/* ---- metrics.c ---- */

#define METRICS_SIGNALS 65

/* What the master counts itself. */
typedef struct metrics_counters {
    uint64_t restarts;                    /* children replaced */
    uint64_t crashes[METRICS_SIGNALS];    /* children killed by a signal the master did not send, by signal */
    uint64_t timeouts;                    /* children killed past a job's deadline */
    uint64_t redis_reconnects_master;     /* the master's connection re-established */
    uint64_t redis_reconnects_children;   /* children respawned after losing Redis */
    stats_totals reaped;                  /* the tables of reaped children */
} metrics_counters;

/* The master's state, as the exposition needs it. */
typedef struct metrics_src {
    const config *cfg;
    rds *r;                   /* the master's connection; NULL when down */
    const metrics_counters *mc;
    stats_table *const *tables; /* live children's tables (and the writer's) */
    int ntables;
    int children, children_alive, writer_alive;
} metrics_src;

/* metrics_render appends the exposition of src to b. Queue gauges are read
 * from Redis with cheap commands; when that fails they are left out and
 * syncq_redis_up is 0. Returns 0, or -1 when Redis failed (r->errstr). */
int metrics_render(const metrics_src *src, sbuf *b);

#endif
