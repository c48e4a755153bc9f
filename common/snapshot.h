/* snapshot.h - writing the snapshot table (schema/005_snapshots.sql) from
 * handlers. A job that changes a snapshot writes PostgreSQL synchronously:
 * the row change and an outcome marker for the job (its syncq_jobs row) in
 * one transaction; the job's later outbox record merges into that row. */
#ifndef SYNCQ_SNAPSHOT_H
#define SYNCQ_SNAPSHOT_H

#include <stddef.h> /* for size_t */

#include "db.h"

typedef struct snap_key {
    const char *service, *resource, *scope, *external_id; /* scope "" when none */
} snap_key;

typedef struct snap_outcome {
    const char *job_id, *queue;
    const char *status;   /* success | conflict | dead ... */
    const char *result;   /* JSON text or NULL */
    int attempts, rev;
} snap_outcome;

/* snap_hash reads a row's content hash: 1 found (out filled), 0 no row, -1 error. */
int snap_hash(db *d, const snap_key *k, char *out, size_t outlen);
/* snap_mark sets a row's sync_status (pending/failed, with error) if it exists. */
int snap_mark(db *d, const snap_key *k, const char *status, const char *error);
/* snap_apply upserts the row with data (JSON text; NULL deletes it), its
 * content hash over hash_fields (none: the whole object), and writes the
 * job's outcome marker, in one transaction. Returns 0 or -1 (rolled back). */
int snap_apply(db *d, const snap_key *k, const char *data, const char *const *hash_fields, int nhash, const snap_outcome *o);
/* snap_outcome_write upserts the job's outcome marker (its syncq_jobs row),
 * inside the caller's transaction. */
int snap_outcome_write(db *d, const snap_outcome *o);
/* snap_pg_array formats strings as a PostgreSQL text[] literal (caller frees). */
char *snap_pg_array(const char *const *items, int n);

#endif
