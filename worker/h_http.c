/* h_http.c - the declarative HTTP handlers of the services file: mutation
 * jobs (create, update, delete, call) against an outside service, applied to
 * the snapshot table in the same PostgreSQL transaction as the job's outcome.
 *
 * A mutation holds a Redis lock on (service, scope, target) whose lease
 * outlives its timeout, so checking expected_hash and calling the service
 * cannot interleave with another mutation of the same object. */
#include "fmacros.h"
#include "auth.h"
#include "db.h"
#include "http.h"
#include "keys.h"
#include "log.h"
#include "mask.h"
#include "pct.h"
#include "record.h"
#include "services.h"
#include "snapshot.h"
#include "stats.h"
#include "worker.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXCERPT_MAX 300      /* bytes of a remote error body kept (masked) */

typedef struct call {
    handler_ctx *ctx;
    const svc_service *svc;
    const svc_resource *res;
    const svc_action *act;
    snap_key key;
    char lock[KEY_MAX + 512];
    char hdrs[SVC_MAX_HEADERS][1024]; /* "Name: value" of the service's headers (secrets) */
    http_response rs;
} call;

/* ---- the request ---- */

static int
build_url(call *k, const char *path, char *url, size_t len)
{
    char p[2048];
    const envelope *e = k->ctx->env;
    if (svc_expand(path, k->key.scope, e->target_id, (const struct json *)e->payload, p, sizeof(p), k->ctx->error,
                   sizeof(k->ctx->error)) < 0)
        return -1;
    snprintf(url, len, "%s%s", k->svc->base_url, p);
    return 0;
}

static void
add_headers(call *k, http_request *rq, char *idem, size_t idemlen)
{
    for (int i = 0; i < k->svc->nheaders && rq->nheaders < HTTP_MAX_HEADERS - 3 - AUTH_HEADERS; i++) {
        snprintf(k->hdrs[i], sizeof(k->hdrs[i]), "%s: %s", k->svc->headers[i].name, k->svc->headers[i].value);
        rq->headers[rq->nheaders++] = k->hdrs[i];
    }
    rq->headers[rq->nheaders++] = "Accept: application/json";
    if (rq->body) rq->headers[rq->nheaders++] = "Content-Type: application/json";
    if (idem) {
        snprintf(idem, idemlen, "Idempotency-Key: %s", handler_idempotency_key(k->ctx));
        rq->headers[rq->nheaders++] = idem;
    }
}

/* send_call sends one request of the job through the service's auth:
 * HANDLER_OK when an answer arrived (k->rs), else how the attempt ends. */
static handler_result
send_call(call *k, const char *method, const char *url, const char *body, int idempotent)
{
    http_request rq;
    char idem[700], what[128];
    memset(&rq, 0, sizeof(rq));
    rq.method = method;
    rq.url = url;
    rq.body = body;
    rq.body_len = body ? strlen(body) : 0;
    rq.connect_timeout_ms = k->svc->connect_timeout_ms;
    rq.timeout_ms = k->svc->timeout_ms;
    add_headers(k, &rq, idempotent ? idem : NULL, sizeof(idem));
    snprintf(what, sizeof(what), "%s %s", method, k->act ? k->act->name : "list");
    return auth_send(k->ctx, k->svc, what, &rq, &k->rs);
}

/* remote_error describes a failed answer with a masked excerpt of its body,
 * masked whole and only then cut (http.c keeps at most HTTP_ERROR_BODY_MAX
 * bytes of it, so this is bounded). */
static void
remote_error(call *k)
{
    char *masked = mask_excerpt(k->rs.body.buf, k->rs.body.len, EXCERPT_MAX);
    /* a refused signature or token reads the same at most services: say what we sent */
    const char *hint = k->rs.status != 401 && k->rs.status != 403 ? ""
                     : k->svc->sigv4 ? " (requests are signed with auth.aws_sigv4: check its keys, region and service)"
                     : k->svc->hmac ? " (requests are signed with auth.hmac: check its key, algorithm and message)"
                     : k->svc->oauth2 ? " (with a fresh auth.oauth2 token)" : "";
    snprintf(k->ctx->error, sizeof(k->ctx->error), "HTTP %d from %s: %s%s%s", k->rs.status, k->svc->name, masked,
             k->rs.body_cut ? " (cut)" : "", hint);
    free(masked);
}

/* ---- the snapshot ---- */

