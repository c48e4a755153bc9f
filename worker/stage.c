/* stage.c - a sync's staging table and its convergence (stage.h). */
#include "fmacros.h"
#include "db.h"
#include "record.h"
#include "snapshot.h"
#include "stage.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

handler_result
stage_open(stage *s, handler_ctx *ctx, const char *service, const svc_resource *res, const char *scope)
{
    handler_world *hw = ctx->world;
    memset(s, 0, sizeof(*s));
    s->ctx = ctx;
    s->service = service;
    s->res = res;
    s->scope = scope ? scope : "";
    s->pages = -1;
    s->complete = -1;
    sbuf_init(&s->copy);
    if (!db_alive(hw->d) && db_connect(hw->d, hw->cfg->database_url) < 0) {
        ctx->retry_after_ms = 2000;
        return handler_fail(ctx, HANDLER_DEFER, "PostgreSQL unavailable: %s", hw->d->errstr);
    }
    if (db_exec(hw->d, "CREATE TEMP TABLE IF NOT EXISTS syncq_stage (external_id text NOT NULL, data jsonb NOT NULL);"
                       "TRUNCATE syncq_stage") < 0)
        return handler_fail(ctx, HANDLER_DEFER, "staging: %s", hw->d->errstr);
    db_result *r = db_query(hw->d, "SELECT clock_timestamp()::text", 0, NULL);
    if (!r) return handler_fail(ctx, HANDLER_DEFER, "staging: %s", hw->d->errstr);
    snprintf(s->read_started, sizeof(s->read_started), "%s", db_value(r, 0, 0));
    db_result_free(r);
    return HANDLER_OK;
}

void
stage_row(stage *s, const char *external_id, const char *data)
{
    for (const char *p = external_id; *p; p++) {
        if (*p == '\\' || *p == '\t' || *p == '\n' || *p == '\r') sbuf_addc(&s->copy, '\\');
        sbuf_addc(&s->copy, *p == '\t' ? 't' : *p == '\n' ? 'n' : *p == '\r' ? 'r' : *p);
    }
    sbuf_addc(&s->copy, '\t');
    for (const char *p = data; *p; p++) {
        if (*p == '\\') sbuf_addc(&s->copy, '\\'); /* cJSON escapes control bytes: only backslashes remain */
        sbuf_addc(&s->copy, *p);
    }
    sbuf_addc(&s->copy, '\n');
    s->seen++;
}

handler_result
stage_flush(stage *s)
{
    db *d = s->ctx->world->d;
    if (!s->copy.len) return HANDLER_OK;
    if (db_copy_begin(d, "COPY syncq_stage (external_id, data) FROM STDIN") < 0 ||
        db_copy_put(d, s->copy.buf, s->copy.len) < 0 || db_copy_end(d) < 0)
        return handler_fail(s->ctx, HANDLER_DEFER, "staging after %d rows: %s", s->seen, d->errstr);
    sbuf_reset(&s->copy);
    return HANDLER_OK;
}

void
stage_close(stage *s)
{
    sbuf_free(&s->copy);
}

/* ---- converging ---- */

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

typedef struct counts {
    long distinct, created, updated, staged, gone, existing, deleted;
} counts;

static int
query_counts(db *d, const char *sql, int np, const char *const *p, long *out, int nout)
{
    db_result *r = db_query(d, sql, np, p);
    if (!r) return -1;
    for (int i = 0; i < nout; i++) out[i] = db_ntuples(r) ? atol(db_value(r, 0, i)) : 0;
    db_result_free(r);
    return 0;
}

