/* cli_ops.h - what the operator commands share (`syncq stats`, `health`,
 * `check`, `jobs`, `prune`): connecting with a clear message that names the
 * server (password masked, url_redact), durations, and the Redis readings
 * that several commands print or judge (the audit's are audit.h's). */
#ifndef SYNCQ_CLI_OPS_H
#define SYNCQ_CLI_OPS_H

#include <stddef.h> /* for size_t */
#include <stdint.h> /* for int64_t */

#include "audit.h" /* audit_recent, audit_rate: what ops commands read from the audit */
#include "cli.h"
#include "db.h"
#include "qstat.h"
#include "rds.h"
#include "sbuf.h"

/* ops_redis connects r; on failure prints "syncq CMD: cannot reach Redis at
 * URL (password masked): why" and returns SYNCQ_EX_UNAVAILABLE. 0 on success. */
int ops_redis(rds *r, const config *cfg, const char *cmd);
/* ops_db does the same for PostgreSQL; quiet = 1 leaves the message in
 * d->errstr (prefixed the same way) without printing it. */
int ops_db(db *d, const config *cfg, const char *cmd, int quiet);

/* ops_duration parses a duration flag ("90s", "1h", "7d"); on failure prints
 * "syncq CMD: bad duration "X" for --OPT" and returns -1. */
int ops_duration(const char *s, int64_t *ms, const char *cmd, const char *opt);

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
 * P:{P:fleet}:workers whose heartbeat is alive. 0, or -1 with r->errstr. */
int ops_fleet_read(rds *r, const config *cfg, ops_fleet *f);
void ops_fleet_free(ops_fleet *f);

/* ops_redis_now reads Redis TIME for a window's end (audit.h, "windows"),
 * quietly: -1 when Redis cannot be reached (the window then ends at
 * PostgreSQL's now()). */
int64_t ops_redis_now(const config *cfg);

/* ops_ratio returns part / whole, 0 when whole is 0. */
double ops_ratio(long long part, long long whole);

/* ops_json_ms appends ,"key":ms (null when negative). */
void ops_json_ms(sbuf *b, const char *key, int64_t ms);
void ops_json_int(sbuf *b, const char *key, long long v);

/* The JSON objects `syncq stats --json` and `syncq health --json` print for
 * one queue (now: the fleet's Redis TIME), one worker and one rate row
 * (cli_stats.c, cli_health.c); the web console's /api/ twins reuse them. */
void ops_json_queue(sbuf *b, const qstat *q, int64_t now);
void ops_json_worker(sbuf *b, const ops_worker *w);
void ops_json_rate(sbuf *b, const audit_rate *v);

#endif
