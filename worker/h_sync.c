/* h_sync.c - sync jobs that read a service's list endpoint: every page of
 * the walk (page, offset, cursor or Link pagination) goes into the staging
 * table a page at a time, and the snapshot converges once the walk ends
 * (stage.h: the guards against deleting too much). No deletions after a
 * failed page (the job retries) or drift in an offset walk. The scope is
 * part of each row's identity. */
#include "fmacros.h"
#include "auth.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "mask.h"
#include "pct.h"
#include "record.h"
#include "services.h"
#include "snapshot.h"
#include "stage.h"
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
    double total;              /* offset style: the first page's total, -1 unknown */
    char cursor[1024];
    stage st;                  /* seen, pages, drift: the walk's counts */
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
        snprintf(v, sizeof(v), "%d", w->st.seen);
        add_param(url, len, r->offset_param, v);
    } else if (r->paging == PAGE_CURSOR && w->cursor[0]) {
        /* a cursor is opaque: "+", "&", "=" or "/" in it must reach the service as sent */
        char enc[sizeof(w->cursor) * 3];
        (void)pct_encode(w->cursor, PCT_UNRESERVED, enc, sizeof(enc)); /* 3 bytes a byte always fit */
        add_param(url, len, r->cursor_param, enc);
    }
    return 0;
}

/* get reads one page through the service's auth: HANDLER_OK when an answer
 * arrived (w->rs), else how the attempt ends. */
static handler_result
get(walk *w, const char *url)
{
    http_request rq;
    char what[64];
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
    snprintf(what, sizeof(what), "page %d", w->st.pages + 1);
    return auth_send(w->ctx, w->svc, what, &rq, &w->rs);
}

/* stage_item stages one item under its id_field. */
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
        w->st.skipped++;
        return;
    }
    stage_row(&w->st, ext, data);
    free(data);
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
        else if (total != w->total) w->st.drift = 1; /* the set changed under the walk */
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
        return handler_fail(ctx, HANDLER_DEFER, "page %d: rate limit unavailable", w->st.pages + 1);
    handler_result sent = get(w, url);
    if (sent != HANDLER_OK) return sent;
    if (w->rs.retry_after_ms >= 0) ctx->retry_after_ms = w->rs.retry_after_ms;
    svc_status_class cls = svc_classify(NULL, w->rs.status);
    if (cls != ST_SUCCESS) {
        char *m = mask_excerpt(w->rs.body.buf, w->rs.body.len, EXCERPT_MAX); /* masked whole, then cut */
        handler_fail(ctx, cls == ST_TRANSIENT ? HANDLER_TRANSIENT : HANDLER_PERMANENT, "page %d: HTTP %d: %s", w->st.pages + 1,
             w->rs.status, m);
        free(m);
        return cls == ST_TRANSIENT ? HANDLER_TRANSIENT : HANDLER_PERMANENT;
    }
    json *root = json_parse(w->rs.body.buf ? w->rs.body.buf : "", w->rs.body.len, err, sizeof(err));
    const json *items = at(root, w->res->items);
    if (json_typeof(items) != JSON_ARRAY) {
        json_free(root);
        return handler_fail(ctx, HANDLER_PERMANENT, "page %d: no item array at \"%s\"", w->st.pages + 1, w->res->items);
    }
    int n = 0;
    for (const json *it = json_child(items); it; it = json_next(it), n++) stage_item(w, it);
    w->st.pages++;
    *done = next_page(w, root, n);
    json_free(root);
    int64_t t1 = job_now_ms();
    handler_result hr = stage_flush(&w->st);
    if (hr != HANDLER_OK) return hr;
    log_msg(LOG_DEBUG, "sync.page", "page %d: %d items, fetched in %lld ms, staged in %lld ms", w->st.pages, n,
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

static handler_result
h_sync(handler_ctx *ctx)
{
    walk w;
    handler_world *hw = ctx->world;
    const svc_action *act = NULL;
    memset(&w, 0, sizeof(w));
    w.ctx = ctx;
    w.total = -1;
    if (!hw->svc || svc_find_action(hw->svc, ctx->env->service, ctx->env->action, &w.svc, &w.res, &act) < 0 || act)
        return handler_fail(ctx, HANDLER_PERMANENT, "no sync action %s in the services file", ctx->env->action);
    w.scope = ctx->env->scope ? ctx->env->scope : "";
    handler_result hr = stage_open(&w.st, ctx, w.svc->name, w.res, w.scope);
    w.st.pages = 0;
    if (hr == HANDLER_OK) hr = read_all(&w);
    if (hr == HANDLER_OK) hr = stage_converge(&w.st);
    stage_close(&w.st);
    http_response_free(&w.rs);
    return hr;
}

void
sync_handlers_register(const svc_file *svc)
{
    for (int i = 0; i < svc->nservices; i++)
        for (int r = 0; r < svc->services[i].nresources; r++)
            if (svc->services[i].resources[r].list_exec.mode == EXEC_NONE) /* else h_exec_sync.c's */
                handler_register(svc->services[i].name, svc->services[i].resources[r].sync_action, h_sync);
}
