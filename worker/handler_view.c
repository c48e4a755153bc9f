/* handler_view.c - what a handler sees of its job (the syncq_job of
 * syncq/handler.h) and the host functions the worker lends it: the HTTP
 * helper that sends with the service's headers and auth (auth.h), timeouts
 * (bounded by the job's), shared rate limit and origin; the log; the stop flag; copies
 * owned by the job. And the way back: a handler's outcome, checked and
 * masked, into the child's handler_ctx. */
#include "fmacros.h"
#include "clock.h"
#include "auth.h"
#include "exec.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "mask.h"
#include "services.h"
#include "worker.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEPT_MAX 64 /* host->keep copies per job */

struct handler_view {
    syncq_job job;           /* first: handler_ctx_of casts back */
    handler_ctx *ctx;
    const svc_service *svc;  /* the job's service in the services file, or NULL */
    char *payload;           /* owned: job.payload_json */
    char *service;           /* owned: job.service_json */
    char *kept[KEPT_MAX];    /* owned: host->keep copies */
    int nkept;
    http_response rs;        /* the last answer of host->http */
    char error[1024];        /* host->http's error text */
    int64_t started_ms;
};

handler_ctx *
handler_ctx_of(const syncq_job *jv)
{
    return ((const handler_view *)jv)->ctx;
}

const syncq_job *
handler_view_job(handler_view *v)
{
    return &v->job;
}

/* ---- host functions ---- */

static int
host_stopping(const syncq_job *jv)
{
    const handler_ctx *ctx = handler_ctx_of(jv);
    return ctx->stop && *ctx->stop;
}

static const char *
host_keep(const syncq_job *jv, const char *text)
{
    handler_view *v = (handler_view *)jv;
    if (!text || v->nkept == KEPT_MAX) return NULL;
    return v->kept[v->nkept++] = xstrdup(text);
}

static void
host_log(const syncq_job *jv, const char *msg)
{
    char *m = mask_string(msg ? msg : "");
    log_job lj = {jv->id, jv->service, jv->action};
    log_job_msg(LOG_INFO, "handler.log", &lj, NULL, "%s", m ? m : "(unmaskable text dropped)");
    free(m);
}

static const char *const http_methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", NULL};

/* target_url joins target to the service's base URL, or takes a whole URL
 * of the same origin. 0, or -1 with v->error set. */
static int
target_url(handler_view *v, const char *target, char *url, size_t len)
{
    const svc_service *s = v->svc;
    int n;
    if (!s || !s->base_url) {
        snprintf(v->error, sizeof(v->error), "service %s has no base_url in the services file", v->job.service);
        return -1;
    }
    if (target && target[0] == '/') {
        n = snprintf(url, len, "%s%s", s->base_url, target);
    } else if (target && (!strncmp(target, "http://", 7) || !strncmp(target, "https://", 8))) {
        if (!http_same_origin(s->base_url, target)) {
            snprintf(v->error, sizeof(v->error), "refused: %.200s is not on the origin of %s's base_url", target, s->name);
            return -1;
        }
        n = snprintf(url, len, "%s", target);
    } else {
        snprintf(v->error, sizeof(v->error), "the target must be a path starting with / or an http(s) URL");
        return -1;
    }
    if (n < 0 || (size_t)n >= len) {
        snprintf(v->error, sizeof(v->error), "the URL is longer than %zu bytes", len - 1);
        return -1;
    }
    return 0;
}

/* http_allowed checks the method, the job's time left and the shared rate
 * limit (a wait over a second is not taken: retry_after_ms says how long).
 * Returns the ms the request may take, or -1 with v->error set. */