/* external_id reads the id member of a remote object into out. */
static int
external_id(const call *k, const json *obj, char *out, size_t len)
{
    const json *v = json_get(obj, k->res->id_field);
    if (json_typeof(v) == JSON_STRING) snprintf(out, len, "%s", json_str(v));
    else if (json_typeof(v) == JSON_NUMBER) snprintf(out, len, "%.0f", json_num(v));
    else return -1;
    return 0;
}

static handler_result
apply(call *k, const json *obj, const char *result_extra)
{
    handler_ctx *ctx = k->ctx;
    char id[512], *data = NULL;
    if (obj) {
        if (external_id(k, obj, id, sizeof(id)) < 0) {
            if (!ctx->env->target_id) return handler_fail(ctx, HANDLER_PERMANENT, "the answer has no \"%s\" member", k->res->id_field);
            snprintf(id, sizeof(id), "%s", ctx->env->target_id);
        }
        k->key.external_id = id;
        data = json_print(obj);
    }
    sbuf_printf(&ctx->result, "{\"http_status\":%d,\"external_id\":", k->rs.status);
    sbuf_json_strz(&ctx->result, k->key.external_id);
    sbuf_printf(&ctx->result, "%s}", result_extra ? result_extra : "");
    audit_outcome o;
    handler_outcome_init(ctx, &o, "success");
    int rc = snap_apply(ctx->world->d, &k->key, data, (const char *const *)k->res->hash_fields, k->res->nhash, &o);
    free(data);
    if (rc == 0) handler_outcome_written(ctx, &o);
    if (rc < 0) {
        sbuf_reset(&ctx->result);
        return handler_fail(ctx, HANDLER_DEFER, "the snapshot write failed: %s", ctx->world->d->errstr);
    }
    return HANDLER_OK;
}

/* adopt finds the object a create collided with by its natural key. */
static handler_result
adopt(call *k)
{
    handler_ctx *ctx = k->ctx;
    char url[4096], path[2048];
    size_t used;
    if (!k->res->nnatural) return handler_fail(ctx, HANDLER_PERMANENT, "the object already exists and %s has no natural_key to adopt it", k->res->name);
    if (build_url(k, k->res->list_path, url, sizeof(url)) < 0) return HANDLER_PERMANENT;
    used = strlen(url);
    for (int i = 0; i < k->res->nnatural; i++) {
        const char *v = json_str(json_get(ctx->env->payload, k->res->natural_key[i]));
        if (!v) return handler_fail(ctx, HANDLER_PERMANENT, "the payload lacks natural key member \"%s\"", k->res->natural_key[i]);
        if (pct_encode(v, PCT_UNRESERVED, path, sizeof(path)) < 0) /* a cut value would find another object */
            return handler_fail(ctx, HANDLER_PERMANENT, "natural key member \"%s\" is too long for a query", k->res->natural_key[i]);
        snprintf(url + used, sizeof(url) - used, "%c%s=%s", strchr(url, '?') ? '&' : '?', k->res->natural_key[i], path);
        used = strlen(url);
    }
    handler_result sent = send_call(k, k->res->list_method, url, NULL, 0);
    if (sent != HANDLER_OK) return sent;
    if (k->rs.status / 100 != 2) {
        remote_error(k);
        return HANDLER_TRANSIENT;
    }
    char err[128];
    json *root = json_parse(k->rs.body.buf ? k->rs.body.buf : "", k->rs.body.len, err, sizeof(err));
    const json *items = k->res->items[0] ? json_get(root, k->res->items) : root;
    handler_result hr = handler_fail(ctx, HANDLER_PERMANENT, "the object already exists but was not found by its natural key");
    for (const json *it = json_child(items); it; it = json_next(it)) {
        int match = 1;
        for (int i = 0; i < k->res->nnatural && match; i++) {
            const char *want = json_str(json_get(ctx->env->payload, k->res->natural_key[i]));
            const char *have = json_str(json_get(it, k->res->natural_key[i]));
            match = want && have && !strcmp(want, have);
        }
        if (match) {
            ctx->error[0] = '\0';
            hr = apply(k, it, ",\"adopted\":true");
            break;
        }
    }
    json_free(root);
    return hr;
}

