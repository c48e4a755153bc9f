/* paging.h - the pagination styles of sync walks (services file
 * "pagination", docs/HANDLERS.md): one table row per style with its name,
 * the members it takes, the request of each page and how the walk reads
 * where to go next. The services parser validates against the table and
 * worker/h_sync.c walks by it; a new style is one row and its two
 * functions. Pure code (no I/O): tests/unit/test_paging.c.
 *
 * A walk: paging_walk_init, then per page paging_url (the request) and,
 * once its answer is read, paging_next (more pages, or done). */
#ifndef SYNCQ_PAGING_H
#define SYNCQ_PAGING_H

#include <stddef.h> /* for size_t */

#include "json.h"
#include "services.h"

#define PAGING_CURSOR_MAX 1024
#define PAGING_LINK_MAX 4096

typedef struct paging_walk {
    const svc_resource *res;
    int pages;                       /* answers read so far */
    long items;                      /* items the answers held (offset: the next offset) */
    double total;                    /* offset with "total": the first answer's, -1 unknown */
    int drift;                       /* offset: the total changed during the walk (rows shifted) */
    char cursor[PAGING_CURSOR_MAX];  /* cursor: the next one, raw, "" before the first answer */
    char link[PAGING_LINK_MAX];      /* link: the next URL from the Link header */
} paging_walk;

typedef struct paging_style {
    const char *name;                /* "page", "offset", "cursor", "link" */
    svc_paging id;
    const char *const *keys;         /* the members of "pagination" it takes, NULL-terminated */
    const char *size_param;          /* the default of "size_param" */
    const char *required;            /* a member it cannot do without (NULL: none) */
    const char *required_what;       /* what that member says, for the error */
    int follows_link;                /* pages after the first are the Link header's URL (the caller checks its origin) */
    /* position appends the page's position to url (page number, offset,
     * cursor); 0, or -1 when url is too small */
    int (*position)(const paging_walk *w, char *url, size_t len);
    /* next reads where the walk goes after an answer holding n items:
     * 0 more pages, 1 done, -1 the answer names a place too long to keep */
    int (*next)(paging_walk *w, const json *root, int n, const char *link_next);
} paging_style;

/* paging_styles: every style, by svc_paging, then a NULL name. */
extern const paging_style paging_styles[];
/* paging_names: the styles' names, NULL-terminated (for messages). */
extern const char *const paging_names[];
/* paging_keys_all: every member any style takes, NULL-terminated. */
extern const char *const paging_keys_all[];

/* paging_style_of returns the row of style id. */
const paging_style *paging_style_of(svc_paging id);

void paging_walk_init(paging_walk *w, const svc_resource *res);
/* paging_url writes the next request's URL: base (the service's base URL
 * and the expanded list path), the page size, the position; for a style
 * that follows Link headers, the Link's URL after the first page. Values
 * are percent-encoded (a cursor is opaque: "+", "&", "=" or "/" in it reach
 * the service as sent). 0, or -1 when url is too small. */
int paging_url(const paging_walk *w, const char *base, char *url, size_t len);
/* paging_next takes an answer holding n items (root: its body; link_next:
 * its Link rel="next" URL, "" for none): 0 more pages, 1 done, -1 when
 * the next cursor or URL is longer than PAGING_CURSOR_MAX / PAGING_LINK_MAX
 * (never cut: a cut one would name another place). */
int paging_next(paging_walk *w, const json *root, int n, const char *link_next);
/* paging_at follows a dotted path ("meta.next_cursor") from root; "" is root. */
const json *paging_at(const json *root, const char *path);

#endif
