/* test_wrap.c - the wrapper line syncq keeps in front of queued bytes. */
#include "fmacros.h"
#include "wrap.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static void
test_raw_is_not_wrapped(void **state)
{
    (void)state;
    wrap w;
    const char *s = "{\"kind\":\"sync\"}";
    assert_int_equal(wrap_parse(s, strlen(s), &w), 0);
    assert_ptr_equal(w.raw, s);
    assert_int_equal(w.rawlen, strlen(s));
    assert_int_equal(w.seen_ms, -1);
}

static void
test_parse_fields(void **state)
{
    (void)state;
    wrap w;
    const char *s = "~syncq1 id=abc seen=17 ready=20 from=orig err=timeout%20after%20200%25 future=x\n{\"a\":1}";
    assert_int_equal(wrap_parse(s, strlen(s), &w), 1);
    assert_string_equal(w.tag, "abc");
    assert_int_equal(w.seen_ms, 17);
    assert_int_equal(w.ready_ms, 20);
    assert_string_equal(w.from, "orig");
    assert_string_equal(w.err, "timeout after 200%");
    assert_int_equal(w.rawlen, 7);
    assert_memory_equal(w.raw, "{\"a\":1}", 7);
}

/* the requeue's stamp (docs/LEASES.md) names the worker that lost the job;
 * a retry's rebuilt header drops it, so it never outlives the next start */
static void
test_lost_stamp(void **state)
{
    (void)state;
    wrap w;
    char hdr[512];
    const char *s = "~syncq1 id=abc seen=17 lost=lease/vm:42:0a1b\n{}";
    assert_int_equal(wrap_parse(s, strlen(s), &w), 1);
    assert_string_equal(w.lost, "lease/vm:42:0a1b");
    assert_true(wrap_header(&w, hdr, sizeof(hdr)) > 0);
    assert_null(strstr(hdr, "lost="));
}

static void
test_round_trip(void **state)
{
    (void)state;
    wrap w, back;
    char hdr[512], entry[600];
    memset(&w, 0, sizeof(w));
    strcpy(w.tag, "t-1");
    w.seen_ms = 1000;
    w.ready_ms = -1;
    w.dead_ms = -1;
    strcpy(w.err, "HTTP 503:\tservice\nunavailable 100%");
    size_t n = wrap_header(&w, hdr, sizeof(hdr));
    assert_true(n > 0);
    assert_null(memchr(hdr, '\n', n)); /* one line */
    int len = snprintf(entry, sizeof(entry), "%s\n[]", hdr);
    assert_int_equal(wrap_parse(entry, (size_t)len, &back), 1);
    assert_string_equal(back.tag, "t-1");
    assert_string_equal(back.err, w.err);
    assert_int_equal(back.rawlen, 2);
}

static void
test_damaged(void **state)
{
    (void)state;
    wrap w;
    const char *bad[] = {"~syncq1 id=x seen=1", "~syncq1 seen=1\n{}", "~syncq1 id=x seen=abc\n{}",
                         "~syncq1 id=x err=%zz\n{}", "~syncq1 id=x err=%4\n{}", "~syncq1 noequals\n{}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) assert_int_equal(wrap_parse(bad[i], strlen(bad[i]), &w), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_is_not_wrapped),
        cmocka_unit_test(test_parse_fields),
        cmocka_unit_test(test_lost_stamp),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_damaged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
