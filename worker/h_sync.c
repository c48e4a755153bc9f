/* h_sync.c - sync jobs that read a service's list endpoint: every page of
 * the walk (page, offset, cursor or Link pagination: common/paging.h) goes into the staging
 * table a page at a time, and the snapshot converges once the walk ends
 * (stage.h: the guards against deleting too much). No deletions after a
 * failed page (the job retries) or drift in an offset walk. The scope is
 * part of each row's identity. */
#include "fmacros.h"
#include "auth.h"
#include "clock.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "mask.h"
#include "paging.h"
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
    paging_walk pw;            /* where the walk is (common/paging.h: one row per style) */
    stage st;                  /* seen, pages, drift: the walk's counts */
} walk;

/* ---- pages ---- */

/* base_url writes the list's URL before pagination: base URL and path. */
static int
base_url(walk *w, char *url, size_t len)
{
    char path[2048];
    if (svc_expand(w->res->list_path, w->scope, NULL, NULL, path, sizeof(path), w->ctx->error, sizeof(w->ctx->error)) < 0)
        return -1;
    snprintf(url, len, "%s%s", w->svc->base_url, path);
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

static handler_result
read_page(walk *w, const char *url, int *done)
{
    handler_ctx *ctx = w->ctx;
    char err[160];
    int64_t t0 = clock_mono_ms();
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
    const json *items = paging_at(root, w->res->items);
    if (json_typeof(items) != JSON_ARRAY) {
        json_free(root);
        return handler_fail(ctx, HANDLER_PERMANENT, "page %d: no item array at \"%s\"", w->st.pages + 1, w->res->items);
    }
    int n = 0;
    for (const json *it = json_child(items); it; it = json_next(it), n++) stage_item(w, it);
    w->st.pages++;
    *done = paging_next(&w->pw, root, n, w->rs.link_next);
    json_free(root);
    if (w->pw.drift) w->st.drift = 1; /* the set changed under the walk */
    if (*done < 0)
        return handler_fail(ctx, HANDLER_PERMANENT, "page %d: the next page's cursor or Link is too long to follow",
                            w->st.pages);
    int64_t t1 = clock_mono_ms();
    handler_result hr = stage_flush(&w->st);
    if (hr != HANDLER_OK) return hr;
    log_msg(LOG_DEBUG, "sync.page", "page %d: %d items, fetched in %lld ms, staged in %lld ms", w->st.pages, n,
            (long long)(t1 - t0), (long long)(clock_mono_ms() - t1));
    return HANDLER_OK;
}

static handler_result
read_all(walk *w)
{
    char base[4096], url[PAGING_LINK_MAX + 64];
    int done = 0;
    const paging_style *style = paging_style_of(w->res->paging);
    if (base_url(w, base, sizeof(base)) < 0) return HANDLER_PERMANENT;
    paging_walk_init(&w->pw, w->res);
    for (int p = 0; !done; p++) {
        if (p == w->res->max_pages)
            return handler_fail(w->ctx, HANDLER_PERMANENT, "more than %d pages: nothing converged", w->res->max_pages);
        if (p > 0 && style->follows_link && !http_same_origin(w->svc->base_url, w->pw.link))
            return handler_fail(w->ctx, HANDLER_PERMANENT, "page %d: a Link to another origin was refused", p + 1);
        if (paging_url(&w->pw, base, url, sizeof(url)) < 0)
            return handler_fail(w->ctx, HANDLER_PERMANENT, "page %d: the URL is too long", p + 1);
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
