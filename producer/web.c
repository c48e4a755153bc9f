/* web.c - the console's HTTP server (libmicrohttpd): request bodies,
 * authentication, the gate, security headers, and the connections the pages
 * share. Only this file includes microhttpd.h. Every request runs on the
 * daemon's one polling thread (web.h says why). */
#include "fmacros.h"
#include "clock.h"
#include "web.h"
#include "web_html.h"
#include "log.h"
#include "url.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BODY_MAX (1 << 20)   /* a POST body larger than 1 MiB is refused (413) */
#define REDIS_TIMEOUT_MS 5000
#define SESSION_COOKIE "syncq_session"

/* Every answer carries these: no script or style from anywhere but this
 * server and none inline, no framing, no sniffing, no referrer. */
static const char CSP[] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                          "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

struct web_server {
    const config *cfg;
    const web_opts *opts;
    web_users users;            /* empty with --insecure-local */
    web_sessions sessions;
    db d;
    int db_open;
    rds r;
    int rds_open;
    int64_t sample_at[WEB_SAMPLES], sample_oldest[WEB_SAMPLES];
    int nsamples, sample_next;
};

/* One request in flight: its body so far. */
typedef struct conn_ctx {
    sbuf body;
    int too_big;
} conn_ctx;

/* ---------------------------------------------------------------- What pages use */

const config *
web_cfg(const web_req *rq)
{
    return rq->srv->cfg;
}

const web_users *
web_users_of(const web_req *rq)
{
    return rq->srv->users.n ? &rq->srv->users : NULL;
}

web_sessions *
web_sessions_of(web_req *rq)
{
    return &rq->srv->sessions;
}

db *
web_db(web_req *rq, char *err, size_t errlen)
{
    web_server *s = rq->srv;
    if (s->db_open && db_alive(&s->d)) return &s->d;
    if (s->db_open) db_close(&s->d);
    s->db_open = 0;
    db_init(&s->d);
    if (db_connect(&s->d, s->cfg->database_url) == 0) {
        s->db_open = 1;
        return &s->d;
    }
    char shown[600];
    url_redact(s->cfg->database_url[0] ? s->cfg->database_url : "(libpq defaults)", shown, sizeof(shown));
    snprintf(err, errlen, "cannot reach PostgreSQL at %.200s: %.250s", shown, s->d.errstr);
    db_close(&s->d);
    return NULL;
}

void
web_db_failed(web_req *rq)
{
    web_server *s = rq->srv;
    if (s->db_open && !db_alive(&s->d)) {
        db_close(&s->d);
        s->db_open = 0;
    }
}

rds *
web_rds(web_req *rq, char *err, size_t errlen)
{
    web_server *s = rq->srv;
    if (s->rds_open) return &s->r;
    rds_init(&s->r);
    if (rds_connect(&s->r, s->cfg->redis_url, REDIS_TIMEOUT_MS) == 0) {
        s->rds_open = 1;
        return &s->r;
    }
    char shown[600];
    url_redact(s->cfg->redis_url, shown, sizeof(shown));
    snprintf(err, errlen, "cannot reach Redis at %.200s: %.200s", shown, s->r.errstr);
    rds_close(&s->r);
    return NULL;
}

void
web_rds_failed(web_req *rq)
{
    web_server *s = rq->srv;
    if (s->rds_open) rds_close(&s->r); /* reconnect on the next request: errors are sticky */
    s->rds_open = 0;
}

void
web_sample_add(web_req *rq, int64_t at_ms, int64_t oldest_ms)
{
    web_server *s = rq->srv;
    s->sample_at[s->sample_next] = at_ms;
    s->sample_oldest[s->sample_next] = oldest_ms;
    s->sample_next = (s->sample_next + 1) % WEB_SAMPLES;
    if (s->nsamples < WEB_SAMPLES) s->nsamples++;
}

int
web_samples(const web_req *rq, int64_t *at, int64_t *oldest)
{
    const web_server *s = rq->srv;
    int first = (s->sample_next - s->nsamples + WEB_SAMPLES) % WEB_SAMPLES;
    for (int i = 0; i < s->nsamples; i++) {
        at[i] = s->sample_at[(first + i) % WEB_SAMPLES];
        oldest[i] = s->sample_oldest[(first + i) % WEB_SAMPLES];
    }
    return s->nsamples;
}

