/* web_route.c - the console's request plumbing that needs no server: route
 * lookup, the access gate, and form decoding. Pure, unit-tested
 * (tests/unit/test_web_route.c). */
#include "fmacros.h"
#include "web.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- Routes */

const web_route *
web_route_find(const web_route *t, size_t n, const char *method, const char *path, int *status)
{
    int path_seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(t[i].path, path) != 0) continue;
        path_seen = 1;
        if (!strcmp(t[i].method, method)) return &t[i];
    }
    *status = path_seen ? 405 : 404;
    return NULL;
}

web_gate
web_gate_check(const web_route *rt, web_role role, int is_post, int has_session, int csrf_ok)
{
    if (is_post && has_session && !csrf_ok) return WEB_GATE_CSRF;
    if (rt->need == WEB_ROLE_NONE) return WEB_GATE_OK;
    if (role == WEB_ROLE_NONE) return WEB_GATE_LOGIN;
    if (role == WEB_ROLE_MANAGER) return WEB_GATE_OK;
    if (role == WEB_ROLE_VIEWER && rt->need == WEB_ROLE_VIEWER) return WEB_GATE_OK;
    return WEB_GATE_FORBIDDEN;
}

/* ---------------------------------------------------------------- Forms */

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* decode turns s[0..n) into a NUL-terminated malloc'd string. A NUL byte
 * (%00) ends the value: C strings cannot carry it past here. */
static char *
decode(const char *s, size_t n)
{
    char *out = xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '+') out[o++] = ' ';
        else if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 && (lo = hexval(s[i + 2])) >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else out[o++] = s[i];
    }
    out[o] = '\0';
    return out;
}

void
web_form_parse(web_form *f, const char *s, size_t len)
{
    memset(f, 0, sizeof(*f));
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && s[end] != '&') end++;
        if (end > i) {
            const char *eq = memchr(s + i, '=', end - i);
            size_t kn = eq ? (size_t)(eq - (s + i)) : end - i;
            f->k = xrealloc(f->k, (size_t)(f->n + 1) * sizeof(*f->k));
            f->v = xrealloc(f->v, (size_t)(f->n + 1) * sizeof(*f->v));
            f->k[f->n] = decode(s + i, kn);
            f->v[f->n] = eq ? decode(eq + 1, end - i - kn - 1) : xstrdup("");
            f->n++;
        }
        i = end + 1;
    }
}

void
web_form_free(web_form *f)
{
    for (int i = 0; i < f->n; i++) {
        free(f->k[i]);
        free(f->v[i]);
    }
    free(f->k);
    free(f->v);
    memset(f, 0, sizeof(*f));
}

const char *
web_form_get(const web_form *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->k[i], name)) return f->v[i];
    return NULL;
}

const char *
web_req_arg(const web_req *rq, const char *name)
{
    if (!strcmp(rq->method, "POST")) {
        const char *v = web_form_get(&rq->form, name);
        if (v) return v;
    }
    return web_form_get(&rq->query, name);
}
