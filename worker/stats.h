/* stats.h - job counters for /metrics, kept in each status board slot.
 *
 * Each child counts the jobs it finishes in the table of its own board slot
 * (shared memory mapped by the master before it forks): per (service,
 * action), how many attempts ended in each status, and a duration histogram.
 * The child is the only writer of its table; the master only reads it, so
 * no lock is needed: counters are 64-bit atomics written with relaxed
 * stores (a plain store on x86-64 and arm64, no syscall, no Redis), and a
 * new (service, action) entry is published by bumping the entry count with
 * release order after its names are written.
 *
 * When the master reaps a child it adds the child's table to its own
 * totals and zeroes the table (stats_drain) before the slot is reused, so
 * the counters it serves never go backwards. Label values are cut to a safe
 * alphabet when counted (prom_label_safe); jobs whose service and action do
 * not name a registered handler count as "_unknown", so a producer cannot
 * create label values at will. */
#ifndef SYNCQ_STATS_H
#define SYNCQ_STATS_H

#include <stdatomic.h> /* for _Atomic */
#include <stdint.h>    /* for uint64_t */

#include "prom.h"

#define STATS_PAIRS 32        /* (service, action) entries per child; the last one is _other/_other */
#define STATS_TOTAL_PAIRS 64  /* in the master's totals, with the same overflow rule */
#define STATS_NBUCKETS 14     /* duration histogram bounds (stats_bucket_ms), plus one above them */

/* What an attempt's end made of the job (its audit status). */
enum { STATS_SUCCESS = 0, STATS_RETRYING, STATS_DEAD, STATS_CONFLICT, STATS_SUPERSEDED, STATS_NSTATUS };
/* HTTP calls of the service handlers, per service and status class. */
#define STATS_HTTP_SERVICES 16   /* per child; the last one is _other */
#define STATS_HTTP_TOTAL 32      /* in the master's totals */
enum { STATS_HTTP_1XX = 0, STATS_HTTP_2XX, STATS_HTTP_3XX, STATS_HTTP_4XX, STATS_HTTP_5XX, STATS_HTTP_ERROR,
       STATS_HTTP_NCLASS };
extern const char *const stats_http_class_names[STATS_HTTP_NCLASS];

/* Counts kept per process rather than per job. */
enum { STATS_PG_RECONNECTS = 0, STATS_NNOTES };

extern const int64_t stats_bucket_ms[STATS_NBUCKETS];
extern const char *const stats_status_names[STATS_NSTATUS];

/* One child's table, in its board slot. */
typedef struct stats_entry {
    char service[PROM_LABEL_MAX], action[PROM_LABEL_MAX];
    _Atomic uint64_t count[STATS_NSTATUS];
    _Atomic uint64_t bucket[STATS_NBUCKETS + 1];
    _Atomic uint64_t sum_ms;
} stats_entry;

typedef struct stats_http_entry {
    char service[PROM_LABEL_MAX];
    _Atomic uint64_t calls[STATS_HTTP_NCLASS];
} stats_http_entry;

typedef struct stats_table {
    atomic_int n;                       /* entries published */
    _Atomic uint64_t notes[STATS_NNOTES];
    stats_entry e[STATS_PAIRS];
    atomic_int nhttp;                   /* HTTP entries published */
    stats_http_entry http[STATS_HTTP_SERVICES];
} stats_table;

/* A plain copy: the master's totals. */
typedef struct stats_pair {
    char service[PROM_LABEL_MAX], action[PROM_LABEL_MAX];
    uint64_t count[STATS_NSTATUS];
    uint64_t bucket[STATS_NBUCKETS + 1];
    uint64_t sum_ms;
} stats_pair;

typedef struct stats_http_total {
    char service[PROM_LABEL_MAX];
    uint64_t calls[STATS_HTTP_NCLASS];
} stats_http_total;

typedef struct stats_totals {
    int n;
    stats_pair p[STATS_TOTAL_PAIRS];
    uint64_t notes[STATS_NNOTES];
    int nhttp;
    stats_http_total http[STATS_HTTP_TOTAL];
} stats_totals;

/* stats_status_of maps an audit status name to its index, -1 when it is not
 * an end of an attempt (queued, running). */
int stats_status_of(const char *status);
/* stats_count (the child) counts one attempt's end; duration_ms < 0 for a
 * job that never ran (no histogram sample). service/action NULL: _unknown. */
void stats_count(stats_table *t, const char *service, const char *action, int status, int64_t duration_ms);
/* stats_mean_ms (the child) is the mean duration of the attempts of
 * (service, action) counted in t, in ms (rounded down); -1: none counted yet. */
int64_t stats_mean_ms(stats_table *t, const char *service, const char *action);
/* stats_http (the child) counts one HTTP call of service: status is the
 * response's status, or 0 for a transport error (no response). */
void stats_http(stats_table *t, const char *service, int status);
/* stats_note (the child or writer) counts one process event. */
void stats_note(stats_table *t, int note);
/* stats_add (the master) adds t's counters into out. */
void stats_add(stats_table *t, stats_totals *out);
/* stats_drain (the master, for a reaped child) adds t into out and zeroes t. */
void stats_drain(stats_table *t, stats_totals *out);

#endif
