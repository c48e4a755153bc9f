/* auth.c - a service's auth on its requests; see auth.h.
 *
 * The OAuth2 token (client-credentials grant, RFC 6749 section 4.4) is
 * fetched once per expiry for the whole fleet: a child that finds no token
 * in Redis takes the fetch lock (SET NX PX); the one that gets it fetches,
 * stores the token with its expiry (PX, a little before the provider's) and
 * releases the lock; the others poll for the token meanwhile, and take the
 * lock themselves if it goes without a token (its holder failed or died).
 * Every request reads the token from Redis (one GET, far cheaper than the
 * HTTP call it authorises) rather than trusting a copy of its own: so a
 * token dropped after a 401, or expired, is gone for every child at once,
 * and no child sends a token Redis no longer holds. A 401 drops the token in Redis only if it is still the one
 * that was refused (compare and delete: a child that was refused a token
 * another has already replaced does not throw the new one away), then the
 * next request finds the new token or fetches it.
 *
 * Redis holds the token sealed (AES-256-GCM) under a key derived from the
 * client secret, so whoever can read Redis but not the worker's environment
 * (a shared Redis, a dump, MONITOR) sees no usable token; a worker with
 * another secret cannot open it and fetches its own. Every token, and the
 * credentials as sent, is registered for masking by value (mask.h) before
 * anything could print it. */
#include "fmacros.h"
#include "auth.h"
#include "clock.h"
#include "crypto.h"
#include "fiber.h"
#include "json.h"
#include "keys.h"
#include "log.h"
#include "mask.h"
#include "pct.h"
#include "queue.h"
#include "sbuf.h"
#include "services.h"
#include "sign.h"
#include "sigv4.h"
#include "stats.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define TOKEN_MAX 8192           /* bytes of an access token */
#define TOKEN_DEFAULT_TTL_MS 300000 /* a token answered without expires_in is kept 5 minutes */
#define TOKEN_MARGIN_MS 30000    /* at most this much before the provider's expiry, a token is dropped */
#define WAIT_STEP_MS 25          /* a waiting child looks for the token this often */
#define LOCK_MARGIN_MS 5000      /* the fetch lock outlives the token request's timeout by this */
#define EXCERPT_MAX 300
#define TOKENS_MASKED 4          /* a service's latest tokens stay registered for masking; older ones are
                                  * forgotten, so a provider issuing short-lived tokens cannot grow the
                                  * list (and every masking pass) without bound */

/* token is this child's copy of one service's token. */
typedef struct token {
    char *service;               /* owned */
    char *value;                 /* owned plaintext, NULL when none */
    char *sealed;                /* owned: as stored in Redis, for the compare and delete; NULL when
                                  * the token was not stored (it serves one request) */
    char *masked[TOKENS_MASKED]; /* owned: the latest values registered with mask_secret_add, oldest first */
} token;

static token *tokens;
static int ntokens;

static token *
token_of(const char *service)
{
    for (int i = 0; i < ntokens; i++)
        if (!strcmp(tokens[i].service, service)) return &tokens[i];
    tokens = xrealloc(tokens, (size_t)(ntokens + 1) * sizeof(*tokens));
    memset(&tokens[ntokens], 0, sizeof(*tokens));
    tokens[ntokens].service = xstrdup(service);
    return &tokens[ntokens++];
}

static void
wipe(char **s)
{
    if (*s) explicit_bzero(*s, strlen(*s));
    free(*s);
    *s = NULL;
}

/* remember keeps value among the service's registered tokens (it is
 * registered already) and forgets the oldest beyond TOKENS_MASKED. */
static void
remember(token *t, const char *value)
{
    for (int i = 0; i < TOKENS_MASKED; i++)
        if (t->masked[i] && !strcmp(t->masked[i], value)) return;
    mask_secret_add(value); /* a no-op when registered: the registration must not depend on this call */
    if (t->masked[0]) {
        mask_secret_forget(t->masked[0]);
        wipe(&t->masked[0]);
    }
    memmove(t->masked, t->masked + 1, (TOKENS_MASKED - 1) * sizeof(*t->masked));
    t->masked[TOKENS_MASKED - 1] = xstrdup(value);
}

static void
token_drop(token *t)
{
    wipe(&t->value);
    wipe(&t->sealed);
}

/* seal_key derives the sealing key from the client secret and what the
 * token is for, so a token of another scope or client never opens. */
