/* test_pct.c - the percent-codec: the unreserved and token sets, reserved
 * characters, UTF-8 bytes, round trips, and the decoder's refusals. */
#include "fmacros.h"
#include "pct.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static char out[1024];

static const char *
enc(const char *s, pct_set set)
{
    long n = pct_encode(s, set, out, sizeof(out));
    if (n < 0) fail_msg("%s: refused", s);
    assert_int_equal((size_t)n, strlen(out));
    return out;
}

/* dec decodes the whole of s with flags; NULL when refused. */
static const char *
dec(const char *s, unsigned flags)
{
    long n = pct_decode(s, strlen(s), flags, out, sizeof(out));
    return n < 0 ? NULL : out;
}

static void
test_unreserved_stay(void **state)
{
    (void)state;
    const char *u = "ABCXYZabcxyz0123456789-._~";
    assert_string_equal(enc(u, PCT_UNRESERVED), u);
    for (int c = 1; c < 256; c++) {
        int want = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-._~", c);
        if (pct_in_set((unsigned char)c, PCT_UNRESERVED) != !!want) fail_msg("byte 0x%02x", c);
    }
}

static void
test_reserved_escaped(void **state)
{
    (void)state;
    assert_string_equal(enc(":/?#[]@!$&'()*+,;=% ", PCT_UNRESERVED),
                        "%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%25%20");
    assert_string_equal(enc("q+/=&x", PCT_UNRESERVED), "q%2B%2F%3D%26x"); /* a base64 cursor with padding */
    assert_string_equal(enc("\t\n\x7f", PCT_UNRESERVED), "%09%0A%7F");
    assert_string_equal(enc("", PCT_UNRESERVED), "");
}

static void
test_utf8_bytes(void **state)
{
    (void)state;
    assert_string_equal(enc("é€😀", PCT_UNRESERVED), "%C3%A9%E2%82%AC%F0%9F%98%80");
    assert_string_equal(dec("%C3%A9%e2%82%ac", 0), "é€"); /* lower-case hex decodes too */
    assert_string_equal(enc("é", PCT_TOKEN), "%C3%A9");
}

static void
test_token_set(void **state)
{
    (void)state;
    /* printable ASCII stays but '%'; space and controls do not (functions.lua's pct) */
    assert_string_equal(enc("HTTP 500: a=b&c/d", PCT_TOKEN), "HTTP%20500:%20a=b&c/d");
    assert_string_equal(enc("100%\r\n", PCT_TOKEN), "100%25%0D%0A");
    assert_int_equal(pct_in_set('~', PCT_TOKEN), 1);
    assert_int_equal(pct_in_set(' ', PCT_TOKEN), 0);
    assert_int_equal(pct_in_set(0x7f, PCT_TOKEN), 0);
}

static void
test_round_trip(void **state)
{
    (void)state;
    char src[256], e[1024], d[256];
    for (int i = 0; i < 255; i++) src[i] = (char)(i + 1);
    src[255] = '\0';
    for (int set = PCT_UNRESERVED; set <= PCT_TOKEN; set++) {
        long n = pct_encode(src, (pct_set)set, e, sizeof(e));
        assert_true(n > 0);
        assert_int_equal(pct_decode(e, (size_t)n, 0, d, sizeof(d)), 255);
        assert_memory_equal(d, src, 256);
    }
    assert_non_null(dec(enc("a b+c", PCT_UNRESERVED), PCT_PLAIN_ONLY)); /* canonical output */
}

static void
test_bad_escapes_refused(void **state)
{
    (void)state;
    const char *bad[] = {"%", "a%", "%4", "a%4", "%G1", "%1G", "%%41", "%-1", "% 1", "%00", "x%00y"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        out[0] = 'Z';
        if (pct_decode(bad[i], strlen(bad[i]), 0, out, sizeof(out)) != PCT_EBAD) fail_msg("%s: accepted", bad[i]);
    }
    /* the escape must lie inside s[0..n): "%4" followed by "1" outside is cut */
    assert_int_equal(pct_decode("%41", 2, 0, out, sizeof(out)), PCT_EBAD);
    assert_int_equal(pct_decode("%41", 3, 0, out, sizeof(out)), 1);
    assert_string_equal(out, "A");
}

static void
test_decode_flags(void **state)
{
    (void)state;
    assert_int_equal(pct_decode("a%00b", 5, PCT_NUL_OK, out, sizeof(out)), 3);
    assert_memory_equal(out, "a\0b", 4);
    assert_string_equal(dec("a+b", 0), "a+b"); /* '+' is not a space: that is form encoding */
    assert_null(dec("a+b", PCT_PLAIN_ONLY));
    assert_null(dec("a,b", PCT_PLAIN_ONLY));
    assert_string_equal(dec("a%2Cb", PCT_PLAIN_ONLY), "a,b");
    assert_string_equal(dec("%74oken%zz%4", PCT_LENIENT), "token%zz%4"); /* as a forgiving server reads it */
    assert_string_equal(dec("%00x", PCT_LENIENT), "%00x");
}

static void
test_out_too_small(void **state)
{
    (void)state;
    char small[4];
    assert_int_equal(pct_encode("abc", PCT_UNRESERVED, small, sizeof(small)), 3);
    assert_int_equal(pct_encode("abcd", PCT_UNRESERVED, small, sizeof(small)), -1);
    assert_string_equal(small, "abc"); /* a terminated prefix */
    assert_int_equal(pct_encode("a/", PCT_UNRESERVED, small, sizeof(small)), -1); /* "%2F" needs 4 + 1 */
    assert_string_equal(small, "a");
    assert_int_equal(pct_decode("%41%42%43", 9, 0, small, sizeof(small)), 3);
    assert_int_equal(pct_decode("%41%42%43%44", 12, 0, small, sizeof(small)), PCT_ELONG);
    /* the first problem met wins, left to right */
    assert_int_equal(pct_decode("abcd%G", 6, 0, small, sizeof(small)), PCT_ELONG);
    assert_int_equal(pct_decode("ab%Gcd", 6, 0, small, sizeof(small)), PCT_EBAD);
}

static void
test_hexval(void **state)
{
    (void)state;
    assert_int_equal(pct_hexval('0'), 0);
    assert_int_equal(pct_hexval('9'), 9);
    assert_int_equal(pct_hexval('a'), 10);
    assert_int_equal(pct_hexval('F'), 15);
    assert_int_equal(pct_hexval('g'), -1);
    assert_int_equal(pct_hexval('/'), -1);
    assert_int_equal(pct_hexval(0), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unreserved_stay),   cmocka_unit_test(test_reserved_escaped),
        cmocka_unit_test(test_utf8_bytes),        cmocka_unit_test(test_token_set),
        cmocka_unit_test(test_round_trip),        cmocka_unit_test(test_bad_escapes_refused),
        cmocka_unit_test(test_decode_flags),      cmocka_unit_test(test_out_too_small),
        cmocka_unit_test(test_hexval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
