/* partition.c - the audit tables' day partitions (see partition.h). */
#include "fmacros.h"
#include "partition.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A partition change takes the parent table's lock: wait this long for it,
 * then give up (the next call tries again; the default partition takes
 * the rows meanwhile). */
#define LOCK_WAIT "SET LOCAL lock_timeout = '2s'"

/* in_tx runs the one-row query sql in its own transaction under LOCK_WAIT;
 * returns its result, or NULL (rolled back) with d's error. */
static db_result *
in_tx(db *d, const char *sql, int n, const char *const *params)
{
    if (db_exec(d, "BEGIN; " LOCK_WAIT) < 0) return NULL;
    db_result *r = db_query(d, sql, n, params);
    if (r && db_exec(d, "COMMIT") == 0) return r;
    db_result_free(r);
    if (db_alive(d)) {
        db keep = *d; /* the error that made us roll back */
        db_exec(d, "ROLLBACK");
        memcpy(d->errstr, keep.errstr, sizeof(keep.errstr));
        memcpy(d->sqlstate, keep.sqlstate, sizeof(keep.sqlstate));
        d->err = keep.err;
    }
    return NULL;
}

int
partition_ensure(db *d, int ahead, int *made)
{
    char a[16];
    const char *params[] = {a};
    snprintf(a, sizeof(a), "%d", ahead);
    db_result *r = in_tx(d, "SELECT syncq_partitions_ensure($1::int)", 1, params);
    if (!r) return -1;
    *made = atoi(db_value(r, 0, 0));
    db_result_free(r);
    return 0;
}

/* drop_day drops day's partitions if syncq_partition_drop finds them all
 * prunable, adding what they held to the counts. */
static int
drop_day(db *d, const char *day, const char *cutoff, long long *jobs, long long *events, int *days)
{
    const char *params[] = {day, cutoff};
    db_result *r = in_tx(d, "SELECT jobs, events FROM syncq_partition_drop($1::date, $2::timestamptz)", 2, params);
    if (!r) return -1;
    const char *j = db_value(r, 0, 0);
    if (j) {
        *jobs += atoll(j);
        *events += atoll(db_value(r, 0, 1));
        (*days)++;
    }
    db_result_free(r);
    return 0;
}

int
partition_prune(db *d, const char *cutoff, long long *jobs, long long *events, int *days)
{
    const char *params[] = {cutoff};
    db_result *r = db_query(d, "SELECT syncq_partition_days($1::timestamptz)::text", 1, params);
    if (!r) return -1;
    int rc = 0;
    for (int i = 0; i < db_ntuples(r) && rc == 0; i++)
        rc = drop_day(d, db_value(r, i, 0), cutoff, jobs, events, days);
    db_result_free(r);
    return rc;
}