static int
seal_key(const svc_service *s, unsigned char key[CRYPTO_KEY_LEN])
{
    const svc_oauth2 *o = s->oauth2;
    unsigned char mac[CRYPTO_MAC_MAX];
    size_t n = 0;
    sbuf b;
    sbuf_init(&b);
    sbuf_printf(&b, "syncq oauth2 token cache\n%s\n%s\n%s\n%s", s->name, o->token_url, o->client_id,
                o->scope ? o->scope : "");
    int rc = crypto_hmac(CRYPTO_SHA256, o->client_secret, strlen(o->client_secret), b.buf, b.len, mac, &n);
    sbuf_free(&b);
    if (rc == 0) memcpy(key, mac, CRYPTO_KEY_LEN);
    explicit_bzero(mac, sizeof(mac));
    return rc;
}

/* ---- the shared copy in Redis ---- */

/* shared_read loads the token Redis holds into t: 1 found, 0 none (or one
 * this configuration cannot open), -1 Redis. The value is opened only when
 * it changed since this child last read it. */
static int
shared_read(rds *r, const svc_service *s, const char *key, token *t)
{
    unsigned char k[CRYPTO_KEY_LEN];
    rds_reply *x = rds_cmdf(r, "GET %s", key);
    int rc = -1;
    if (!rds_reply_ok(r, x)) goto out;
    rc = 0;
    if (rds_reply_type(x) != RDS_STR) goto out;
    const char *sealed = rds_reply_str(x, NULL);
    if (t->value && t->sealed && !strcmp(t->sealed, sealed)) {
        rc = 1;
        goto out;
    }
    if (seal_key(s, k) < 0) goto out;
    char *plain = crypto_open(k, sealed);
    explicit_bzero(k, sizeof(k));
    if (!plain) goto out; /* sealed under another secret or scope: fetch our own */
    mask_secret_add(plain);
    remember(t, plain);
    token_drop(t);
    t->value = plain;
    t->sealed = xstrdup(sealed);
    rc = 1;
out:
    rds_reply_free(x);
    return rc;
}

/* shared_drop deletes the token in Redis if it is still sealed, the one
 * that was refused: syncq_unlock is exactly that compare and delete. */
static void
shared_drop(rds *r, const char *key, const char *sealed)
{
    (void)queue_unlock(r, key, sealed); /* if it fails, the token's expiry drops it */
}

/* ---- the token request ---- */

/* form_add appends &name=value (form-urlencoded; RFC 6749 appendix B); -1
 * when value is over 1 KiB. */
static int
form_add(sbuf *b, const char *name, const char *value)
{
    char enc[3 * 1024 + 1];
    if (strlen(value) > 1024 || pct_encode(value, PCT_UNRESERVED, enc, sizeof(enc)) < 0) return -1;
    sbuf_printf(b, "%s%s=%s", b->len ? "&" : "", name, enc);
    explicit_bzero(enc, sizeof(enc));
    return 0;
}

/* basic_header writes "Authorization: Basic base64(id:secret)", both parts
 * form-urlencoded first (RFC 6749 section 2.3.1), and registers what it
 * sends for masking. */
static int
basic_header(const svc_oauth2 *o, char *out, size_t outlen)
{
    char id[1024], secret[3 * 1024 + 1], pair[sizeof(id) + sizeof(secret) + 1], b64[sizeof(pair) * 4 / 3 + 8];
    int rc = -1;
    if (pct_encode(o->client_id, PCT_UNRESERVED, id, sizeof(id)) < 0 ||
        pct_encode(o->client_secret, PCT_UNRESERVED, secret, sizeof(secret)) < 0)
        goto out;
    snprintf(pair, sizeof(pair), "%s:%s", id, secret);
    if (crypto_base64((const unsigned char *)pair, strlen(pair), b64, sizeof(b64)) < 0) goto out;
    mask_secret_add(secret);
    mask_secret_add(b64);
    snprintf(out, outlen, "Authorization: Basic %s", b64);
    rc = 0;
out:
    explicit_bzero(secret, sizeof(secret));
    explicit_bzero(pair, sizeof(pair));
    explicit_bzero(b64, sizeof(b64));
    return rc;
}

static void
tls_of(const svc_service *s, http_request *rq)
{
    rq->ca_file = s->tls.ca_file;
    rq->cert_file = s->tls.cert_file;
    rq->key_file = s->tls.key_file;
    rq->key_password = s->tls.key_password;
}

/* token_answer reads a 2xx token answer: the token (registered for masking
 * at once) and its lifetime in ms. */
