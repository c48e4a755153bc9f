/* cli_dlq.h - `syncq dlq`: list, inspect, replay and purge dead-letter jobs
 * (README "Dead letters"). Split by concern:
 *   cli_dlq.c         verbs, flags and help
 *   cli_dlq_store.c   Redis: the queues to look at, selecting and loading entries
 *   cli_dlq_show.c    ls and show (masked unless --reveal)
 *   cli_dlq_change.c  replay and purge (through the syncq_dlq_* functions)
 * The entries themselves (parsing, replay entries, records) are common/dead.c. */
#ifndef SYNCQ_CLI_DLQ_H
#define SYNCQ_CLI_DLQ_H

#include <stddef.h> /* for size_t */
#include <stdint.h> /* for int64_t */

#include "cli.h"
#include "dead.h"
#include "rds.h"

/* What the command line asked for; strings are borrowed from argv. */
typedef struct dlq_opts {
    const char *queue;          /* --queue: only this queue; NULL: every known queue */
    dead_filter f;              /* --service, --action, --error */
    int64_t older_ms, newer_ms; /* --older-than, --newer-than; -1 when not given */
    int64_t limit;              /* ls: rows shown, 0 = all */
    int64_t rate;               /* replay: jobs per second, 0 = no limit */
    const char *actor;          /* replay/purge: who, for the audit events */
    int json, reveal, all, dry_run, yes;
    char **ids;                 /* positional job ids */
    int nids;
} dlq_opts;

/* dlq_opts_filtered: a content or age filter was given. */
int dlq_opts_filtered(const dlq_opts *o);

/* One dead-letter job: its id (the ZSET member), queue and dead time. */
typedef struct dlq_target {
    char *id;        /* owned */
    int queue;       /* index into dlq.queues */
    int64_t dead_ms; /* ZSET score: Redis TIME when it died */
} dlq_target;

typedef struct dlq_list {
    dlq_target *v; /* owned, n used of cap */
    size_t n, cap;
} dlq_list;

/* The session: a Redis connection, the queues in scope, and the last error
 * (a message and the exit code it maps to: 69 Redis unreachable, 70 other). */
typedef struct dlq {
    rds r;
    const config *cfg;
    char (*queues)[CONFIG_QUEUE_NAME_MAX]; /* owned, nqueues of them */
    int nqueues;
    char errstr[320];
    int code;
} dlq;

/* Store (cli_dlq_store.c). Each returns as documented, or -1 with d->errstr
 * and d->code set. */

/* dlq_open connects and lists the queues: only `only` when given, else the
 * configured queues and those in P:{P:fleet}:queues. 0 or -1. */
int dlq_open(dlq *d, const config *cfg, const char *only);
void dlq_close(dlq *d);
/* dlq_now_ms reads Redis TIME, the clock of dead times. 0 or -1. */
int dlq_now_ms(dlq *d, int64_t *ms);
/* dlq_select lists the dead-letter jobs passing o's filters, newest first.
 * 0 or -1. */
int dlq_select(dlq *d, const dlq_opts *o, dlq_list *out);
/* dlq_find looks id up in every queue in scope and appends the first hit to
 * out. Returns the number of queues holding it (0, 1 or more), or -1. */
int dlq_find(dlq *d, const char *id, dlq_list *out);
/* dlq_load reads t's entry into *text (malloc'd, *len bytes). Returns 1, 0
 * when the entry is gone (replayed or purged meanwhile), or -1. */
int dlq_load(dlq *d, const dlq_target *t, char **text, size_t *len);
/* dlq_queue_name returns the name of queue index qi. */
const char *dlq_queue_name(const dlq *d, int qi);
void dlq_list_push(dlq_list *l, const char *id, size_t idlen, int qi, int64_t dead_ms);
void dlq_list_free(dlq_list *l);
/* dlq_report prints "syncq dlq VERB: <error>" and returns d->code. */
int dlq_report(const dlq *d, const char *verb);
/* dlq_fail_rds copies the Redis context's error into d (see dlq.code). -1. */
int dlq_fail_rds(dlq *d);

/* Verbs: each returns an exit code. */
int dlq_ls(dlq *d, const dlq_opts *o);
int dlq_show(dlq *d, const dlq_opts *o);
int dlq_replay(dlq *d, const dlq_opts *o);
int dlq_purge(dlq *d, const dlq_opts *o);

#endif