/* ---------------------------------------------------------------- Answers */

sbuf *
web_json(web_resp *rs)
{
    rs->status = 200;
    rs->ctype = "application/json";
    sbuf_reset(&rs->body);
    return &rs->body;
}

int
web_redirect(web_resp *rs, const char *location)
{
    rs->status = 303;
    snprintf(rs->location, sizeof(rs->location), "%s", location);
    return 0;
}

int
web_error(web_req *rq, web_resp *rs, int status, const char *msg)
{
    sbuf_reset(&rs->body);
    rs->status = status;
    if (rq->api) {
        rs->ctype = "application/json";
        sbuf_adds(&rs->body, "{\"error\":");
        sbuf_json_strz(&rs->body, msg);
        sbuf_adds(&rs->body, "}\n");
        return 0;
    }
    rs->ctype = "text/html; charset=utf-8";
    char title[32];
    snprintf(title, sizeof(title), "Error %d", status);
    web_page_begin(&rs->body, rq, title, NULL, 0);
    web_note(&rs->body, "error", msg);
    web_page_end(&rs->body);
    return 0;
}

/* ---------------------------------------------------------------- Requests */

static enum MHD_Result
add_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    web_form *f = cls;
    (void)kind;
    f->k = xrealloc(f->k, (size_t)(f->n + 1) * sizeof(*f->k));
    f->v = xrealloc(f->v, (size_t)(f->n + 1) * sizeof(*f->v));
    f->k[f->n] = xstrdup(key);
    f->v[f->n] = xstrdup(value ? value : "");
    f->n++;
    return MHD_YES;
}

/* authenticate finds who asks: a bearer token (the API only), else the
 * session cookie; with --insecure-local a browser gets a session as "local". */
static void
authenticate(web_server *s, struct MHD_Connection *c, web_req *rq, web_resp *rs)
{
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (auth && !strncmp(auth, "Bearer ", 7) && rq->api) {
        const web_user *u = s->users.n ? web_auth_token(&s->users, auth + 7) : NULL;
        if (u) {
            rq->user = u->name;
            rq->role = u->role;
        }
        return; /* a wrong token is not rescued by a cookie */
    }
    const char *sid = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, SESSION_COOKIE);
    web_session *x = web_session_find(&s->sessions, sid, clock_mono_ms());
    if (!x && s->opts->insecure_local && !strcmp(rq->method, "GET")) {
        x = web_session_new(&s->sessions, "local", WEB_ROLE_MANAGER, clock_mono_ms());
        if (x) snprintf(rs->cookie[0], sizeof(rs->cookie[0]), SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s",
                        x->id, rq->tls ? "; Secure" : "");
    }
    if (x) {
        rq->sess = x;
        rq->user = x->user;
        rq->role = x->role;
    }
}

/* gate applies web_gate_check; 0 to go on, else rs holds the refusal. */
static int
gate(const web_route *rt, web_req *rq, web_resp *rs)
{
    int post = !strcmp(rq->method, "POST");
    switch (web_gate_check(rt, rq->role, post, rq->sess != NULL, web_csrf_ok(rq->sess, web_req_arg(rq, "csrf")))) {
    case WEB_GATE_OK: return 0;
    case WEB_GATE_LOGIN:
        if (rq->api) return web_error(rq, rs, 401, "log in first: a session cookie or Authorization: Bearer NAME.TOKEN"), 1;
        return web_redirect(rs, "/login"), 1;
    case WEB_GATE_CSRF: return web_error(rq, rs, 403, "this form is stale or forged (no valid CSRF token): reload the page"), 1;
    case WEB_GATE_FORBIDDEN:
    default: return web_error(rq, rs, 403, "only a manager may do this"), 1;
    }
}