static handler_result
token_answer(handler_ctx *ctx, const http_response *rs, char **value, int64_t *ttl_ms)
{
    char err[128];
    json *root = json_parse(rs->body.buf ? rs->body.buf : "", rs->body.len, err, sizeof(err));
    const char *tok = json_str(json_get(root, "access_token"));
    const char *type = json_str(json_get(root, "token_type"));
    const json *exp = json_get(root, "expires_in");
    handler_result hr = HANDLER_PERMANENT;
    if (tok && *tok) mask_secret_add(tok);
    if (!tok || !*tok || strlen(tok) >= TOKEN_MAX || strpbrk(tok, "\r\n\t ")) {
        handler_fail(ctx, hr, "OAuth2 token endpoint: the answer has no usable access_token");
        goto out;
    }
    if (type && strcasecmp(type, "bearer") != 0) {
        handler_fail(ctx, hr, "OAuth2 token endpoint: token_type \"%.32s\" is not supported (bearer only)", type);
        goto out;
    }
    double secs = json_typeof(exp) == JSON_NUMBER ? json_num(exp)
                : json_typeof(exp) == JSON_STRING ? strtod(json_str(exp), NULL) : -1; /* some send "3600" */
    *ttl_ms = secs >= 0 && secs < 1e8 ? (int64_t)(secs * 1000) : TOKEN_DEFAULT_TTL_MS;
    *value = xstrdup(tok);
    hr = HANDLER_OK;
out:
    json_free(root);
    return hr;
}

/* token_request asks the token endpoint for a token. */
static handler_result
token_request(handler_ctx *ctx, const svc_service *s, char **value, int64_t *ttl_ms)
{
    const svc_oauth2 *o = s->oauth2;
    http_request rq;
    http_response rs;
    char basic[8192] = "";
    sbuf form;
    handler_result hr;
    memset(&rq, 0, sizeof(rq));
    memset(&rs, 0, sizeof(rs));
    sbuf_init(&form);
    rq.headers[rq.nheaders++] = "Content-Type: application/x-www-form-urlencoded";
    rq.headers[rq.nheaders++] = "Accept: application/json";
    int post = o->client_auth == OAUTH2_CLIENT_POST;
    if (form_add(&form, "grant_type", "client_credentials") < 0 || (o->scope && form_add(&form, "scope", o->scope) < 0) ||
        (post && (form_add(&form, "client_id", o->client_id) < 0 || form_add(&form, "client_secret", o->client_secret) < 0)) ||
        (!post && basic_header(o, basic, sizeof(basic)) < 0)) {
        hr = handler_fail(ctx, HANDLER_PERMANENT, "OAuth2: the client id, secret or scope is longer than 1 KiB");
        goto out;
    }
    if (!post) rq.headers[rq.nheaders++] = basic;
    rq.method = "POST";
    rq.url = o->token_url;
    rq.body = form.buf;
    rq.body_len = form.len;
    rq.connect_timeout_ms = s->connect_timeout_ms;
    rq.timeout_ms = s->timeout_ms;
    tls_of(s, &rq);
    if (http_do(ctx->world->http, &rq, &rs) < 0) {
        hr = handler_fail(ctx, ctx->world->http->tls_config ? HANDLER_PERMANENT : HANDLER_TRANSIENT,
                          "OAuth2 token request: %s", ctx->world->http->errstr);
        goto out;
    }
    if (rs.status / 100 != 2) {
        char *m = mask_excerpt(rs.body.buf, rs.body.len, EXCERPT_MAX);
        /* 400 invalid_client or invalid_scope: the credentials or the scope need fixing */
        int busy = rs.status == 408 || rs.status == 429 || rs.status >= 500;
        if (rs.retry_after_ms >= 0) ctx->retry_after_ms = rs.retry_after_ms;
        hr = handler_fail(ctx, busy ? HANDLER_TRANSIENT : HANDLER_PERMANENT,
                          "OAuth2 token endpoint answered HTTP %d: %s", rs.status, m);
        free(m);
        goto out;
    }
    hr = token_answer(ctx, &rs, value, ttl_ms);
    if (hr == HANDLER_OK)
        log_msg(LOG_INFO, "oauth2.token", "fetched a token for %s, valid %lld s", s->name, (long long)(*ttl_ms / 1000));
out:
    if (rs.body.buf) explicit_bzero(rs.body.buf, rs.body.len); /* it held the token */
    http_response_free(&rs);
    if (form.buf) explicit_bzero(form.buf, form.len);
    sbuf_free(&form);
    explicit_bzero(basic, sizeof(basic));
    return hr;
}