/* answered maps the service's answer to the job's outcome. */
static handler_result
answered(call *k)
{
    handler_ctx *ctx = k->ctx;
    svc_status_class cls = svc_classify(k->act, k->rs.status);
    if (k->rs.retry_after_ms >= 0) ctx->retry_after_ms = k->rs.retry_after_ms;
    if (cls == ST_ADOPT && k->act->op == OP_CREATE) return adopt(k);
    if (cls == ST_SUCCESS || cls == ST_ADOPT) {
        if (k->act->op == OP_DELETE) return apply(k, NULL, NULL);
        char err[128];
        json *root = k->rs.body.len ? json_parse(k->rs.body.buf, k->rs.body.len, err, sizeof(err)) : NULL;
        const char *target = k->ctx->env->target_id;
        /* a call on no target whose answer names no object changes no snapshot row */
        int loose = k->act->op == OP_CALL && !target && !json_get(root, k->res->id_field);
        handler_result hr = json_typeof(root) == JSON_OBJECT && !loose ? apply(k, root, NULL)
                          : target ? apply(k, NULL, NULL) : HANDLER_OK;
        if (hr == HANDLER_OK && !target && !ctx->result.len) sbuf_printf(&ctx->result, "{\"http_status\":%d}", k->rs.status);
        json_free(root);
        return hr;
    }
    remote_error(k);
    if (cls == ST_CONFLICT) return HANDLER_CONFLICT;
    return cls == ST_TRANSIENT ? HANDLER_TRANSIENT : HANDLER_PERMANENT;
}

static handler_result
run_call(call *k)
{
    handler_ctx *ctx = k->ctx;
    char url[4096];
    handler_result hr = handler_check_expected(ctx, &k->key);
    if (hr != HANDLER_OK) return hr;
    if (ctx->env->target_id) snap_mark_pending(ctx->world->d, &k->key); /* readers show it in flight */
    if (build_url(k, k->act->path, url, sizeof(url)) < 0) return HANDLER_PERMANENT;
    int pace = handler_pace(ctx, k->svc->name, k->svc->rate_per_s, k->svc->burst, 1000);
    if (pace != 0) /* over the shared rate limit: wait in the retry set, not in a child */
        return pace > 0 ? handler_fail(ctx, HANDLER_DEFER, "%s rate limit: %lld ms to wait", k->svc->name,
                               (long long)ctx->retry_after_ms)
                        : handler_fail(ctx, HANDLER_DEFER, "rate limit: Redis unavailable");
    char *body = k->act->body_payload ? (ctx->env->payload ? json_print(ctx->env->payload) : xstrdup("{}")) : NULL;
    hr = send_call(k, k->act->method, url, body, 1);
    if (hr == HANDLER_OK) hr = answered(k);
    free(body);
    if (hr != HANDLER_OK && hr != HANDLER_DEFER && ctx->env->target_id)
        snap_mark(ctx->world->d, &k->key, "failed", ctx->error);
    return hr;
}

static handler_result
h_mutation(handler_ctx *ctx)
{
    call k;
    handler_world *w = ctx->world;
    memset(&k, 0, sizeof(k));
    k.ctx = ctx;
    if (!w->svc || svc_find_action(w->svc, ctx->env->service, ctx->env->action, &k.svc, &k.res, &k.act) < 0 || !k.act)
        return handler_fail(ctx, HANDLER_PERMANENT, "no action %s in the services file", ctx->env->action);
    k.key = (snap_key){k.svc->name, k.res->name, ctx->env->scope ? ctx->env->scope : "", ctx->env->target_id ? ctx->env->target_id : ""};
    if (!db_alive(w->d) && db_connect(w->d, w->cfg->database_url) < 0) {
        ctx->retry_after_ms = 2000;
        return handler_fail(ctx, HANDLER_DEFER, "PostgreSQL unavailable: %s", w->d->errstr);
    }
    int got = handler_lock(ctx, k.lock, sizeof(k.lock));
    if (got <= 0) {
        ctx->retry_after_ms = 500;
        if (got < 0) return handler_fail(ctx, HANDLER_DEFER, "Redis: %s", w->r->errstr);
        return handler_fail(ctx, HANDLER_DEFER, "another mutation of this target is running");
    }
    handler_result hr = run_call(&k);
    handler_unlock(ctx, k.lock);
    http_response_free(&k.rs);
    return hr;
}

void
http_handlers_register(const svc_file *svc)
{
    for (int i = 0; i < svc->nservices; i++) {
        const svc_service *s = &svc->services[i];
        for (int r = 0; r < s->nresources; r++)
            for (int a = 0; a < s->resources[r].nactions; a++)
                if (s->resources[r].actions[a].exec.mode == EXEC_NONE) /* exec actions: h_exec.c */
                    handler_register_concurrent(s->name, s->resources[r].actions[a].name, h_mutation);
    }
}