static void
dispatch(web_server *s, struct MHD_Connection *c, web_req *rq, web_resp *rs)
{
    int status = 404;
    const web_route *rt = web_route_find(web_routes, web_nroutes, rq->method, rq->path, &status);
    authenticate(s, c, rq, rs);
    if (!rt) {
        web_error(rq, rs, status, status == 405 ? "method not allowed" : "no such page");
        return;
    }
    if (gate(rt, rq, rs)) return;
    rt->fn(rq, rs);
}

static void
add_headers(struct MHD_Response *r, const web_req *rq, const web_resp *rs)
{
    MHD_add_response_header(r, "Content-Security-Policy", CSP);
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(r, "Cache-Control", strncmp(rq->path, "/static/", 8) ? "no-store" : "max-age=300");
    if (rq->tls) MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs->ctype ? rs->ctype : "text/html; charset=utf-8");
    if (rs->location[0]) MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, rs->location);
    for (int i = 0; i < 2; i++)
        if (rs->cookie[i][0]) MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, rs->cookie[i]);
}

static enum MHD_Result
answer(web_server *s, struct MHD_Connection *c, const char *url, const char *method, conn_ctx *cx)
{
    web_req rq;
    web_resp rs;
    struct timespec t0, t1;
    char timing[64];
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(&rq, 0, sizeof(rq));
    memset(&rs, 0, sizeof(rs));
    sbuf_init(&rs.body);
    rs.status = 200;
    rq.srv = s;
    rq.method = method;
    rq.path = url;
    rq.api = !strncmp(url, "/api/", 5);
    rq.tls = s->opts->cert != NULL;
    rq.login_cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "syncq_login");
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_query, &rq.query);
    if (!strcmp(method, "POST")) web_form_parse(&rq.form, cx->body.buf ? cx->body.buf : "", cx->body.len);
    if (cx->too_big) web_error(&rq, &rs, 413, "the request body is too large");
    else dispatch(s, c, &rq, &rs);
    size_t len = 0;
    char *body = sbuf_steal(&rs.body, &len);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body ? body : xstrdup(""), MHD_RESPMEM_MUST_FREE);
    add_headers(r, &rq, &rs);
    /* the server's time for this answer, for people and `make bench` */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    snprintf(timing, sizeof(timing), "app;dur=%.2f",
             (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    MHD_add_response_header(r, "Server-Timing", timing);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)rs.status, r);
    MHD_destroy_response(r);
    web_form_free(&rq.query);
    web_form_free(&rq.form);
    return ok;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
           const char *upload, size_t *upload_size, void **con_cls)
{
    conn_ctx *cx = *con_cls;
    (void)version;
    if (!cx) { /* the headers: come back with the body */
        cx = xcalloc(1, sizeof(*cx));
        sbuf_init(&cx->body);
        *con_cls = cx;
        return MHD_YES;
    }
    if (*upload_size) {
        if (cx->body.len + *upload_size > BODY_MAX) cx->too_big = 1;
        else sbuf_add(&cx->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    return answer(cls, c, url, method, cx);
}

static void
on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode code)
{
    conn_ctx *cx = *con_cls;
    (void)cls, (void)c, (void)code;
    if (!cx) return;
    sbuf_free(&cx->body);
    free(cx);
    *con_cls = NULL;
}

/* ---------------------------------------------------------------- Serving */

/* A listening address, IPv4 or IPv6, and whether it is loopback. */
typedef struct listen_addr {
    struct sockaddr_storage ss;
    int v6, loopback;
} listen_addr;

static int
parse_addr(const char *host, int port, listen_addr *a)
{
    memset(a, 0, sizeof(*a));
    struct sockaddr_in *v4 = (struct sockaddr_in *)&a->ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a->ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        a->loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        a->v6 = 1;
        a->loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
        return 0;
    }
    return -1;
}

/* read_file reads a PEM file whole (malloc'd), or NULL with err. */
static char *
read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    sbuf b;
    char buf[4096];
    size_t n;
    if (!f) return snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno)), NULL;
    sbuf_init(&b);
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) sbuf_add(&b, buf, n);
    fclose(f);
    return sbuf_steal(&b, &n);
}