/* fetch_shared fetches a token under the lock and stores it for the fleet. */
static handler_result
fetch_shared(handler_ctx *ctx, const svc_service *s, rds *r, const char *key, token *t)
{
    char *value = NULL, px[24];
    int64_t ttl = 0;
    unsigned char k[CRYPTO_KEY_LEN];
    int64_t asked = clock_mono_ms();
    handler_result hr = token_request(ctx, s, &value, &ttl);
    if (hr != HANDLER_OK) return hr;
    /* drop it a little before the provider does (a request in flight must
     * not carry a dying token), counting from when we asked: the provider's
     * clock started at most then */
    int64_t margin = ttl / 10 < TOKEN_MARGIN_MS ? ttl / 10 : TOKEN_MARGIN_MS;
    ttl -= clock_mono_ms() - asked;
    remember(t, value);
    token_drop(t);
    t->value = value;
    if (ttl - margin <= 0 || seal_key(s, k) < 0) return HANDLER_OK; /* good for this request only */
    t->sealed = crypto_seal(k, value);
    explicit_bzero(k, sizeof(k));
    if (!t->sealed) return HANDLER_OK;
    snprintf(px, sizeof(px), "%lld", (long long)(ttl - margin));
    const char *argv[] = {"SET", key, t->sealed, "PX", px};
    size_t lens[] = {3, strlen(key), strlen(t->sealed), 2, strlen(px)};
    rds_reply_free(rds_cmd(r, 5, argv, lens)); /* not stored: the others fetch their own, no harm done */
    return HANDLER_OK;
}

/* lock_take: 1 taken, 0 another worker holds it, -1 Redis. */
static int
lock_take(rds *r, const char *lock, const char *owner, int64_t ttl_ms)
{
    char px[24];
    snprintf(px, sizeof(px), "%lld", (long long)ttl_ms);
    const char *argv[] = {"SET", lock, owner, "NX", "PX", px};
    size_t lens[] = {3, strlen(lock), strlen(owner), 2, 2, strlen(px)};
    rds_reply *x = rds_cmd(r, 6, argv, lens);
    int rc = !rds_reply_ok(r, x) ? -1 : rds_reply_type(x) == RDS_STATUS;
    rds_reply_free(x);
    return rc;
}

/* token_get makes t hold a live token: the fleet's, or one this child
 * fetches while the others wait. */
static handler_result
token_get(handler_ctx *ctx, const svc_service *s, token *t)
{
    char key[KEY_MAX], lock[KEY_MAX], owner[96];
    rds *r = handler_redis(ctx);
    if (!r) return handler_fail(ctx, HANDLER_DEFER, "OAuth2 token cache: Redis unavailable");
    keys_oauth2(key, lock, sizeof(key), ctx->world->cfg->prefix, s->name);
    snprintf(owner, sizeof(owner), "%d:%s", (int)getpid(), ctx->job_id);
    int64_t lock_ms = (int64_t)s->timeout_ms + LOCK_MARGIN_MS;
    int64_t deadline = clock_mono_ms() + lock_ms + 2000; /* a holder that died: its lock expires, we take it */
    for (;;) {
        int got = shared_read(r, s, key, t);
        if (got == 1) return HANDLER_OK;
        if (got == 0) got = lock_take(r, lock, owner, lock_ms);
        if (got < 0) return handler_fail(ctx, HANDLER_DEFER, "OAuth2 token cache: Redis: %s", r->errstr);
        if (got == 1) {
            /* look again under the lock: the last holder may have stored a
             * token and let go between our read and our SET NX */
            got = shared_read(r, s, key, t);
            handler_result hr = got == 1 ? HANDLER_OK
                              : got == 0 ? fetch_shared(ctx, s, r, key, t)
                                         : handler_fail(ctx, HANDLER_DEFER, "OAuth2 token cache: Redis: %s", r->errstr);
            shared_drop(r, lock, owner);
            return hr;
        }
        if (clock_mono_ms() > deadline || (ctx->stop && *ctx->stop))
            return handler_fail(ctx, HANDLER_TRANSIENT, "OAuth2: no token after waiting %lld ms for another "
                                "worker's token request", (long long)lock_ms);
        fiber_nap_us(WAIT_STEP_MS * 1000); /* the sibling fetching the token may be a fiber of this child */
    }
}

/* token_refused drops a token the service answered 401 to, here and, if
 * nobody replaced it yet, in Redis. */
static void
token_refused(handler_ctx *ctx, const svc_service *s, token *t)
{
    char key[KEY_MAX], lock[KEY_MAX];
    rds *r = handler_redis(ctx);
    keys_oauth2(key, lock, sizeof(key), ctx->world->cfg->prefix, s->name);
    if (r && t->sealed) shared_drop(r, key, t->sealed);
    token_drop(t);
    log_msg(LOG_INFO, "oauth2.refused", "%s answered HTTP 401 to the OAuth2 credential in use; fetching a fresh one",
            s->name);
}

