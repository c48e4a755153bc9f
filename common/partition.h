/* partition.h - the audit tables' day partitions (schema/006_partition.sql,
 * docs/DESIGN.md "Partitions"): made ahead by `syncq migrate` and the
 * worker's writer, dropped whole by `syncq prune`. The SQL functions do the
 * work (they run as the schema owner); this module calls them, one short
 * transaction each, under a lock timeout, so a long reader holding the
 * parent table delays a partition change, never the writer behind it.
 *
 * Conventions: 0 on success, -1 with d->errstr set. */
#ifndef SYNCQ_PARTITION_H
#define SYNCQ_PARTITION_H

#include "db.h"

/* days made ahead of today (UTC) by migrate and the writer */
#define PARTITION_AHEAD_DAYS 7
/* how often the writer makes sure the days ahead exist */
#define PARTITION_ENSURE_MS (60 * 60 * 1000)

/* partition_ensure makes the partitions of yesterday, today and the next
 * `ahead` days that do not exist yet; *made counts the tables made. */
int partition_ensure(db *d, int ahead, int *made);

/* partition_prune drops the day partitions that end before cutoff (a
 * timestamptz literal) and hold only jobs settled before it, adding their
 * rows to *jobs and *events and the days dropped to *days. What it keeps is
 * left to the batched delete (audit_prune). */
int partition_prune(db *d, const char *cutoff, long long *jobs, long long *events, int *days);

#endif
