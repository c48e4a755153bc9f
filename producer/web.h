/* web.h - `syncq web`: the web console (docs/WEB.md). An HTTP server
 * embedded with libmicrohttpd, pages rendered on the server, each with a
 * JSON twin under /api/. Split by concept:
 *   web.c            the server: libmicrohttpd, request bodies, headers, dispatch
 *   web_cmd.c        the subcommand: flags, `web passwd`, `web token`
 *   web_route.c      the route table's matching and the access gate (pure)
 *   web_session.c    login sessions and their CSRF tokens (pure)
 *   web_auth.c       the users file, password and token hashes (libcrypt)
 *   web_html.c       escaping, forms, the page layout
 *   web_chart.c      inline SVG charts
 *   web_action.c     operator actions: the CLI's own verbs, run as a child
 *   web_task.c       bulk dead-letter actions in the background, with progress
 *   web_page_*.c     one file per page (and its JSON twin)
 * Only web.c includes microhttpd.h; only web_auth.c includes crypt.h.
 *
 * The server runs every request on one thread (libmicrohttpd's internal
 * polling thread), so sessions and connections need no lock; a console
 * serves a few operators, and a page takes milliseconds. One more thread
 * reads the overview's 24 h figures in the background, on its own
 * connection, behind a mutex (web_page_overview.c). */
#ifndef SYNCQ_WEB_H
#define SYNCQ_WEB_H

#include <stddef.h> /* for size_t */
#include <stdint.h> /* for int64_t */

#include "cli.h"
#include "db.h"
#include "rds.h"
#include "sbuf.h"

typedef enum web_role { WEB_ROLE_NONE = 0, WEB_ROLE_VIEWER = 1, WEB_ROLE_MANAGER = 2 } web_role;

#define WEB_NAME_MAX 64

/* ---------------------------------------------------------------- Users (web_auth.c) */

/* One line of the users file: name:role:password-hash[:token-hash]. */
typedef struct web_user {
    char name[WEB_NAME_MAX];
    web_role role;
    char hash[256];       /* crypt(3) hash of the password; "" = no password login */
    char token_hash[256]; /* crypt(3) hash of the API token's secret; "" = none */
} web_user;

typedef struct web_users {
    web_user *v; /* owned, n of them */
    int n;
} web_users;

/* web_users_load reads path. 0, or -1 with a message in err (the file's
 * line number for a bad line). A missing file is an error. */
int web_users_load(const char *path, web_users *u, char *err, size_t errlen);
void web_users_free(web_users *u);
/* web_users_find returns the user called name, or NULL. */
const web_user *web_users_find(const web_users *u, const char *name);
/* web_auth_password checks name's password: the user, or NULL (unknown
 * user, wrong password or no password set; every case costs one hash). */
const web_user *web_auth_password(const web_users *u, const char *name, const char *password);
/* web_auth_token checks a bearer token "NAME.SECRET": the user or NULL. */
const web_user *web_auth_token(const web_users *u, const char *token);
/* web_auth_hash hashes secret with a new salt (yescrypt). 0, or -1 with err. */
int web_auth_hash(const char *secret, char *out, size_t outlen, char *err, size_t errlen);
/* web_users_write replaces (or adds) user in the file at path (created mode
 * 0600), through a temporary file and rename. 0, or -1 with err. */
int web_users_write(const char *path, const web_user *user, char *err, size_t errlen);
/* web_valid_name: 1..63 of [A-Za-z0-9_.@-], not starting with '.' */
int web_valid_name(const char *s);
/* web_role_name / web_role_parse: "viewer", "manager". */
const char *web_role_name(web_role r);
web_role web_role_parse(const char *s);

/* ---------------------------------------------------------------- Sessions (web_session.c) */