static int64_t
http_allowed(handler_view *v, const char *method, syncq_http_response *out)
{
    handler_ctx *ctx = v->ctx;
    int known = 0;
    for (int i = 0; http_methods[i]; i++) known |= method && !strcmp(method, http_methods[i]);
    if (!known) {
        snprintf(v->error, sizeof(v->error), "method must be one of GET, HEAD, POST, PUT, PATCH, DELETE");
        return -1;
    }
    int64_t left = ctx->timeout_ms - (clock_wall_ms() - v->started_ms);
    if (left <= 0) {
        snprintf(v->error, sizeof(v->error), "the job's %lld ms are up", (long long)ctx->timeout_ms);
        return -1;
    }
    int pace = handler_pace(ctx, v->svc->name, v->svc->rate_per_s, v->svc->burst, 1000);
    if (pace != 0) {
        out->retry_after_ms = pace > 0 ? ctx->retry_after_ms : 1000;
        snprintf(v->error, sizeof(v->error), pace > 0 ? "%s rate limit: %lld ms to wait" : "%s rate limit: Redis unavailable",
                 v->svc->name, (long long)ctx->retry_after_ms);
        ctx->retry_after_ms = -1; /* the handler decides what the wait means for the job */
        return -1;
    }
    return left;
}

static int
host_http(const syncq_job *jv, const char *method, const char *target, const char *body, size_t body_len,
          syncq_http_response *out)
{
    handler_view *v = (handler_view *)jv;
    char url[4096], hdrs[SVC_MAX_HEADERS][1024]; /* "Name: value" of the service's headers (secrets) */
    http_request rq;
    memset(out, 0, sizeof(*out));
    out->body = "";
    out->retry_after_ms = -1;
    v->error[0] = '\0';
    out->error = v->error;
    if (target_url(v, target, url, sizeof(url)) < 0) return -1;
    int64_t left = http_allowed(v, method, out);
    if (left < 0) return -1;
    memset(&rq, 0, sizeof(rq));
    rq.method = method;
    rq.url = url;
    rq.body = body;
    rq.body_len = body ? body_len : 0;
    rq.connect_timeout_ms = v->svc->connect_timeout_ms < left ? v->svc->connect_timeout_ms : (int)left;
    rq.timeout_ms = v->svc->timeout_ms < left ? v->svc->timeout_ms : (int)left;
    for (int i = 0; i < v->svc->nheaders && rq.nheaders < HTTP_MAX_HEADERS - 2 - AUTH_HEADERS; i++) {
        snprintf(hdrs[i], sizeof(hdrs[i]), "%s: %s", v->svc->headers[i].name, v->svc->headers[i].value);
        rq.headers[rq.nheaders++] = hdrs[i];
    }
    rq.headers[rq.nheaders++] = "Accept: application/json";
    if (body) rq.headers[rq.nheaders++] = "Content-Type: application/json";
    http_response_free(&v->rs);
    memset(&v->rs, 0, sizeof(v->rs));
    /* the service's auth (OAuth2 token, HMAC signature, TLS files) and the
     * call's count in the child's stats, as for its HTTP actions */
    char saved[sizeof(v->ctx->error)];
    memcpy(saved, v->ctx->error, sizeof(saved));
    handler_result hr = auth_send(v->ctx, v->svc, method, &rq, &v->rs);
    explicit_bzero(hdrs, sizeof(hdrs));
    if (hr != HANDLER_OK) {
        snprintf(v->error, sizeof(v->error), "%s", v->ctx->error);
        memcpy(v->ctx->error, saved, sizeof(saved)); /* the handler says how the job ends */
        return -1;
    }
    out->status = v->rs.status;
    out->body = v->rs.body.buf ? v->rs.body.buf : "";
    out->body_len = v->rs.body.len;
    out->retry_after_ms = v->rs.retry_after_ms;
    return 0;
}

static const syncq_host host = {host_http, host_log, host_stopping, host_keep};

/* ---- the view ---- */

static const svc_service *
service_of(const handler_ctx *ctx)
{
    const struct svc_file *f = ctx->world->svc;
    for (int i = 0; f && i < f->nservices; i++)
        if (!strcmp(f->services[i].name, ctx->env->service)) return &f->services[i];
    return NULL;
}

/* service_text is the service's config without secrets (headers are not
 * in it: host->http applies them). Caller frees. */
