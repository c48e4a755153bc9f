/* h_sync.c - sync jobs: read every page of a service's list endpoint into a
 * staging table (memory stays flat: one page at a time), then converge the
 * snapshot in one transaction, in SQL: insert new rows, update rows whose
 * content hash changed, leave unchanged rows untouched, delete rows absent
 * remotely unless a mutation wrote them after the read began. No deletions
 * after a failed page (the job retries), an empty list, a shrink beyond the
 * resource's max_delete_share (the job ends dead for a person to look at) or
 * drift in an offset walk. The scope is part of each row's identity. */
#include "fmacros.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "mask.h"
#include "pct.h"
#include "record.h"
#include "services.h"
#include "snapshot.h"
#include "stats.h"
#include "worker.h"
#include "xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXCERPT_MAX 300

typedef struct walk {
    handler_ctx *ctx;
    const svc_service *svc;
    const svc_resource *res;
    const char *scope;
    char hdrs[SVC_MAX_HEADERS][1024];
    http_response rs;
    int pages, seen, skipped, drift;
    double total;              /* offset style: the first page's total, -1 unknown */
    char cursor[1024];
    sbuf copy;                 /* COPY rows of the current page */
} walk;

/* ---- pages ---- */

/* at follows a dotted path ("meta.next_cursor") from root; "" is root. */
static const json *
at(const json *root, const char *path)
{
    char part[128];
    const json *n = root;
    while (n && *path) {
        size_t l = strcspn(path, ".");
        snprintf(part, sizeof(part), "%.*s", (int)(l < sizeof(part) - 1 ? l : sizeof(part) - 1), path);
        n = json_get(n, part);
        path += l + (path[l] == '.');
    }
    return n;
}

static void
add_param(char *url, size_t len, const char *name, const char *value)
{
    size_t u = strlen(url);
    if (name && *name) snprintf(url + u, len - u, "%c%s=%s", strchr(url, '?') ? '&' : '?', name, value);
}

/* page_url builds the URL of page number p (from 0) of the walk. */
static int
page_url(walk *w, int p, char *url, size_t len)
{
    const svc_resource *r = w->res;
    char path[2048], v[64];
    if (svc_expand(r->list_path, w->scope, NULL, NULL, path, sizeof(path), w->ctx->error, sizeof(w->ctx->error)) < 0)
        return -1;
    snprintf(url, len, "%s%s", w->svc->base_url, path);
    snprintf(v, sizeof(v), "%d", r->page_size);
    add_param(url, len, r->size_param, v);
    if (r->paging == PAGE_PAGE || r->paging == PAGE_LINK) {
        snprintf(v, sizeof(v), "%d", r->first_page + p);
        add_param(url, len, r->page_param, v);
    } else if (r->paging == PAGE_OFFSET) {
        snprintf(v, sizeof(v), "%d", w->seen);
        add_param(url, len, r->offset_param, v);
    } else if (r->paging == PAGE_CURSOR && w->cursor[0]) {
        /* a cursor is opaque: "+", "&", "=" or "/" in it must reach the service as sent */
        char enc[sizeof(w->cursor) * 3];
        (void)pct_encode(w->cursor, PCT_UNRESERVED, enc, sizeof(enc)); /* 3 bytes a byte always fit */
        add_param(url, len, r->cursor_param, enc);
    }
    return 0;
}

static int
get(walk *w, const char *url)
{
    http_request rq;
    memset(&rq, 0, sizeof(rq));
    rq.method = w->res->list_method;
    rq.url = url;
    rq.connect_timeout_ms = w->svc->connect_timeout_ms;
    rq.timeout_ms = w->svc->timeout_ms;
    for (int i = 0; i < w->svc->nheaders; i++) {
        snprintf(w->hdrs[i], sizeof(w->hdrs[i]), "%s: %s", w->svc->headers[i].name, w->svc->headers[i].value);
        rq.headers[rq.nheaders++] = w->hdrs[i];
    }
    rq.headers[rq.nheaders++] = "Accept: application/json";
    http_response_free(&w->rs);
    memset(&w->rs, 0, sizeof(w->rs));
    int rc = http_do(w->ctx->world->http, &rq, &w->rs);
    stats_http(child_stats(), w->svc->name, rc < 0 ? 0 : w->rs.status);
    return rc;
}