#define WEB_SID_LEN 64  /* hex characters of a session id */
#define WEB_CSRF_LEN 64 /* hex characters of a CSRF token */
#define WEB_SESSIONS_MAX 256
#define WEB_SESSION_IDLE_MS (30 * 60 * 1000LL)      /* logged out after 30 minutes idle */
#define WEB_SESSION_MAX_MS (12 * 60 * 60 * 1000LL)  /* and after 12 hours whatever */

typedef struct web_session {
    char id[WEB_SID_LEN + 1];     /* "" = free slot */
    char csrf[WEB_CSRF_LEN + 1];
    char user[WEB_NAME_MAX];
    web_role role;
    int64_t created_ms, seen_ms;
    char flash[2048];             /* the last action's report, shown once on the next page */
    int flash_ok;
} web_session;

typedef struct web_sessions {
    web_session v[WEB_SESSIONS_MAX];
} web_sessions;

/* web_random_hex fills out with 2*nbytes hex characters of getrandom(2)
 * bytes and a NUL. 0, or -1 when the kernel gives none. */
int web_random_hex(char *out, size_t nbytes);
/* web_session_new starts a session for user (the oldest one is dropped when
 * the table is full). The session, or NULL when no random bytes came. */
web_session *web_session_new(web_sessions *s, const char *user, web_role role, int64_t now_ms);
/* web_session_find returns the live session with id, its idle clock reset,
 * or NULL (unknown, idle too long, too old: an expired one is dropped). */
web_session *web_session_find(web_sessions *s, const char *id, int64_t now_ms);
void web_session_drop(web_session *x);
/* web_csrf_ok: token equals the session's CSRF token (constant time). */
int web_csrf_ok(const web_session *x, const char *token);
/* web_equal compares two strings in time independent of where they differ. */
int web_equal(const char *a, const char *b);

/* ---------------------------------------------------------------- Requests */

/* A form or query string, decoded: name=value pairs in order (owned). */
typedef struct web_form {
    char **k, **v;
    int n;
} web_form;

/* web_form_parse decodes application/x-www-form-urlencoded s[0..len)
 * ('+' is a space, %XX a byte) into f; pairs without '=' get "". */
void web_form_parse(web_form *f, const char *s, size_t len);
void web_form_free(web_form *f);
/* web_form_get returns the first value of name, or NULL. */
const char *web_form_get(const web_form *f, const char *name);

typedef struct web_server web_server;

typedef struct web_req {
    web_server *srv;
    const char *method, *path;
    int api;                  /* the path is under /api/: answer JSON, 401 not a redirect */
    web_form query, form;     /* the query string and the POST body */
    const char *user;         /* authenticated name, NULL before login */
    web_role role;
    web_session *sess;        /* NULL for a bearer token */
    int tls;                  /* served over TLS */
    const char *login_cookie; /* the login form's double-submit cookie, or NULL */
} web_req;

typedef struct web_resp {
    int status;
    const char *ctype;        /* static */
    sbuf body;
    char location[1024];      /* a redirect's target, "" = none */
    char cookie[2][400];      /* Set-Cookie values, "" = none */
} web_resp;

/* web_req_arg returns a parameter: the form's for a POST, else the query's. */
const char *web_req_arg(const web_req *rq, const char *name);

/* ---------------------------------------------------------------- Routes (web_route.c) */

typedef int (*web_handler)(web_req *rq, web_resp *rs);

typedef struct web_route {
    const char *method, *path; /* exact path */
    web_role need;             /* WEB_ROLE_NONE: open (login, static files) */
    web_handler fn;
} web_route;

/* web_route_find returns the route for method and path; NULL with *status
 * 404 (no such path) or 405 (the path exists for another method). */
const web_route *web_route_find(const web_route *t, size_t n, const char *method, const char *path, int *status);

/* What the gate decides for a request. */
typedef enum web_gate {
    WEB_GATE_OK,
    WEB_GATE_LOGIN,     /* no session: a page redirects to /login, the API says 401 */
    WEB_GATE_FORBIDDEN, /* 403: the role is not enough */
    WEB_GATE_CSRF,      /* 403: a POST with a session but without its CSRF token */
} web_gate;