static struct MHD_Daemon *
start(web_server *s, const listen_addr *a, char *pem_cert, char *pem_key)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | (a->v6 ? MHD_USE_IPv6 : 0);
    if (pem_cert) {
        flags |= MHD_USE_TLS;
        return MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &a->ss,
                                MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_HTTPS_MEM_CERT, pem_cert,
                                MHD_OPTION_HTTPS_MEM_KEY, pem_key, MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_END);
    }
    return MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &a->ss,
                            MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_CONNECTION_TIMEOUT, 60u,
                            MHD_OPTION_END);
}

/* check_access refuses to serve without users unless --insecure-local on
 * loopback (fail closed). 0, or an exit code (message printed). */
static int
check_access(web_server *s, const web_opts *o, const listen_addr *a)
{
    char err[600];
    if (o->users_path && o->users_path[0]) {
        if (web_users_load(o->users_path, &s->users, err, sizeof(err)) < 0) {
            fprintf(stderr, "syncq web: %s\n", err);
            return SYNCQ_EX_USAGE;
        }
        if (s->users.n == 0) {
            fprintf(stderr, "syncq web: users file %s has no user (add one: syncq web passwd NAME)\n", o->users_path);
            return SYNCQ_EX_USAGE;
        }
        return 0;
    }
    if (!o->insecure_local) {
        fprintf(stderr, "syncq web: no users file: set SYNCQ_WEB_USERS (write one with syncq web passwd NAME), or "
                        "pass --insecure-local to serve everyone on loopback as a manager\n");
        return SYNCQ_EX_USAGE;
    }
    if (!a->loopback) {
        fprintf(stderr, "syncq web: --insecure-local only on a loopback address (127.0.0.1, ::1), not %s\n", o->listen);
        return SYNCQ_EX_USAGE;
    }
    return 0;
}

static int
write_port(const char *path, int port)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "%d\n", port);
    return fclose(f);
}

int
web_serve(config *cfg, const web_opts *o)
{
    static web_server s; /* large (the session table); one per process */
    listen_addr a;
    char err[600], *cert = NULL, *key = NULL;
    int rc = SYNCQ_EX_OK, sig;
    memset(&s, 0, sizeof(s));
    s.cfg = cfg;
    s.opts = o;
    if (parse_addr(o->listen, o->port, &a) < 0) {
        fprintf(stderr, "syncq web: bad --listen address \"%s\" (an IPv4 or IPv6 address)\n", o->listen);
        return SYNCQ_EX_USAGE;
    }
    if ((rc = check_access(&s, o, &a)) != 0) goto out;
    if (o->cert && (!(cert = read_file(o->cert, err, sizeof(err))) || !(key = read_file(o->key, err, sizeof(err))))) {
        fprintf(stderr, "syncq web: %s\n", err);
        rc = SYNCQ_EX_USAGE;
        goto out;
    }
    /* SIGINT/SIGTERM wait in sigwait below; the daemon's thread inherits the mask */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (web_overview_start(cfg) < 0) log_msg(LOG_WARN, "web.overview", "no thread for the 24 h figures");
    struct MHD_Daemon *d = start(&s, &a, cert, key);
    if (!d) {
        fprintf(stderr, "syncq web: cannot listen on %s port %d: %s\n", o->listen, o->port, strerror(errno));
        rc = SYNCQ_EX_UNAVAILABLE;
        goto out;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    int port = info ? info->port : o->port;
    if (o->port_file && write_port(o->port_file, port) < 0) fprintf(stderr, "syncq web: cannot write %s\n", o->port_file);
    log_msg(LOG_INFO, "web.listen", "listening on %s://%s%s%s:%d/ (%s)", cert ? "https" : "http", a.v6 ? "[" : "", o->listen,
             a.v6 ? "]" : "", port, s.users.n ? "users file" : "insecure-local: no login");
    sigwait(&set, &sig);
    log_msg(LOG_INFO, "web.stop", "signal %d, stopping", sig);
    MHD_stop_daemon(d);
out:
    if (s.db_open) db_close(&s.d);
    if (s.rds_open) rds_close(&s.r);
    web_users_free(&s.users);
    free(cert);
    free(key);
    return rc;
}