/* guard decides whether the deletions may happen; NULL when they may. */
static const char *
guard(const stage *w, const counts *c, char *why, size_t len)
{
    if (c->gone == 0) return NULL;
    if (w->complete == 0) return "the walk did not complete: deletions skipped for this run";
    if (w->drift) return "the remote set changed during the walk (a total changed or an id came twice): deletions skipped for this run";
    if (c->distinct == 0) {
        snprintf(why, len, "the list came back empty: %ld local row(s) kept; nothing deleted", c->existing);
        return why;
    }
    if ((double)c->gone > w->res->max_delete_share * (double)c->existing) {
        snprintf(why, len, "the list shrank by %ld of %ld rows, more than max_delete_share %.2f: nothing deleted",
                 c->gone, c->existing, w->res->max_delete_share);
        return why;
    }
    return NULL;
}

handler_result
stage_converge(stage *w)
{
    handler_ctx *ctx = w->ctx;
    db *d = ctx->world->d;
    counts c = {0};
    char why[256], *fields = snap_pg_array((const char *const *)w->res->hash_fields, w->res->nhash);
    const char *p[] = {w->service, w->res->name, w->scope, fields, ctx->job_id};
    const char *g[] = {w->service, w->res->name, w->scope, w->read_started};
    long up[4], gone[2];
    handler_result hr = stage_flush(w);
    if (hr != HANDLER_OK) goto out;
    hr = HANDLER_DEFER;
    /* a temp table has no statistics: without them the anti-joins below
     * become nested loops (seconds for 20,000 rows instead of milliseconds) */
    if (db_exec(d, "ANALYZE syncq_stage") < 0 || db_exec(d, "BEGIN") < 0) {
        handler_fail(ctx, HANDLER_DEFER, "converging: %s", d->errstr);
        goto out;
    }
    if (query_counts(d, SQL_UPSERT, 5, p, up, 4) < 0 || query_counts(d, SQL_GONE, 4, g, gone, 2) < 0) goto rollback;
    c = (counts){up[0], up[1], up[2], up[3], gone[0], gone[1], 0};
    if (c.staged != c.distinct) w->drift = 1; /* an id seen twice: rows shifted between pages */
    const char *stop = guard(w, &c, why, sizeof(why));
    if (!stop && c.gone) {
        db_result *r = db_query(d, SQL_DELETE, 4, g);
        if (!r) goto rollback;
        c.deleted = c.gone;
        db_result_free(r);
    }
    sbuf_addc(&ctx->result, '{');
    if (w->pages >= 0) sbuf_printf(&ctx->result, "\"pages\":%d,", w->pages);
    sbuf_printf(&ctx->result, "\"seen\":%d,\"created\":%ld,\"updated\":%ld,\"unchanged\":%ld,\"deleted\":%ld", w->seen,
                c.created, c.updated, c.distinct - c.created - c.updated, c.deleted);
    if (w->skipped) sbuf_printf(&ctx->result, ",\"skipped_without_id\":%d", w->skipped);
    if (w->drift) sbuf_printf(&ctx->result, ",\"drift\":true");
    if (w->complete >= 0) sbuf_printf(&ctx->result, ",\"complete\":%s", w->complete ? "true" : "false");
    sbuf_addc(&ctx->result, '}');
    hr = stop && !w->drift && w->complete != 0 ? handler_fail(ctx, HANDLER_PERMANENT, "%s", stop) : HANDLER_OK;
    snap_outcome o = {ctx->job_id, ctx->queue, hr == HANDLER_OK ? "success" : "dead", ctx->result.buf, ctx->attempt,
                      record_rev(ctx->attempt, REC_TERMINAL)};
    if (snap_outcome_write(d, &o) < 0) goto rollback;
    if (db_exec(d, "COMMIT") < 0) {
        hr = handler_fail(ctx, HANDLER_DEFER, "commit: %s", d->errstr);
        sbuf_reset(&ctx->result);
    }
    goto out;
rollback:
    handler_fail(ctx, HANDLER_DEFER, "converging: %s", d->errstr);
    db_exec(d, "ROLLBACK"); /* the error above is the one to report */
    sbuf_reset(&ctx->result);
    hr = HANDLER_DEFER;
out:
    free(fields);
    return hr;
}
