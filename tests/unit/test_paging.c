/* test_paging.c - the pagination table (common/paging.h): every row is
 * consistent with the names the services file accepts, and each style's
 * first URL, next URL and end of walk; a cursor holding "+/=&" reaches the
 * service as sent. */
#include "fmacros.h"
#include "paging.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define BASE "https://api.example/v1/zones/z1/records"

static svc_resource
resource(svc_paging style)
{
    svc_resource r;
    memset(&r, 0, sizeof(r));
    r.paging = style;
    r.page_size = 2;
    r.first_page = 1;
    r.size_param = (char *)paging_style_of(style)->size_param;
    r.page_param = (char *)"page";
    r.offset_param = (char *)"offset";
    r.cursor_param = (char *)"cursor";
    r.next_path = (char *)"meta.next";
    return r;
}

/* answer parses a page body (the caller frees it). */
static json *
answer(const char *body)
{
    char err[160];
    json *j = json_parse(body, strlen(body), err, sizeof(err));
    assert_non_null(j);
    return j;
}

/* step feeds an answer of n items to w: paging_next's verdict. */
static int
step(paging_walk *w, const char *body, int n, const char *link)
{
    json *j = answer(body);
    int rc = paging_next(w, j, n, link);
    json_free(j);
    return rc;
}

static void
url_is(const paging_walk *w, const char *want)
{
    char url[8192];
    assert_int_equal(paging_url(w, BASE, url, sizeof(url)), 0);
    assert_string_equal(url, want);
}

static void
test_table(void **state)
{
    (void)state;
    int n = 0;
    for (const paging_style *s = paging_styles; s->name; s++, n++) {
        assert_int_equal(s->id, n); /* indexed by svc_paging */
        assert_string_equal(paging_names[n], s->name);
        assert_non_null(s->position);
        assert_non_null(s->next);
        assert_non_null(s->size_param);
        for (int k = 0; s->keys[k]; k++) {
            int known = 0;
            for (int a = 0; paging_keys_all[a]; a++) known |= !strcmp(paging_keys_all[a], s->keys[k]);
            assert_true(known);
        }
        if (s->required) assert_non_null(s->required_what);
    }
    assert_null(paging_names[n]);
    assert_int_equal(n, PAGE_LINK + 1);
}

static void
test_page(void **state)
{
    (void)state;
    svc_resource r = resource(PAGE_PAGE);
    paging_walk w;
    paging_walk_init(&w, &r);
    url_is(&w, BASE "?per_page=2&page=1");
    assert_int_equal(step(&w, "{}", 2, ""), 0); /* a full page: more */
    url_is(&w, BASE "?per_page=2&page=2");
    assert_int_equal(step(&w, "{}", 1, ""), 1); /* a short page ends it */
    r.first_page = 0;
    paging_walk_init(&w, &r);
    url_is(&w, BASE "?per_page=2&page=0");
}

static void
test_offset_and_drift(void **state)
{
    (void)state;
    svc_resource r = resource(PAGE_OFFSET);
    paging_walk w;
    r.total_path = (char *)"meta.total";
    paging_walk_init(&w, &r);
    url_is(&w, BASE "?limit=2&offset=0");
    assert_int_equal(step(&w, "{\"meta\":{\"total\":5}}", 2, ""), 0);
    url_is(&w, BASE "?limit=2&offset=2"); /* the items read, not the pages */
    assert_int_equal(step(&w, "{\"meta\":{\"total\":5}}", 2, ""), 0);
    assert_int_equal(w.drift, 0);
    assert_int_equal(step(&w, "{\"meta\":{\"total\":6}}", 1, ""), 1);
    assert_int_equal(w.drift, 1); /* the total moved: rows shifted under the walk */
}

static void
test_cursor(void **state)
{
    (void)state;
    svc_resource r = resource(PAGE_CURSOR);
    paging_walk w;
    paging_walk_init(&w, &r);
    url_is(&w, BASE "?limit=2"); /* no cursor before the first answer */
    /* a cursor holding + / = & reaches the service as sent (issue 11 item 5) */
    assert_int_equal(step(&w, "{\"meta\":{\"next\":\"a+b/c=d&e f\"}}", 2, ""), 0);
    url_is(&w, BASE "?limit=2&cursor=a%2Bb%2Fc%3Dd%26e%20f");
    assert_int_equal(step(&w, "{\"meta\":{\"next\":\"\"}}", 2, ""), 1);  /* "" ends it */
    paging_walk_init(&w, &r);
    assert_int_equal(step(&w, "{\"meta\":{\"next\":null}}", 2, ""), 1); /* so does null */
    paging_walk_init(&w, &r);
    assert_int_equal(step(&w, "{\"data\":[]}", 0, ""), 1);              /* and no member */
    /* a cursor too long to keep is an error, never a cut cursor */
    char body[PAGING_CURSOR_MAX + 64];
    snprintf(body, sizeof(body), "{\"meta\":{\"next\":\"%0*d\"}}", PAGING_CURSOR_MAX, 7);
    paging_walk_init(&w, &r);
    assert_int_equal(step(&w, body, 2, ""), -1);
}

static void
test_link(void **state)
{
    (void)state;
    svc_resource r = resource(PAGE_LINK);
    paging_walk w;
    paging_walk_init(&w, &r);
    assert_true(paging_style_of(PAGE_LINK)->follows_link);
    assert_false(paging_style_of(PAGE_PAGE)->follows_link);
    url_is(&w, BASE "?per_page=2&page=1");
    assert_int_equal(step(&w, "[]", 2, "https://api.example/v1/zones/z1/records?after=x&per_page=2"), 0);
    url_is(&w, "https://api.example/v1/zones/z1/records?after=x&per_page=2"); /* as the service sent it */
    assert_int_equal(step(&w, "[]", 2, ""), 1); /* no Link: the last page */
}

static void
test_url_edges(void **state)
{
    (void)state;
    svc_resource r = resource(PAGE_PAGE);
    paging_walk w;
    char url[32];
    r.size_param = (char *)""; /* a style parameter named "" is not sent */
    paging_walk_init(&w, &r);
    url_is(&w, BASE "?page=1");
    assert_int_equal(paging_url(&w, "https://a.example/x?y=1", url, sizeof(url)), 0);
    assert_string_equal(url, "https://a.example/x?y=1&page=1"); /* the path's own query stays */
    assert_int_equal(paging_url(&w, BASE, url, sizeof(url)), -1); /* never a cut URL */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),  cmocka_unit_test(test_page), cmocka_unit_test(test_offset_and_drift),
        cmocka_unit_test(test_cursor), cmocka_unit_test(test_link), cmocka_unit_test(test_url_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
