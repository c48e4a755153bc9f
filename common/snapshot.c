/* snapshot.c - every query on the snapshot tables (see snapshot.h). */
#include "fmacros.h"
#include "sbuf.h"
#include "snapshot.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_WHERE "service = $1 AND resource = $2 AND scope = $3 AND external_id = $4"

int
snap_hash(db *d, const snap_key *k, char *out, size_t outlen)
{
    const char *p[] = {k->service, k->resource, k->scope, k->external_id};
    db_result *r = db_query_prep(d, "SELECT content_hash FROM syncq_snapshots WHERE " KEY_WHERE, 4, p);
    if (!r) return -1;
    int found = db_ntuples(r) == 1;
    if (found) snprintf(out, outlen, "%s", db_value(r, 0, 0));
    db_result_free(r);
    return found;
}

int
snap_row(db *d, const snap_key *k, char **out)
{
    const char *p[] = {k->service, k->resource, k->scope, k->external_id};
    *out = NULL;
    db_result *r = db_query_prep(d,
        "SELECT jsonb_build_object('external_id', external_id, 'data', data, 'content_hash', content_hash,"
        " 'sync_status', sync_status, 'sync_error', sync_error, 'last_synced_at', last_synced_at,"
        " 'written_by', written_by)::text FROM syncq_snapshots WHERE " KEY_WHERE, 4, p);
    if (!r) return -1;
    int found = db_ntuples(r) == 1;
    if (found) *out = xstrdup(db_value(r, 0, 0));
    db_result_free(r);
    return found;
}

int
snap_mark(db *d, const snap_key *k, const char *status, const char *error)
{
    const char *p[] = {k->service, k->resource, k->scope, k->external_id, status, error};
    db_result *r = db_query_prep(d, "UPDATE syncq_snapshots SET sync_status = $5, sync_error = $6 WHERE " KEY_WHERE, 6, p);
    if (!r) return -1;
    db_result_free(r);
    return 0;
}

/* The pending mark commits without waiting for its WAL flush
 * (synchronous_commit off for its own transaction, set from inside the
 * statement: one round trip, no BEGIN). It is a hint for readers that the
 * job's durable statement (snap_apply or the failed mark) overwrites and
 * flushes; a crash that loses it shows the row as it was before the job.
 * Updating a row that exists otherwise waits for a flush of its own. */
