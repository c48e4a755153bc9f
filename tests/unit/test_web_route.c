/* test_web_route.c - the console's route lookup (404 vs 405), the access
 * gate (login, role, CSRF; fail closed) and form decoding. */
#include "fmacros.h"
#include "web.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static int h(web_req *rq, web_resp *rs) { (void)rq, (void)rs; return 0; }

static const web_route table[] = {
    {"GET", "/login", WEB_ROLE_NONE, h},   {"POST", "/login", WEB_ROLE_NONE, h},
    {"GET", "/jobs", WEB_ROLE_VIEWER, h},  {"POST", "/job/retry", WEB_ROLE_MANAGER, h},
};
#define N (sizeof(table) / sizeof(table[0]))

static void
test_find(void **state)
{
    int st = 0;
    (void)state;
    assert_ptr_equal(web_route_find(table, N, "GET", "/jobs", &st), &table[2]);
    assert_ptr_equal(web_route_find(table, N, "POST", "/login", &st), &table[1]);
    assert_null(web_route_find(table, N, "GET", "/nope", &st));
    assert_int_equal(st, 404);
    assert_null(web_route_find(table, N, "GET", "/job/retry", &st));
    assert_int_equal(st, 405);
    assert_null(web_route_find(table, N, "GET", "/jobs/", &st)); /* exact paths only */
    assert_int_equal(st, 404);
    assert_null(web_route_find(table, N, "get", "/jobs", &st));  /* methods are case-sensitive */
}

static void
test_real_table(void **state)
{
    int st = 0;
    (void)state;
    /* every action needs a manager; every page at least a viewer; only the login and static files are open */
    for (size_t i = 0; i < web_nroutes; i++) {
        const web_route *r = &web_routes[i];
        int open = !strcmp(r->path, "/login") || !strncmp(r->path, "/static/", 8) || !strcmp(r->path, "/favicon.ico");
        if (!strcmp(r->method, "POST") && strcmp(r->path, "/login") && strcmp(r->path, "/logout"))
            assert_int_equal(r->need, WEB_ROLE_MANAGER);
        if (!open) assert_int_not_equal(r->need, WEB_ROLE_NONE);
        assert_ptr_equal(web_route_find(web_routes, web_nroutes, r->method, r->path, &st), r);
    }
}

static void
test_gate(void **state)
{
    (void)state;
    const web_route *open = &table[0], *page = &table[2], *act = &table[3];
    assert_int_equal(web_gate_check(open, WEB_ROLE_NONE, 0, 0, 0), WEB_GATE_OK);
    assert_int_equal(web_gate_check(page, WEB_ROLE_NONE, 0, 0, 0), WEB_GATE_LOGIN);
    assert_int_equal(web_gate_check(page, WEB_ROLE_VIEWER, 0, 1, 0), WEB_GATE_OK);
    assert_int_equal(web_gate_check(page, WEB_ROLE_MANAGER, 0, 1, 0), WEB_GATE_OK);
    assert_int_equal(web_gate_check(act, WEB_ROLE_NONE, 1, 0, 0), WEB_GATE_LOGIN);
    assert_int_equal(web_gate_check(act, WEB_ROLE_VIEWER, 1, 1, 1), WEB_GATE_FORBIDDEN);
    assert_int_equal(web_gate_check(act, WEB_ROLE_MANAGER, 1, 1, 1), WEB_GATE_OK);
    /* a session's POST without its token, whatever the role */
    assert_int_equal(web_gate_check(act, WEB_ROLE_MANAGER, 1, 1, 0), WEB_GATE_CSRF);
    assert_int_equal(web_gate_check(act, WEB_ROLE_VIEWER, 1, 1, 0), WEB_GATE_CSRF);
    /* a bearer token carries no cookie: no CSRF to check */
    assert_int_equal(web_gate_check(act, WEB_ROLE_MANAGER, 1, 0, 0), WEB_GATE_OK);
    /* an unknown role value is refused, not promoted */
    assert_int_equal(web_gate_check(act, (web_role)7, 1, 0, 0), WEB_GATE_FORBIDDEN);
    assert_int_equal(web_gate_check(page, (web_role)7, 0, 0, 0), WEB_GATE_FORBIDDEN);
}

static void
test_form(void **state)
{
    web_form f;
    (void)state;
    const char *s = "id=a%2Fb&id=c+d&csrf=x%zz&empty=&flag&%3Cx%3E=%3C%00y";
    web_form_parse(&f, s, strlen(s));
    assert_int_equal(f.n, 6);
    assert_string_equal(web_form_get(&f, "id"), "a/b"); /* the first of several */
    assert_string_equal(f.v[1], "c d");
    assert_string_equal(web_form_get(&f, "csrf"), "x%zz"); /* a bad escape stays as it is */
    assert_string_equal(web_form_get(&f, "empty"), "");
    assert_string_equal(web_form_get(&f, "flag"), "");
    assert_string_equal(web_form_get(&f, "<x>"), "<"); /* %00 ends the value */
    assert_null(web_form_get(&f, "nope"));
    web_form_free(&f);
    web_form_parse(&f, "a=%4", 4); /* a cut escape at the end */
    assert_string_equal(web_form_get(&f, "a"), "%4");
    web_form_free(&f);
    web_form_parse(&f, "&&", 2);
    assert_int_equal(f.n, 0);
    web_form_free(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find), cmocka_unit_test(test_real_table), cmocka_unit_test(test_gate),
        cmocka_unit_test(test_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