/* web_gate_check: route rt asked with role (NONE: not logged in); a POST on
 * a session (bearer requests carry no cookie, so no CSRF) must carry
 * csrf_ok. Fails closed: anything not allowed is refused. */
web_gate web_gate_check(const web_route *rt, web_role role, int is_post, int has_session, int csrf_ok);

/* The routes (web.c) and the pages (web_page_*.c). */
extern const web_route web_routes[];
extern const size_t web_nroutes;

/* ---------------------------------------------------------------- Server (web.c) */

typedef struct web_opts {
    const char *listen;        /* address, default 127.0.0.1 */
    int port;                  /* default 8080; 0 = any (printed) */
    const char *users_path;    /* SYNCQ_WEB_USERS; NULL = none */
    int insecure_local;        /* no users file: everyone is a manager (loopback only) */
    const char *cert, *key;    /* TLS: PEM files, both or neither */
    const char *port_file;     /* write the bound port here (tests) */
} web_opts;

/* web_serve runs the console until SIGINT or SIGTERM. Returns an exit code. */
int web_serve(config *cfg, const web_opts *o);

/* What the pages use of the server. */
const config *web_cfg(const web_req *rq);
/* web_db returns the server's PostgreSQL connection (opened on first use,
 * reopened after a failure), or NULL with the reason in err. */
db *web_db(web_req *rq, char *err, size_t errlen);
/* web_db_failed: the last query failed; the connection is dropped if dead. */
void web_db_failed(web_req *rq);
/* web_rds returns the server's Redis connection, or NULL with err. */
rds *web_rds(web_req *rq, char *err, size_t errlen);
void web_rds_failed(web_req *rq);
/* web_samples keeps the overview's history: the oldest ready age over every
 * queue at each reading (a ring of WEB_SAMPLES), for its chart. */
#define WEB_SAMPLES 120
void web_sample_add(web_req *rq, int64_t at_ms, int64_t oldest_ms);
int web_samples(const web_req *rq, int64_t *at, int64_t *oldest);
/* web_users_of: the users file (NULL with --insecure-local). */
const web_users *web_users_of(const web_req *rq);
web_sessions *web_sessions_of(web_req *rq);

/* ---------------------------------------------------------------- Pages */

int web_page_login(web_req *rq, web_resp *rs);
int web_do_login(web_req *rq, web_resp *rs);
int web_do_logout(web_req *rq, web_resp *rs);
int web_static_css(web_req *rq, web_resp *rs);
int web_static_js(web_req *rq, web_resp *rs);
int web_static_favicon(web_req *rq, web_resp *rs);
int web_page_overview(web_req *rq, web_resp *rs);
/* web_overview_start starts the thread that reads the overview's 24 h
 * figures once a minute (web_page_overview.c). 0, or -1. */
int web_overview_start(const config *cfg);
int web_page_jobs(web_req *rq, web_resp *rs);
int web_page_job(web_req *rq, web_resp *rs);
int web_do_job_retry(web_req *rq, web_resp *rs);
int web_do_job_cancel(web_req *rq, web_resp *rs);
int web_page_dlq(web_req *rq, web_resp *rs);
int web_do_dlq(web_req *rq, web_resp *rs);
int web_page_snapshots(web_req *rq, web_resp *rs);
int web_page_queues(web_req *rq, web_resp *rs);
int web_do_queue(web_req *rq, web_resp *rs);

/* web_error answers status with a message (a page, or {"error": ...}). */
int web_error(web_req *rq, web_resp *rs, int status, const char *msg);
/* web_redirect answers 303 See Other to location. */
int web_redirect(web_resp *rs, const char *location);
/* web_json starts a JSON answer (200) and returns its body. */
sbuf *web_json(web_resp *rs);

#endif