/* stage_item appends one item as a COPY row (external_id, data). */
static void
stage_item(walk *w, const json *item)
{
    const json *id = json_get(item, w->res->id_field);
    char buf[64], *data;
    const char *ext = json_str(id);
    if (!ext && json_typeof(id) == JSON_NUMBER) {
        snprintf(buf, sizeof(buf), "%.0f", json_num(id));
        ext = buf;
    }
    if (!ext || json_typeof(item) != JSON_OBJECT || !(data = json_print(item))) {
        w->skipped++;
        return;
    }
    for (const char *s = ext; *s; s++) {
        if (*s == '\\' || *s == '\t' || *s == '\n' || *s == '\r') sbuf_addc(&w->copy, '\\');
        sbuf_addc(&w->copy, *s == '\t' ? 't' : *s == '\n' ? 'n' : *s == '\r' ? 'r' : *s);
    }
    sbuf_addc(&w->copy, '\t');
    for (const char *s = data; *s; s++) {
        if (*s == '\\') sbuf_addc(&w->copy, '\\'); /* cJSON escapes control bytes: only backslashes remain */
        sbuf_addc(&w->copy, *s);
    }
    sbuf_addc(&w->copy, '\n');
    free(data);
    w->seen++;
}

/* next_page reads where the walk goes next; 0 more, 1 done. */
static int
next_page(walk *w, const json *root, int n)
{
    const svc_resource *r = w->res;
    if (r->paging == PAGE_CURSOR) {
        const char *c = json_str(at(root, r->next_path));
        if (!c || !*c) return 1;
        snprintf(w->cursor, sizeof(w->cursor), "%s", c);
        return 0;
    }
    if (r->paging == PAGE_LINK) {
        if (!w->rs.link_next[0]) return 1;
        return 0;
    }
    if (r->paging == PAGE_OFFSET && r->total_path && r->total_path[0]) {
        const json *t = at(root, r->total_path);
        double total = json_typeof(t) == JSON_NUMBER ? json_num(t) : -1;
        if (w->total < 0) w->total = total;
        else if (total != w->total) w->drift = 1; /* the set changed under the walk */
    }
    return n < r->page_size;
}

static handler_result
read_page(walk *w, const char *url, int *done)
{
    handler_ctx *ctx = w->ctx;
    char err[160];
    int64_t t0 = job_now_ms();
    /* a sync keeps its place: it waits for tokens here rather than restart */
    if (handler_pace(ctx, w->svc->name, w->svc->rate_per_s, w->svc->burst, INT64_MAX / 2) != 0)
        return handler_fail(ctx, HANDLER_DEFER, "page %d: rate limit unavailable", w->pages + 1);
    if (get(w, url) < 0) return handler_fail(ctx, HANDLER_TRANSIENT, "page %d: %s", w->pages + 1, ctx->world->http->errstr);
    if (w->rs.retry_after_ms >= 0) ctx->retry_after_ms = w->rs.retry_after_ms;
    svc_status_class cls = svc_classify(NULL, w->rs.status);
    if (cls != ST_SUCCESS) {
        char *m = mask_excerpt(w->rs.body.buf, w->rs.body.len, EXCERPT_MAX); /* masked whole, then cut */
        handler_fail(ctx, cls == ST_TRANSIENT ? HANDLER_TRANSIENT : HANDLER_PERMANENT, "page %d: HTTP %d: %s", w->pages + 1,
             w->rs.status, m);
        free(m);
        return cls == ST_TRANSIENT ? HANDLER_TRANSIENT : HANDLER_PERMANENT;
    }
    json *root = json_parse(w->rs.body.buf ? w->rs.body.buf : "", w->rs.body.len, err, sizeof(err));
    const json *items = at(root, w->res->items);
    if (json_typeof(items) != JSON_ARRAY) {
        json_free(root);
        return handler_fail(ctx, HANDLER_PERMANENT, "page %d: no item array at \"%s\"", w->pages + 1, w->res->items);
    }
    int n = 0;
    sbuf_reset(&w->copy);
    for (const json *it = json_child(items); it; it = json_next(it), n++) stage_item(w, it);
    w->pages++;
    *done = next_page(w, root, n);
    json_free(root);
    db *d = ctx->world->d;
    int64_t t1 = job_now_ms();
    if (w->copy.len && (db_copy_begin(d, "COPY syncq_stage (external_id, data) FROM STDIN") < 0 ||
                        db_copy_put(d, w->copy.buf, w->copy.len) < 0 || db_copy_end(d) < 0))
        return handler_fail(ctx, HANDLER_DEFER, "staging page %d: %s", w->pages, d->errstr);
    log_msg(LOG_DEBUG, "sync.page", "page %d: %d items, fetched in %lld ms, staged in %lld ms", w->pages, n,
            (long long)(t1 - t0), (long long)(job_now_ms() - t1));
    return HANDLER_OK;
}

