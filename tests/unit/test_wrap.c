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
    const char *s = "~syncq1 id=abc seen=17 ready=20 from=orig err=timeout%20after%20200%25\n{\"a\":1}";
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

/* The strict grammar (the same as functions.lua's wrap_parse): exactly the
 * known fields, id then seen, each once, ids of printable ASCII up to 128
 * bytes, no control bytes anywhere, no empty or doubled separators. */
static void
test_strict_grammar(void **state)
{
    (void)state;
    wrap w;
    char tag200[260], jid129[200];
    snprintf(tag200, sizeof(tag200), "~syncq1 id=%0200d seen=1\n{}", 0);
    snprintf(jid129, sizeof(jid129), "~syncq1 id=t seen=1 jid=%0129d\n{}", 0);
    const char *bad[] = {
        "~syncq1 id=abc seen=1",                /* no newline */
        tag200, jid129,                         /* too long */
        "~syncq1 id=t seen=1 jid=a\x01b\n{}",    /* control byte */
        "~syncq1 id=t seen=1 jid=a\x1b[31m\n{}", /* escape */
        "~syncq1 id=t seen=1 jid=\xc3\xa9\n{}",   /* not ASCII */
        "~syncq1 id=t seen=1\r\n{}",             /* CR */
        "~syncq1 id=t seen=1 future=x\n{}",      /* unknown field */
        "~syncq1 id=t seen=1 jid=a jid=b\n{}",   /* twice */
        "~syncq1 id=t id=u seen=1\n{}",
        "~syncq1 seen=1 id=t\n{}",               /* order */
        "~syncq1 id=t\n{}",                      /* no seen */
        "~syncq1 id=t seen=1 jid=\n{}",          /* empty */
        "~syncq1 id=t  seen=1\n{}",              /* doubled space */
        "~syncq1 id=t seen=1 \n{}",              /* trailing space */
        "~syncq1  id=t seen=1\n{}",
        "~syncq1 id=t seen=1234567890123456\n{}", /* 16 digits */
        "~syncq1 id=t seen=-1\n{}",
        "~syncq1 id=t seen=1 err=%\n{}",
        "~syncq1 id=t seen=1 err=a%2\n{}",
        "~syncq1 \n{}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(wrap_parse(bad[i], strlen(bad[i]), &w), -1);
        assert_string_equal(w.tag, ""); /* nothing of a refused line is kept */
        assert_ptr_equal(w.raw, bad[i]);
    }
    const char *good = "~syncq1 id=t-1 seen=1 dead=3 err=x%0A root=r jid=j=k from=f ready=2\n{}";
    assert_int_equal(wrap_parse(good, strlen(good), &w), 1);
    assert_string_equal(w.jid, "j=k");
    assert_string_equal(w.err, "x\n");
    assert_int_equal(w.dead_ms, 3);
    /* a header longer than WRAP_HDR_MAX is not one */
    static char big[WRAP_HDR_MAX + 64];
    int n = snprintf(big, sizeof(big), "~syncq1 id=t seen=1 err=");
    memset(big + n, 'a', WRAP_HDR_MAX - (size_t)n);
    memcpy(big + WRAP_HDR_MAX, "\n{}", 4);
    assert_int_equal(wrap_parse(big, WRAP_HDR_MAX + 3, &w), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_is_not_wrapped),
        cmocka_unit_test(test_parse_fields),
        cmocka_unit_test(test_lost_stamp),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_strict_grammar),
        cmocka_unit_test(test_damaged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
