/* test_http.c - the pure parts of the HTTP client: origin pinning and Link
 * header parsing. */
#include "fmacros.h"
#include "http.h"
#include "snapshot.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void
test_same_origin(void **state)
{
    (void)state;
    assert_true(http_same_origin("https://api.example.net/v1/zones", "https://api.example.net/other?x=1"));
    assert_true(http_same_origin("http://127.0.0.1:8080/a", "HTTP://127.0.0.1:8080"));
    assert_false(http_same_origin("https://api.example.net/v1", "https://api.example.net.evil.com/v1"));
    assert_false(http_same_origin("https://api.example.net/v1", "http://api.example.net/v1"));
    assert_false(http_same_origin("http://127.0.0.1:8080/a", "http://127.0.0.1:8081/a"));
    assert_false(http_same_origin("https://a.example/x", "/relative/path"));
}

static void
test_link_next(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(http_parse_link(" <https://api.example.net/r?page=2>; rel=\"next\", <https://api.example.net/r?page=9>; rel=\"last\"",
                                     out, sizeof(out)), 0);
    assert_string_equal(out, "https://api.example.net/r?page=2");
    assert_int_equal(http_parse_link("<https://x/r?page=1>; rel=\"prev\", <https://x/r?page=3>; rel=\"next\"", out, sizeof(out)), 0);
    assert_string_equal(out, "https://x/r?page=3");
    assert_int_equal(http_parse_link("<https://x/r?page=1>; rel=\"prev\"", out, sizeof(out)), -1);
    assert_int_equal(http_parse_link("garbage", out, sizeof(out)), -1);
    assert_int_equal(http_parse_link("<https://x/a-very-long-url>; rel=\"next\"", out, 8), -1);
}

/* Found by fuzz/fuzz_link.c: rel was matched as a substring of the raw
 * parameter text, so RFC 8288 forms were missed and quoted text matched. */
static void
test_link_rfc8288(void **state)
{
    (void)state;
    char out[256], longtitle[600];
    assert_int_equal(http_parse_link("<https://x/1>; rel=\"prev next\"", out, sizeof(out)), 0);
    assert_string_equal(out, "https://x/1");
    assert_int_equal(http_parse_link("<https://x/2>;REL=NEXT", out, sizeof(out)), 0);
    assert_string_equal(out, "https://x/2");
    assert_int_equal(http_parse_link("<https://x/3> ; Rel = \"Next\"", out, sizeof(out)), 0);
    assert_string_equal(out, "https://x/3");
    /* a comma or a '<' inside a quoted value does not end the link */
    assert_int_equal(http_parse_link("<https://x/4>; title=\"a, b\"; rel=\"next\"", out, sizeof(out)), 0);
    assert_string_equal(out, "https://x/4");
    assert_int_equal(http_parse_link("<https://x/5>; title=\"<https://evil/>; rel=next\", <https://x/6>; rel=next",
                                     out, sizeof(out)), 0);
    assert_string_equal(out, "https://x/6");
    /* neither another type that starts with next, nor a second rel */
    assert_int_equal(http_parse_link("<https://x/7>; rel=nextpage", out, sizeof(out)), -1);
    assert_int_equal(http_parse_link("<https://x/8>; rel=prev; rel=next", out, sizeof(out)), -1);
    assert_int_equal(http_parse_link("<https://x/9?q=rel=next>; rel=last", out, sizeof(out)), -1);
    /* parameters of any length */
    snprintf(longtitle, sizeof(longtitle), "<https://x/10>; title=\"%0500d\"; rel=next", 0);
    assert_int_equal(http_parse_link(longtitle, out, sizeof(out)), 0);
    assert_string_equal(out, "https://x/10");
}

static void
test_pg_array(void **state)
{
    (void)state;
    const char *items[] = {"name", "ty\"pe", "a\\b"};
    char *s = snap_pg_array(items, 3);
    assert_string_equal(s, "{\"name\",\"ty\\\"pe\",\"a\\\\b\"}");
    free(s);
    s = snap_pg_array(NULL, 0);
    assert_string_equal(s, "{}");
    free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_origin),
        cmocka_unit_test(test_link_rfc8288),
        cmocka_unit_test(test_link_next),
        cmocka_unit_test(test_pg_array),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
