/* test_web_html.c - the console's escaping: HTML specials in text and
 * attributes, control characters and invalid UTF-8, query-string encoding,
 * and a page whose user name is hostile. */
#include "fmacros.h"
#include "web_html.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static sbuf b;

static const char *
esc(const char *s)
{
    sbuf_reset(&b);
    web_esc(&b, s);
    return b.buf ? b.buf : "";
}

static const char *
url(const char *s)
{
    sbuf_reset(&b);
    web_url(&b, s);
    return b.buf ? b.buf : "";
}

static void
test_specials(void **state)
{
    (void)state;
    assert_string_equal(esc("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
    assert_string_equal(esc("\"><img src=x onerror=alert(1)>"), "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
    assert_string_equal(esc("a & b 'c'"), "a &amp; b &#39;c&#39;");
    assert_string_equal(esc("&amp;"), "&amp;amp;"); /* never decoded first */
    assert_string_equal(esc(""), "");
    assert_string_equal(esc(NULL), "");
}

static void
test_controls_utf8(void **state)
{
    (void)state;
    assert_string_equal(esc("line\nnext\ttab"), "line\nnext\ttab");
    assert_string_equal(esc("a\x1b[31mred\x7f"), "a\xEF\xBF\xBD[31mred\x7f");
    assert_string_equal(esc("caf\xC3\xA9 \xE2\x82\xAC"), "caf\xC3\xA9 \xE2\x82\xAC"); /* valid UTF-8 kept */
    assert_string_equal(esc("bad \xC3( \xFF"), "bad \xEF\xBF\xBD( \xEF\xBF\xBD");
    assert_string_equal(esc("\xE0\x80\xBC"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); /* an overlong '<' */
}

static void
test_url(void **state)
{
    (void)state;
    assert_string_equal(url("abc-._~XYZ09"), "abc-._~XYZ09");
    assert_string_equal(url("a b&c=d/e?\"<"), "a%20b%26c%3Dd%2Fe%3F%22%3C");
    assert_string_equal(url("\xC3\xA9"), "%C3%A9");
    assert_string_equal(url("2026-11-24T10:00:00.123456Z,id"), "2026-11-24T10%3A00%3A00.123456Z%2Cid");
}

static void
test_page(void **state)
{
    web_req rq;
    web_session x;
    (void)state;
    memset(&rq, 0, sizeof(rq));
    memset(&x, 0, sizeof(x));
    strcpy(x.csrf, "c0ffee");
    rq.user = "<b>eve</b>";
    rq.role = WEB_ROLE_VIEWER;
    rq.sess = &x;
    sbuf_reset(&b);
    web_page_begin(&b, &rq, "T<i>", "jobs", 10);
    web_page_end(&b);
    assert_non_null(strstr(b.buf, "&lt;b&gt;eve&lt;/b&gt;"));
    assert_null(strstr(b.buf, "<b>eve"));
    assert_non_null(strstr(b.buf, "<title>T&lt;i&gt; · syncq</title>"));
    assert_non_null(strstr(b.buf, "name=\"csrf\" value=\"c0ffee\""));
    assert_non_null(strstr(b.buf, "<meta http-equiv=\"refresh\" content=\"10\">"));
    assert_non_null(strstr(b.buf, "href=\"/jobs\" class=\"active\""));
    assert_null(strstr(b.buf, "<script>")); /* no inline script: only <script src> */
    assert_null(strstr(b.buf, "style="));   /* no inline style either (CSP) */
}

int
main(void)
{
    sbuf_init(&b);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_specials), cmocka_unit_test(test_controls_utf8), cmocka_unit_test(test_url),
        cmocka_unit_test(test_page),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sbuf_free(&b);
    return rc;
}
