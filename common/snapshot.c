/* snapshot.c - snapshot rows and job outcome markers (see snapshot.h). */
#include "fmacros.h"
#include "sbuf.h"
#include "snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_WHERE "service = $1 AND resource = $2 AND scope = $3 AND external_id = $4"

int
snap_hash(db *d, const snap_key *k, char *out, size_t outlen)
{
    const char *p[] = {k->service, k->resource, k->scope, k->external_id};
    db_result *r = db_query(d, "SELECT content_hash FROM syncq_snapshots WHERE " KEY_WHERE, 4, p);
    if (!r) return -1;
    int found = db_ntuples(r) == 1;
    if (found) snprintf(out, outlen, "%s", db_value(r, 0, 0));
    db_result_free(r);
    return found;
}

int
snap_mark(db *d, const snap_key *k, const char *status, const char *error)
{
    const char *p[] = {k->service, k->resource, k->scope, k->external_id, status, error};
    db_result *r = db_query(d, "UPDATE syncq_snapshots SET sync_status = $5, sync_error = $6 WHERE " KEY_WHERE, 6, p);
    if (!r) return -1;
    db_result_free(r);
    return 0;
}

char *
snap_pg_array(const char *const *items, int n)
{
    sbuf b;
    sbuf_init(&b);
    sbuf_addc(&b, '{');
    for (int i = 0; i < n; i++) {
        if (i) sbuf_addc(&b, ',');
        sbuf_addc(&b, '"');
        for (const char *s = items[i]; *s; s++) {
            if (*s == '"' || *s == '\\') sbuf_addc(&b, '\\');
            sbuf_addc(&b, *s);
        }
        sbuf_addc(&b, '"');
    }
    sbuf_addc(&b, '}');
    return sbuf_steal(&b, NULL);
}

int
snap_outcome_write(db *d, const snap_outcome *o)
{
    char attempts[16], rev[16];
    snprintf(attempts, sizeof(attempts), "%d", o->attempts);
    snprintf(rev, sizeof(rev), "%d", o->rev);
    const char *p[] = {o->job_id, o->queue, o->status, attempts, o->result, rev};
    db_result *r = db_query(d,
        "INSERT INTO syncq_jobs AS j (job_id, queue, status, attempts, result, finished_at, rev)"
        " VALUES ($1, $2, $3, $4, $5::jsonb, now(), $6)"
        " ON CONFLICT (job_id) DO UPDATE SET status = EXCLUDED.status, attempts = EXCLUDED.attempts,"
        " result = EXCLUDED.result, finished_at = EXCLUDED.finished_at, rev = EXCLUDED.rev, updated_at = now(),"
        /* a new attempt starts its columns afresh (record_merge.h): this
         * attempt's started_at comes with its running record */
        " started_at = CASE WHEN j.rev / 4 = EXCLUDED.rev / 4 THEN j.started_at END,"
        " duration_ms = CASE WHEN j.rev / 4 = EXCLUDED.rev / 4 THEN j.duration_ms END"
        " WHERE j.rev <= EXCLUDED.rev", 6, p);
    if (!r) return -1;
    db_result_free(r);
    return 0;
}

static int
write_row(db *d, const snap_key *k, const char *data, const char *fields, const char *job)
{
    const char *p[] = {k->service, k->resource, k->scope, k->external_id, data, fields, job};
    db_result *r;
    if (!data)
        r = db_query(d, "DELETE FROM syncq_snapshots WHERE " KEY_WHERE, 4, p);
    else
        r = db_query(d,
            "INSERT INTO syncq_snapshots AS s (service, resource, scope, external_id, data, content_hash,"
            " sync_status, sync_error, last_synced_at, written_at, written_by)"
            " VALUES ($1, $2, $3, $4, $5::jsonb, syncq_content_hash($5::jsonb, $6::text[]), 'synced', NULL, now(),"
            " clock_timestamp(), $7)"
            " ON CONFLICT (service, resource, scope, external_id) DO UPDATE SET data = EXCLUDED.data,"
            " content_hash = EXCLUDED.content_hash, sync_status = 'synced', sync_error = NULL,"
            " last_synced_at = now(), written_at = clock_timestamp(), written_by = EXCLUDED.written_by", 7, p);
    if (!r) return -1;
    db_result_free(r);
    return 0;
}

int
snap_apply(db *d, const snap_key *k, const char *data, const char *const *hash_fields, int nhash, const snap_outcome *o)
{
    char *fields = snap_pg_array(hash_fields, nhash);
    int rc = -1;
    if (db_exec(d, "BEGIN") < 0) goto out;
    if (write_row(d, k, data, fields, o->job_id) < 0 || snap_outcome_write(d, o) < 0) {
        char keep[sizeof(d->errstr)];
        memcpy(keep, d->errstr, sizeof(keep));
        db_exec(d, "ROLLBACK"); /* the first error is the one to report */
        memcpy(d->errstr, keep, sizeof(keep));
        goto out;
    }
    rc = db_exec(d, "COMMIT");
out:
    free(fields);
    return rc;
}
