/* paging.c - the pagination styles of sync walks (see paging.h). */
#include "fmacros.h"
#include "paging.h"
#include "pct.h"

#include <stdio.h>
#include <string.h>

/* add_param appends ?name=value (or &name=value), value percent-encoded.
 * A style whose parameter is named "" sends none. */
static int
add_param(char *url, size_t len, const char *name, const char *value)
{
    char enc[PAGING_CURSOR_MAX * 3 + 1];
    size_t u = strlen(url);
    if (!name || !*name) return 0;
    if (pct_encode(value, PCT_UNRESERVED, enc, sizeof(enc)) < 0) return -1;
    int n = snprintf(url + u, len - u, "%c%s=%s", strchr(url, '?') ? '&' : '?', name, enc);
    return n < 0 || (size_t)n >= len - u ? -1 : 0;
}

static int
add_num(char *url, size_t len, const char *name, long v)
{
    char s[32];
    snprintf(s, sizeof(s), "%ld", v);
    return add_param(url, len, name, s);
}

/* ---------------------------------------------------------------- Styles */

/* page: page numbers from first_page; done on a short page */
static int
page_position(const paging_walk *w, char *url, size_t len)
{
    return add_num(url, len, w->res->page_param, (long)w->res->first_page + w->pages);
}

static int
short_page(paging_walk *w, const json *root, int n, const char *link_next)
{
    (void)root;
    (void)link_next;
    return n < w->res->page_size;
}

/* offset: the items read so far; done on a short page. A "total" that
 * changes between answers means rows shifted under the walk (drift). */
static int
offset_position(const paging_walk *w, char *url, size_t len)
{
    return add_num(url, len, w->res->offset_param, w->items);
}

static int
offset_next(paging_walk *w, const json *root, int n, const char *link_next)
{
    const char *path = w->res->total_path;
    if (path && *path) {
        const json *t = paging_at(root, path);
        double total = json_typeof(t) == JSON_NUMBER ? json_num(t) : -1;
        if (w->total < 0) w->total = total;
        else if (total != w->total) w->drift = 1;
    }
    return short_page(w, root, n, link_next);
}

/* cursor: the answer names the next cursor at "next"; done without one */
static int
cursor_position(const paging_walk *w, char *url, size_t len)
{
    return w->cursor[0] ? add_param(url, len, w->res->cursor_param, w->cursor) : 0;
}

static int
cursor_next(paging_walk *w, const json *root, int n, const char *link_next)
{
    (void)n;
    (void)link_next;
    const char *c = json_str(paging_at(root, w->res->next_path));
    if (!c || !*c) return 1;
    if (strlen(c) >= sizeof(w->cursor)) return -1; /* never a cut cursor: it would name another place */
    memcpy(w->cursor, c, strlen(c) + 1);
    return 0;
}

/* link: the first request may name its page; then the Link header's URL
 * (RFC 8288 rel="next"); done without one */
static int
link_next(paging_walk *w, const json *root, int n, const char *next)
{
    (void)root;
    (void)n;
    if (!next || !*next) return 1;
    if (strlen(next) >= sizeof(w->link)) return -1;
    memcpy(w->link, next, strlen(next) + 1);
    return 0;
}

#define KEYS(...) ((const char *const[]){"style", "size", "size_param", __VA_ARGS__, NULL})

const paging_style paging_styles[] = {
    /* name, id, members, default size_param, required member and what it says, follows Link, position, next */
    {"page", PAGE_PAGE, KEYS("page_param", "first_page"), "per_page", NULL, NULL, 0, page_position, short_page},
    {"offset", PAGE_OFFSET, KEYS("offset_param", "total"), "limit", NULL, NULL, 0, offset_position, offset_next},
    {"cursor", PAGE_CURSOR, KEYS("cursor_param", "next"), "limit", "next",
     "the dotted path of the next cursor, e.g. meta.next_cursor", 0, cursor_position, cursor_next},
    /* the first request of a link walk may name its page; the rest follow Link */
    {"link", PAGE_LINK, KEYS("page_param", "first_page"), "per_page", NULL, NULL, 1, page_position, link_next},
    {NULL, 0, NULL, NULL, NULL, NULL, 0, NULL, NULL},
};

const char *const paging_names[] = {"page", "offset", "cursor", "link", NULL};
const char *const paging_keys_all[] = {"style",        "size",  "size_param",   "page_param", "first_page",
                                       "offset_param", "total", "cursor_param", "next",       NULL};

const paging_style *
paging_style_of(svc_paging id)
{
    return &paging_styles[id];
}

/* ---------------------------------------------------------------- Walks */

const json *
paging_at(const json *root, const char *path)
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

void
paging_walk_init(paging_walk *w, const svc_resource *res)
{
    memset(w, 0, sizeof(*w));
    w->res = res;
    w->total = -1;
}

int
paging_url(const paging_walk *w, const char *base, char *url, size_t len)
{
    const paging_style *s = paging_style_of(w->res->paging);
    const char *from = s->follows_link && w->pages > 0 ? w->link : base;
    int n = snprintf(url, len, "%s", from);
    if (n < 0 || (size_t)n >= len) return -1;
    if (from == w->link) return 0; /* the service's own URL, as sent */
    if (add_num(url, len, w->res->size_param, w->res->page_size) < 0) return -1;
    return s->position(w, url, len);
}

int
paging_next(paging_walk *w, const json *root, int n, const char *link)
{
    w->pages++;
    w->items += n;
    return paging_style_of(w->res->paging)->next(w, root, n, link);
}
