/* snapshot.h - every query on the snapshot tables (syncq_snapshots and
 * the syncq_last_sync view; schema/005_snapshots.sql): the rows mutation
 * handlers write, a sync walk's staging and converging (worker/h_sync.c),
 * and `syncq snapshot ls` (producer/cli_snapshot.c).
 *
 * A job that changes a snapshot writes PostgreSQL synchronously: the row
 * change and an outcome marker for the job (its syncq_jobs row, audit.h) in
 * one transaction; the job's later outbox record merges into that row.
 * Functions return 0 (or a result) on success, -1 (or NULL) with d->errstr. */
#ifndef SYNCQ_SNAPSHOT_H
#define SYNCQ_SNAPSHOT_H

#include <stddef.h> /* for size_t */

#include "audit.h" /* audit_outcome: the job's outcome marker */
#include "db.h"

typedef struct snap_key {
    const char *service, *resource, *scope, *external_id; /* scope "" when none */
} snap_key;

/* snap_hash reads a row's content hash: 1 found (out filled), 0 no row, -1 error. */
int snap_hash(db *d, const snap_key *k, char *out, size_t outlen);
/* snap_row reads a row as one JSON object ({"external_id", "data",
 * "content_hash", "sync_status", "sync_error", "last_synced_at",
 * "written_by"}) into *out (caller frees): 1 found, 0 no row, -1 error. */
int snap_row(db *d, const snap_key *k, char **out);
/* snap_mark sets a row's sync_status (pending/failed, with error) if it exists. */
int snap_mark(db *d, const snap_key *k, const char *status, const char *error);
/* snap_mark_pending marks a row pending (if it exists) as a job starts on
 * it, without waiting for durability: the job's outcome overwrites it. */
int snap_mark_pending(db *d, const snap_key *k);
/* snap_apply upserts the row with data (JSON text; NULL deletes it), its
 * content hash over hash_fields (none: the whole object), and writes the
 * job's outcome marker, in one transaction. Returns 0 or -1 (rolled back). */
int snap_apply(db *d, const snap_key *k, const char *data, const char *const *hash_fields, int nhash,
               const audit_outcome *o);
/* ---- a sync walk: stage every page, then converge in one transaction ---- */

/* The rows of one resource of one service in one scope ("" when none). */
typedef struct snap_set {
    const char *service, *resource, *scope;
} snap_set;

/* snap_stage_begin creates (or empties) the session's staging table and
 * writes PostgreSQL's clock_timestamp() into started: rows written after it
 * (by mutations during the walk) are never deleted as gone. */
int snap_stage_begin(db *d, char *started, size_t len);
/* snap_stage_put appends COPY text rows ("external_id \t data json\n"). */
int snap_stage_put(db *d, const char *copy, size_t len);

typedef struct snap_counts {
    long distinct;  /* staged ids, each once */
    long created, updated; /* rows the upsert wrote (unchanged ones are not) */
    long staged;    /* staged rows: more than distinct when an id came twice */
    long gone;      /* rows written before the walk started that it did not see */
    long existing;  /* rows of the set before the deletions */
} snap_counts;
/* snap_converge opens the transaction, upserts the staged rows into set
 * (content hash over fields, a text[] literal; written_by job_id) and counts
 * what is gone. The transaction stays open for snap_delete_gone and
 * snap_end. */
int snap_converge(db *d, const snap_set *set, const char *fields, const char *job_id, const char *started,
                  snap_counts *c);
/* snap_delete_gone deletes the rows snap_converge counted as gone. */
int snap_delete_gone(db *d, const snap_set *set, const char *started);
/* snap_end commits (commit = 1) or rolls back the transaction; a rollback
 * keeps d->errstr as it was (the first error is the one to report). */
int snap_end(db *d, int commit);

/* ---- syncq snapshot ls ---- */

typedef struct snap_ls_filter {
    const char *service, *resource;
    const char *scope, *status;          /* NULL: any */
    const char *after_scope, *after_id;  /* the previous page's last key, or NULL */
    const char *limit;                   /* rows per page; one more is read to tell whether a next page exists */
} snap_ls_filter;

/* times as RFC 3339 UTC with microseconds */
enum { SNAP_LS_SCOPE, SNAP_LS_ID, SNAP_LS_STATUS, SNAP_LS_WRITTEN, SNAP_LS_HASH, SNAP_LS_ERROR, SNAP_LS_DATA,
       SNAP_LS_SYNCED, SNAP_LS_BY, SNAP_LS_NCOLS };
/* snap_list: the rows that pass f, in (scope, external_id) order. */
db_result *snap_list(db *d, const snap_ls_filter *f);

enum { SNAP_LAST_SCOPE, SNAP_LAST_AT, SNAP_LAST_ACTION, SNAP_LAST_NCOLS };
/* snap_last_syncs: per scope to report (those with rows, those synced, and
 * f->scope), the latest success among the sync actions of f's resource
 * (NULL at: never) and that action's name. */
db_result *snap_last_syncs(db *d, const snap_ls_filter *f);

/* ---- the web console's snapshots page ---- */

/* snap_summary: per (service, resource, scope): rows, failed, pending, the
 * last successful sync (NULL: never) and the sync action it came from. */
enum { SNAP_SUM_SERVICE, SNAP_SUM_RESOURCE, SNAP_SUM_SCOPE, SNAP_SUM_ROWS, SNAP_SUM_FAILED, SNAP_SUM_PENDING,
       SNAP_SUM_LAST, SNAP_SUM_ACTION, SNAP_SUM_NCOLS };
db_result *snap_summary(db *d);
/* snap_failures: up to limit failed rows, in key order. */
enum { SNAP_FAIL_SERVICE, SNAP_FAIL_RESOURCE, SNAP_FAIL_SCOPE, SNAP_FAIL_ID, SNAP_FAIL_ERROR, SNAP_FAIL_WRITTEN,
       SNAP_FAIL_NCOLS };
db_result *snap_failures(db *d, int limit);

/* snap_pg_array formats strings as a PostgreSQL text[] literal (caller frees). */
char *snap_pg_array(const char *const *items, int n);

#endif
