/* cli_ops.h - what the operator commands share (`syncq stats`, `health`,
 * `check`, `jobs`, `prune`): connecting with a clear message that names the
 * server (password masked, url_redact), durations, and the Redis and
 * PostgreSQL readings that several commands print or judge. */
#ifndef SYNCQ_CLI_OPS_H
#define SYNCQ_CLI_OPS_H

#include <stddef.h> /* for size_t */
#include <stdint.h> /* for int64_t */

#include "cli.h"
#include "db.h"
#include "qstat.h"
#include "rds.h"
#include "sbuf.h"

/* ops_redis connects r; on failure prints "syncq CMD: cannot reach Redis at
 * URL (password masked): why" and returns EX_UNAVAILABLE_. 0 on success. */
int ops_redis(rds *r, const config *cfg, const char *cmd);
/* ops_db does the same for PostgreSQL; quiet = 1 leaves the message in
 * d->errstr (prefixed the same way) without printing it. */
int ops_db(db *d, const config *cfg, const char *cmd, int quiet);

/* ops_duration parses a duration flag ("90s", "1h", "7d"); on failure prints
 * "syncq CMD: bad duration "X" for --OPT" and returns -1. */
int ops_duration(const char *s, int64_t *ms, const char *cmd, const char *opt);
/* ops_fmt_ms writes a duration for people: "850ms", "4.2s", "3m12s", "2h05m",
 * "3d04h"; "-" for a negative value. Returns buf. */
char *ops_fmt_ms(int64_t ms, char *buf, size_t len);

/* The Redis side of the fleet: every queue's state and the live workers. */
typedef struct ops_worker {
    char *wid, *role;  /* owned */
    int64_t age_ms;    /* since the last heartbeat: TTL setting - PTTL */
    long long jobs;    /* in-flight entries over every queue */
} ops_worker;

typedef struct ops_fleet {
    int64_t now_ms;    /* Redis TIME */
    qstat *q;          /* owned, nq of them */
    int nq;
    ops_worker *w;     /* owned, nw of them, by id */
    int nw;
} ops_fleet;

/* ops_fleet_read reads every queue (qstat_queue_names) and every worker in
 * P:workers whose heartbeat is alive. 0, or -1 with r->errstr. */
int ops_fleet_read(rds *r, const config *cfg, ops_fleet *f);
void ops_fleet_free(ops_fleet *f);

/* Throughput over a recent window, from the audit tables. */
typedef struct ops_recent {
    long long finished, success, dead, conflict, superseded; /* jobs that ended in the window */
    long long failed_attempts;                                /* events attempt|lost|dead in the window */
} ops_recent;

/* Windows ("the last minute", --window) end at end_ms, Redis TIME: the clock
 * every audit time is stamped with (README "Audit times"), so a window holds
 * exactly the rows stamped in it whatever the clocks of the workers, the
 * PostgreSQL host and this one say. end_ms < 0 (Redis could not be read)
 * ends them at PostgreSQL's now() instead.
 * OPS_IN_WINDOW(col) is the SQL test for a window of $1 ms ending at $2. */
#define OPS_WINDOW_END "COALESCE(timestamptz 'epoch' + $2::bigint * interval '1 millisecond', now())"
#define OPS_IN_WINDOW(col) \
    "(" col " >= " OPS_WINDOW_END " - $1::bigint * interval '1 millisecond' AND " col " <= " OPS_WINDOW_END ")"

/* ops_window_params fills params[0..1] for OPS_IN_WINDOW, in buffers the
 * caller owns (32 bytes each). */
void ops_window_params(int64_t window_ms, int64_t end_ms, char *wbuf, char *ebuf, const char *params[2]);
/* ops_redis_now reads Redis TIME for a window's end, quietly: -1 when Redis
 * cannot be reached (the window then ends at PostgreSQL's now()). */
int64_t ops_redis_now(const config *cfg);

/* ops_recent_read counts the window_ms before end_ms. 0, or -1 with d->errstr. */
int ops_recent_read(db *d, int64_t window_ms, int64_t end_ms, ops_recent *out);

/* Outcomes per (service, action) of the jobs that finished (success, dead
 * or conflict; superseded jobs are neither) in a window, and over all of
 * them (the total row). first_ok: successes on their first attempt.
 * Percentiles of duration_ms (the last attempt of each job) come from
 * PostgreSQL's percentile_cont: continuous, interpolated between rows. */
typedef struct ops_rate {
    char service[64], action[64];  /* "" in the total row */
    int total;                     /* 1: the row over every service and action */
    long long finished, success, first_ok, dead, conflict;
    double p50_ms, p95_ms;         /* -1 when no job has a duration */
} ops_rate;

/* ops_rates_read fills *out (malloc'd, *n rows: per pair by name, then the
 * total row last) for the window_ms before end_ms. 0, or -1 with d->errstr. */
int ops_rates_read(db *d, int64_t window_ms, int64_t end_ms, ops_rate **out, int *n);
/* ops_ratio returns part / whole, 0 when whole is 0. */
double ops_ratio(long long part, long long whole);

/* ops_json_ms appends ,"key":ms (null when negative). */
void ops_json_ms(sbuf *b, const char *key, int64_t ms);
void ops_json_int(sbuf *b, const char *key, long long v);

#endif