static handler_result
read_all(walk *w)
{
    char url[4096];
    int done = 0;
    if (page_url(w, 0, url, sizeof(url)) < 0) return HANDLER_PERMANENT;
    for (int p = 0; !done; p++) {
        if (p == w->res->max_pages)
            return handler_fail(w->ctx, HANDLER_PERMANENT, "more than %d pages: nothing converged", w->res->max_pages);
        if (p > 0 && w->res->paging == PAGE_LINK) {
            if (!http_same_origin(w->svc->base_url, w->rs.link_next))
                return handler_fail(w->ctx, HANDLER_PERMANENT, "page %d: a Link to another origin was refused", p + 1);
            snprintf(url, sizeof(url), "%s", w->rs.link_next);
        } else if (p > 0 && page_url(w, p, url, sizeof(url)) < 0) {
            return HANDLER_PERMANENT;
        }
        handler_result hr = read_page(w, url, &done);
        if (hr != HANDLER_OK) return hr;
    }
    return HANDLER_OK;
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
guard(const walk *w, const counts *c, char *why, size_t len)
{
    if (c->gone == 0) return NULL;
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

static handler_result
converge(walk *w, const char *read_started)
{
    handler_ctx *ctx = w->ctx;
    db *d = ctx->world->d;
    counts c = {0};
    char why[256], *fields = snap_pg_array((const char *const *)w->res->hash_fields, w->res->nhash);
    const char *p[] = {w->svc->name, w->res->name, w->scope, fields, ctx->job_id};
    const char *g[] = {w->svc->name, w->res->name, w->scope, read_started};
    long up[4], gone[2];
    handler_result hr = HANDLER_DEFER;
    /* a temp table has no statistics: without them the anti-joins below
     * become nested loops (seconds for 20,000 rows instead of milliseconds) */
    if (db_exec(d, "ANALYZE syncq_stage") < 0 || db_exec(d, "BEGIN") < 0) goto out;
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
    sbuf_printf(&ctx->result, "{\"pages\":%d,\"seen\":%d,\"created\":%ld,\"updated\":%ld,\"unchanged\":%ld,\"deleted\":%ld",
                w->pages, w->seen, c.created, c.updated, c.distinct - c.created - c.updated, c.deleted);
    if (w->skipped) sbuf_printf(&ctx->result, ",\"skipped_without_id\":%d", w->skipped);
    if (w->drift) sbuf_printf(&ctx->result, ",\"drift\":true");
    sbuf_addc(&ctx->result, '}');
    hr = stop && !w->drift ? handler_fail(ctx, HANDLER_PERMANENT, "%s", stop) : HANDLER_OK;
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

static int
prepare_stage(db *d, char *read_started, size_t len)
{
    if (db_exec(d, "CREATE TEMP TABLE IF NOT EXISTS syncq_stage (external_id text NOT NULL, data jsonb NOT NULL);"
                   "TRUNCATE syncq_stage") < 0)
        return -1;
    db_result *r = db_query(d, "SELECT clock_timestamp()::text", 0, NULL);
    if (!r) return -1;
    snprintf(read_started, len, "%s", db_value(r, 0, 0));
    db_result_free(r);
    return 0;
}

static handler_result
h_sync(handler_ctx *ctx)
{
    walk w;
    handler_world *hw = ctx->world;
    const svc_action *act = NULL;
    char read_started[64];
    memset(&w, 0, sizeof(w));
    w.ctx = ctx;
    w.total = -1;
    if (!hw->svc || svc_find_action(hw->svc, ctx->env->service, ctx->env->action, &w.svc, &w.res, &act) < 0 || act)
        return handler_fail(ctx, HANDLER_PERMANENT, "no sync action %s in the services file", ctx->env->action);
    w.scope = ctx->env->scope ? ctx->env->scope : "";
    if (!db_alive(hw->d) && db_connect(hw->d, hw->cfg->database_url) < 0) {
        ctx->retry_after_ms = 2000;
        return handler_fail(ctx, HANDLER_DEFER, "PostgreSQL unavailable: %s", hw->d->errstr);
    }
    if (prepare_stage(hw->d, read_started, sizeof(read_started)) < 0)
        return handler_fail(ctx, HANDLER_DEFER, "staging: %s", hw->d->errstr);
    sbuf_init(&w.copy);
    handler_result hr = read_all(&w);
    if (hr == HANDLER_OK) hr = converge(&w, read_started);
    sbuf_free(&w.copy);
    http_response_free(&w.rs);
    return hr;
}

void
sync_handlers_register(const svc_file *svc)
{
    for (int i = 0; i < svc->nservices; i++)
        for (int r = 0; r < svc->services[i].nresources; r++)
            handler_register(svc->services[i].name, svc->services[i].resources[r].sync_action, h_sync);
}
