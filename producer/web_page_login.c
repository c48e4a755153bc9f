/* web_page_login.c - login and logout. The login form carries a
 * double-submit token (a random cookie echoed in a hidden field), so another
 * site cannot log a browser in as someone else; a good login starts a
 * session (web_session.c) whose id goes into an HttpOnly, SameSite=Strict
 * cookie (Secure over TLS). */
#include "fmacros.h"
#include "clock.h"
#include "web.h"
#include "web_html.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int
form(web_req *rq, web_resp *rs, int status, const char *msg)
{
    char tok[65];
    if (web_random_hex(tok, 32) < 0) return web_error(rq, rs, 500, "no random bytes");
    snprintf(rs->cookie[1], sizeof(rs->cookie[1]), "syncq_login=%s; Path=/login; HttpOnly; SameSite=Strict%s", tok,
             rq->tls ? "; Secure" : "");
    rs->status = status;
    sbuf *b = &rs->body;
    web_page_begin(b, rq, "Log in", NULL, 0);
    sbuf_adds(b, "<form class=\"login\" method=\"post\" action=\"/login\">");
    if (msg) web_note(b, "error", msg);
    sbuf_adds(b, "<label>Name <input name=\"name\" autocomplete=\"username\" required autofocus></label>"
                 "<label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" "
                 "required></label><input type=\"hidden\" name=\"login_token\" value=\"");
    sbuf_adds(b, tok);
    sbuf_adds(b, "\"><button type=\"submit\">Log in</button></form>");
    web_page_end(b);
    return 0;
}

int
web_page_login(web_req *rq, web_resp *rs)
{
    if (rq->user) return web_redirect(rs, "/");
    return form(rq, rs, 200, NULL);
}

int
web_do_login(web_req *rq, web_resp *rs)
{
    const web_users *users = web_users_of(rq);
    const char *tok = web_req_arg(rq, "login_token");
    if (!users) return web_redirect(rs, "/"); /* --insecure-local: no login */
    if (!tok || !rq->login_cookie || !web_equal(tok, rq->login_cookie))
        return form(rq, rs, 403, "The login form expired: try again.");
    const web_user *u = web_auth_password(users, web_req_arg(rq, "name"), web_req_arg(rq, "password"));
    if (!u) return form(rq, rs, 401, "Wrong name or password.");
    /* sessions age on the monotonic clock: a wall clock step neither ends nor extends them */
    web_session *x = web_session_new(web_sessions_of(rq), u->name, u->role, clock_mono_ms());
    if (!x) return web_error(rq, rs, 500, "no random bytes for a session");
    snprintf(rs->cookie[0], sizeof(rs->cookie[0]), "syncq_session=%s; Path=/; HttpOnly; SameSite=Strict%s", x->id,
             rq->tls ? "; Secure" : "");
    snprintf(rs->cookie[1], sizeof(rs->cookie[1]), "syncq_login=; Path=/login; Max-Age=0; HttpOnly; SameSite=Strict");
    return web_redirect(rs, "/");
}

int
web_do_logout(web_req *rq, web_resp *rs)
{
    if (rq->sess) web_session_drop(rq->sess);
    rq->sess = NULL;
    snprintf(rs->cookie[0], sizeof(rs->cookie[0]), "syncq_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
             rq->tls ? "; Secure" : "");
    return web_redirect(rs, "/login");
}