/* ---- signing ---- */

/* target is the request target of url: its path and query, as sent. */
static const char *
target(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    p += strcspn(p, "/?");
    return *p == '/' ? p : "/";
}

static int
sign(const svc_service *s, const http_request *rq, char *sig, size_t siglen, char *ts, size_t tslen)
{
    const sign_spec *g = s->hmac;
    char value[SIGN_VALUE_MAX], path[4096];
    sign_input in = {rq->method, path, rq->body, rq->body_len, (long long)time(NULL)};
    snprintf(path, sizeof(path), "%s", target(rq->url));
    if (sign_value(g, &in, value, sizeof(value)) < 0) return -1;
    snprintf(sig, siglen, "%s: %s", g->header, value);
    if (g->timestamp_header) snprintf(ts, tslen, "%s: %lld", g->timestamp_header, in.timestamp);
    return 0;
}

/* aws is the AWS Signature Version 4 headers of one request. */
typedef struct aws {
    sigv4_out o;
    char auth[sizeof(((sigv4_out *)0)->authorization) + 32], date[64], sha[128], token[8192];
} aws;

static int
aws_sign(const svc_service *s, http_request *rq, aws *a, char *err, size_t errlen)
{
    const sigv4_spec *v = s->sigv4;
    if (sigv4_request(v, rq->method, rq->url, rq->body, rq->body_len, time(NULL), &a->o, err, errlen) < 0) return -1;
    snprintf(a->auth, sizeof(a->auth), "Authorization: %s", a->o.authorization);
    snprintf(a->date, sizeof(a->date), "X-Amz-Date: %s", a->o.amz_date);
    snprintf(a->sha, sizeof(a->sha), "X-Amz-Content-Sha256: %s", a->o.content_sha256);
    rq->headers[rq->nheaders++] = a->auth;
    rq->headers[rq->nheaders++] = a->date;
    rq->headers[rq->nheaders++] = a->sha;
    if (v->session_token) {
        snprintf(a->token, sizeof(a->token), "X-Amz-Security-Token: %s", v->session_token);
        rq->headers[rq->nheaders++] = a->token;
    }
    return 0;
}

/* ---- the call ---- */

handler_result
auth_send(handler_ctx *ctx, const svc_service *s, const char *what, http_request *rq, http_response *rs)
{
    char bearer[TOKEN_MAX + 32], sig[SIGN_VALUE_MAX + 256], ts[256], err[256];
    aws a;
    int base = rq->nheaders;
    token *t = s->oauth2 ? token_of(s->name) : NULL;
    handler_result hr = HANDLER_OK;
    tls_of(s, rq);
    for (int tries = 0; tries < 2; tries++) {
        rq->nheaders = base;
        if (t) {
            if ((hr = token_get(ctx, s, t)) != HANDLER_OK) break;
            snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s", t->value);
            rq->headers[rq->nheaders++] = bearer;
        }
        if (s->hmac) {
            if (sign(s, rq, sig, sizeof(sig), ts, sizeof(ts)) < 0) {
                hr = handler_fail(ctx, HANDLER_PERMANENT, "%s: the HMAC signature could not be made", what);
                break;
            }
            rq->headers[rq->nheaders++] = sig;
            if (s->hmac->timestamp_header) rq->headers[rq->nheaders++] = ts;
        }
        if (s->sigv4 && aws_sign(s, rq, &a, err, sizeof(err)) < 0) {
            hr = handler_fail(ctx, HANDLER_PERMANENT, "%s: %s", what, err);
            break;
        }
        http_response_free(rs);
        memset(rs, 0, sizeof(*rs));
        int rc = http_do(ctx->world->http, rq, rs);
        stats_http(ctx->world->stats, s->name, rc < 0 ? 0 : rs->status);
        if (rc < 0) {
            hr = handler_fail(ctx, ctx->world->http->tls_config ? HANDLER_PERMANENT : HANDLER_TRANSIENT, "%s: %s",
                              what, ctx->world->http->errstr);
            break;
        }
        if (!(t && rs->status == 401 && tries == 0)) break;
        token_refused(ctx, s, t); /* once: a fresh token refused too is the answer */
    }
    explicit_bzero(bearer, sizeof(bearer));
    explicit_bzero(a.token, sizeof(a.token));
    rq->nheaders = base;
    return hr;
}