int
snap_mark_pending(db *d, const snap_key *k)
{
    const char *p[] = {k->service, k->resource, k->scope, k->external_id};
    db_result *r = db_query_prep(d,
        "UPDATE syncq_snapshots SET sync_status = 'pending', sync_error = NULL WHERE " KEY_WHERE
        " AND (SELECT set_config('synchronous_commit', 'off', true)) = 'off'", 4, p);
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

/* The snapshot change rides in a data-modifying CTE of the outcome's
 * statement: one statement is one transaction, so the pair is atomic in one
 * round trip (a BEGIN, two statements and a COMMIT took four, and on two
 * cores the 64 children's round trips were PostgreSQL's largest cost). The
 * outcome takes $1..$9, the row's key $10..$13, its data and hashed fields
 * $14 and $15. */
#define KEY_WHERE_10 "service = $10 AND resource = $11 AND scope = $12 AND external_id = $13"
#define SQL_APPLY_DELETE "WITH snap AS (DELETE FROM syncq_snapshots WHERE " KEY_WHERE_10 ") " AUDIT_OUTCOME_SQL
#define SQL_APPLY_UPSERT \
    "WITH snap AS (INSERT INTO syncq_snapshots AS s (service, resource, scope, external_id, data, content_hash," \
    " sync_status, sync_error, last_synced_at, written_at, written_by)" \
    " VALUES ($10, $11, $12, $13, $14::jsonb, syncq_content_hash($14::jsonb, $15::text[]), 'synced', NULL, now()," \
    " clock_timestamp(), $1)" \
    " ON CONFLICT (service, resource, scope, external_id) DO UPDATE SET data = EXCLUDED.data," \
    " content_hash = EXCLUDED.content_hash, sync_status = 'synced', sync_error = NULL," \
    " last_synced_at = now(), written_at = clock_timestamp(), written_by = EXCLUDED.written_by) " AUDIT_OUTCOME_SQL
_Static_assert(AUDIT_OUTCOME_NPARAMS == 9, "SQL_APPLY_* number the snapshot's parameters after the outcome's");

int
snap_apply(db *d, const snap_key *k, const char *data, const char *const *hash_fields, int nhash,
           const audit_outcome *o)
{
    audit_outcome_bufs b;
    const char *p[AUDIT_OUTCOME_NPARAMS + 6];
    audit_outcome_params(o, p, &b);
    const char **q = p + AUDIT_OUTCOME_NPARAMS;
    q[0] = k->service;
    q[1] = k->resource;
    q[2] = k->scope;
    q[3] = k->external_id;
    char *fields = data ? snap_pg_array(hash_fields, nhash) : NULL;
    q[4] = data;
    q[5] = fields;
    db_result *r = data ? db_query_prep(d, SQL_APPLY_UPSERT, AUDIT_OUTCOME_NPARAMS + 6, p)
                        : db_query_prep(d, SQL_APPLY_DELETE, AUDIT_OUTCOME_NPARAMS + 4, p);
    free(fields);
    if (!r) return -1;
    db_result_free(r);
    return 0;
}

/* ---------------------------------------------------------------- Sync walks */

int
snap_stage_begin(db *d, char *started, size_t len)
{
    if (db_exec(d, "CREATE TEMP TABLE IF NOT EXISTS syncq_stage (external_id text NOT NULL, data jsonb NOT NULL);"
                   "TRUNCATE syncq_stage") < 0)
        return -1;
    db_result *r = db_query(d, "SELECT clock_timestamp()::text", 0, NULL);
    if (!r) return -1;
    snprintf(started, len, "%s", db_value(r, 0, 0));
    db_result_free(r);
    return 0;
}

int
snap_stage_put(db *d, const char *copy, size_t len)
{
    if (!len) return 0;
    if (db_copy_begin(d, "COPY syncq_stage (external_id, data) FROM STDIN") < 0 || db_copy_put(d, copy, len) < 0 ||
        db_copy_end(d) < 0)
        return -1;
    return 0;
}

static const char *SQL_UPSERT =
    "WITH s AS (SELECT DISTINCT ON (external_id) external_id, data FROM syncq_stage ORDER BY external_id),"
    " up AS (INSERT INTO syncq_snapshots AS t (service, resource, scope, external_id, data, content_hash,"
    "   sync_status, last_synced_at, written_at, written_by)"
    "   SELECT $1, $2, $3, external_id, data, syncq_content_hash(data, $4::text[]), 'synced', now(), clock_timestamp(), $5"
    "   FROM s"
    "   ON CONFLICT (service, resource, scope, external_id) DO UPDATE SET data = EXCLUDED.data,"
    "   content_hash = EXCLUDED.content_hash, sync_status = 'synced', sync_error = NULL, last_synced_at = now(),"
    "   written_at = clock_timestamp(), written_by = EXCLUDED.written_by"
    "   WHERE t.content_hash IS DISTINCT FROM EXCLUDED.content_hash"
    "   RETURNING (xmax = 0) AS created)"
    " SELECT (SELECT count(*) FROM s), count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created),"
    " (SELECT count(*) FROM syncq_stage) FROM up";

/* an anti-join, not NOT EXISTS inside an aggregate's FILTER: the latter runs
 * as a subplan per row (quadratic) */
static const char *SQL_GONE =
    "SELECT count(*) FILTER (WHERE s.external_id IS NULL AND t.written_at < $4::timestamptz), count(*)"
    " FROM syncq_snapshots t LEFT JOIN (SELECT DISTINCT external_id FROM syncq_stage) s"
    "   ON s.external_id = t.external_id"
    " WHERE t.service = $1 AND t.resource = $2 AND t.scope = $3";

static const char *SQL_DELETE =
    "DELETE FROM syncq_snapshots t WHERE t.service = $1 AND t.resource = $2 AND t.scope = $3"
    " AND t.written_at < $4::timestamptz"
    " AND NOT EXISTS (SELECT 1 FROM syncq_stage s WHERE s.external_id = t.external_id)";

static int
query_counts(db *d, const char *sql, int np, const char *const *p, long *const *out, int nout)
{
    db_result *r = db_query(d, sql, np, p);
    if (!r) return -1;
    for (int i = 0; i < nout; i++) *out[i] = db_ntuples(r) ? atol(db_value(r, 0, i)) : 0;
    db_result_free(r);
    return 0;
}

int
snap_converge(db *d, const snap_set *set, const char *fields, const char *job_id, const char *started,
              snap_counts *c)
{
    const char *p[] = {set->service, set->resource, set->scope, fields, job_id};
    const char *g[] = {set->service, set->resource, set->scope, started};
    long *up[] = {&c->distinct, &c->created, &c->updated, &c->staged}, *gone[] = {&c->gone, &c->existing};
    memset(c, 0, sizeof(*c));
    /* a temp table has no statistics: without them the anti-joins below
     * become nested loops (seconds for 20,000 rows instead of milliseconds) */
    if (db_exec(d, "ANALYZE syncq_stage") < 0 || db_exec(d, "BEGIN") < 0) return -1;
    if (query_counts(d, SQL_UPSERT, 5, p, up, 4) < 0 || query_counts(d, SQL_GONE, 4, g, gone, 2) < 0) return -1;
    return 0;
}

int
snap_delete_gone(db *d, const snap_set *set, const char *started)
{
    const char *g[] = {set->service, set->resource, set->scope, started};
    db_result *r = db_query(d, SQL_DELETE, 4, g);
    if (!r) return -1;
    db_result_free(r);
    return 0;
}

int
snap_end(db *d, int commit)
{
    if (commit) return db_exec(d, "COMMIT");
    char keep[sizeof(d->errstr)];
    memcpy(keep, d->errstr, sizeof(keep));
    db_exec(d, "ROLLBACK"); /* the first error is the one to report */
    memcpy(d->errstr, keep, sizeof(keep));
    return 0;
}

/* ---------------------------------------------------------------- Listing */

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
#define LS_MAX_PARAMS 8

/* A query under construction: SQL text and its parameters (borrowed). */
typedef struct query {
    sbuf sql;
    const char *params[LS_MAX_PARAMS];
    int n;
} query;

/* bind appends "<before>$n<after>", $n binding value. */
static void
bind(query *q, const char *before, const char *after, const char *value)
{
    q->params[q->n++] = value;
    sbuf_printf(&q->sql, "%s$%d%s", before, q->n, after);
}

/* run executes q and frees its text. */
static db_result *
run(db *d, query *q)
{
    db_result *r = db_query(d, q->sql.buf, q->n, q->params);
    sbuf_free(&q->sql);
    return r;
}

db_result *
snap_list(db *d, const snap_ls_filter *f)
{
    query q;
    memset(&q, 0, sizeof(q));
    sbuf_init(&q.sql);
    q.params[q.n++] = f->service;
    q.params[q.n++] = f->resource;
    sbuf_adds(&q.sql, "SELECT scope, external_id, sync_status, " TS("written_at") ", content_hash, sync_error,"
                      " data::text, " TS("last_synced_at") ", written_by FROM syncq_snapshots"
                      " WHERE service = $1 AND resource = $2");
    if (f->scope) bind(&q, " AND scope = ", "", f->scope);
    if (f->status) bind(&q, " AND sync_status = ", "", f->status);
    if (f->after_id) {
        bind(&q, " AND (scope, external_id) > (", "", f->after_scope);
        bind(&q, ", ", ")", f->after_id);
    }
    bind(&q, " ORDER BY scope, external_id LIMIT ", "::int + 1", f->limit);
    return run(d, &q);
}

/* DISTINCT ON keeps the name of the action of the latest success */
db_result *
snap_last_syncs(db *d, const snap_ls_filter *f)
{
    query q;
    memset(&q, 0, sizeof(q));
    sbuf_init(&q.sql);
    q.params[q.n++] = f->service;
    q.params[q.n++] = f->resource;
    if (f->scope) q.params[q.n++] = f->scope; /* $3 */
    sbuf_adds(&q.sql, "WITH l AS (SELECT DISTINCT ON (scope) scope, action, last_success FROM syncq_last_sync"
                      " WHERE service = $1 AND right(action, length($2::text) + 1) = '_' || $2::text");
    if (f->scope) sbuf_adds(&q.sql, " AND scope = $3");
    sbuf_adds(&q.sql, " ORDER BY scope, last_success DESC), s AS (SELECT DISTINCT scope FROM syncq_snapshots"
                      " WHERE service = $1 AND resource = $2");
    if (f->scope) sbuf_adds(&q.sql, " AND scope = $3 UNION SELECT $3::text");
    sbuf_adds(&q.sql, ") SELECT scope, " TS("last_success") ", action FROM (SELECT scope FROM s UNION"
                      " SELECT scope FROM l) x LEFT JOIN l USING (scope) ORDER BY scope");
    return run(d, &q);
}

/* The last sync of a resource is the latest success of the service's action
 * named sync_RESOURCE or ending in _RESOURCE (as snap_last_syncs). */
db_result *
snap_summary(db *d)
{
    return db_query(d,
        "WITH s AS (SELECT service, resource, scope, count(*) AS n,"
        "           count(*) FILTER (WHERE sync_status = 'failed') AS failed,"
        "           count(*) FILTER (WHERE sync_status = 'pending') AS pending"
        "           FROM syncq_snapshots GROUP BY 1, 2, 3)"
        " SELECT s.service, s.resource, s.scope, s.n, s.failed, s.pending, " TS("l.last_success") ", l.action FROM s"
        " LEFT JOIN LATERAL (SELECT action, last_success FROM syncq_last_sync l WHERE l.service = s.service"
        "   AND l.scope = s.scope AND right(l.action, length(s.resource) + 1) = '_' || s.resource"
        "   ORDER BY last_success DESC LIMIT 1) l ON true ORDER BY 1, 2, 3", 0, NULL);
}

db_result *
snap_failures(db *d, int limit)
{
    char n[16];
    snprintf(n, sizeof(n), "%d", limit);
    const char *params[] = {n};
    return db_query(d,
        "SELECT service, resource, scope, external_id, sync_error, " TS("written_at")
        " FROM syncq_snapshots WHERE sync_status = 'failed' ORDER BY 1, 2, 3, 4 LIMIT $1::int", 1, params);
}