static char *
service_text(const svc_service *s)
{
    sbuf b;
    if (!s) return xstrdup("null");
    sbuf_init(&b);
    sbuf_addc(&b, '{');
    sbuf_json_key(&b, "name");
    sbuf_json_strz(&b, s->name);
    sbuf_json_key(&b, "base_url");
    sbuf_json_strz(&b, s->base_url);
    sbuf_printf(&b, ",\"connect_timeout_ms\":%d,\"timeout_ms\":%d,\"rate_limit\":", s->connect_timeout_ms, s->timeout_ms);
    if (s->rate_per_s > 0) sbuf_printf(&b, "{\"per_second\":%.6g,\"burst\":%d}", s->rate_per_s, s->burst);
    else sbuf_adds(&b, "null");
    sbuf_addc(&b, '}');
    return sbuf_steal(&b, NULL);
}

handler_view *
handler_view_open(handler_ctx *ctx, void *data, int full)
{
    handler_view *v = xcalloc(1, sizeof(*v));
    const envelope *e = ctx->env;
    syncq_job *j = &v->job;
    v->ctx = ctx;
    v->started_ms = clock_wall_ms();
    j->abi = SYNCQ_HANDLER_ABI;
    j->id = ctx->job_id;
    j->queue = ctx->queue;
    j->kind = envelope_kind_name(e->kind);
    j->service = e->service;
    j->action = e->action;
    j->target_type = e->target_type;
    j->target_id = e->target_id;
    j->scope = e->scope;
    j->actor = e->actor;
    j->idempotency_key = handler_idempotency_key(ctx);
    j->expected_hash = e->expected_hash;
    j->attempt = ctx->attempt;
    j->max_attempts = ctx->max_attempts;
    j->timeout_ms = ctx->timeout_ms;
    j->host = &host;
    j->data = data;
    if (full) {
        v->svc = ctx->world ? service_of(ctx) : NULL;
        v->payload = e->payload ? json_print(e->payload) : NULL;
        if (!v->payload) v->payload = xstrdup("{}");
        v->service = service_text(v->svc);
        j->payload_json = v->payload;
        j->service_json = v->service;
    }
    return v;
}

static const char *const kind_names[] = {"success", "transient", "permanent", "conflict", "defer"};

handler_result
handler_view_outcome(handler_view *v, const syncq_outcome *o)
{
    handler_ctx *ctx = v->ctx;
    exec_secrets s;
    char err[128];
    if ((int)o->kind < SYNCQ_SUCCESS || (int)o->kind > SYNCQ_DEFER)
        return handler_fail(ctx, HANDLER_PERMANENT, "the handler returned an unknown outcome (%d)", (int)o->kind);
    exec_secrets_of(ctx, NULL, &s);
    handler_result hr = (handler_result)o->kind;
    if (hr == HANDLER_OK) {
        if (!o->result) return HANDLER_OK;
        json *r = json_parse(o->result, strlen(o->result), err, sizeof(err));
        if (!r) return handler_fail(ctx, HANDLER_PERMANENT, "the handler's result is not JSON (%s)", err);
        exec_set_result(ctx, r, &s); /* masked by value here, by key and pattern by job.c */
        json_free(r);
        return HANDLER_OK;
    }
    if (o->reason && *o->reason) {
        char *m = exec_mask(o->reason, strlen(o->reason), &s);
        snprintf(ctx->error, sizeof(ctx->error), "%s", m);
        free(m);
    } else {
        snprintf(ctx->error, sizeof(ctx->error), "the handler ended %s without a reason", kind_names[o->kind]);
    }
    ctx->retry_after_ms = o->retry_after_ms >= 0 && o->retry_after_ms <= 86400000 ? o->retry_after_ms : -1;
    return hr;
}

void
handler_view_close(handler_view *v)
{
    if (!v) return;
    if (v->payload) explicit_bzero(v->payload, strlen(v->payload)); /* unmasked */
    free(v->payload);
    free(v->service);
    for (int i = 0; i < v->nkept; i++) free(v->kept[i]);
    http_response_free(&v->rs);
    free(v);
}
