/* test_qstat.c - when the oldest ready entry became ready, per its bytes
 * (the pure part of qstat.c). */
#include "fmacros.h"
#include "qstat.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define MAX (1024 * 1024)
#define T0 1795478400000LL /* 2026-11-24T00:00:00Z */

static int64_t
at(const char *s)
{
    return qstat_entry_ms(s, strlen(s), MAX);
}

static void
test_raw(void **state)
{
    (void)state;
    assert_int_equal(at("{\"kind\":\"sync\",\"enqueued_at\":\"2026-11-24T00:00:00Z\"}"), T0);
    assert_int_equal(at("{\"kind\":\"sync\",\"enqueued_at\":\"2026-11-24T01:00:00+01:00\"}"), T0);
    assert_int_equal(at("{\"kind\":\"sync\"}"), -1);             /* no age until a worker sees it */
    assert_int_equal(at("{\"enqueued_at\":\"yesterday\"}"), -1);
    assert_int_equal(at("not json at all"), -1);
    assert_int_equal(at(""), -1);
}

static void
test_wrapped(void **state)
{
    (void)state;
    /* first sight, with and without the producer's time: enqueued_at wins */
    assert_int_equal(at("~syncq1 id=t1 seen=5000\n{\"enqueued_at\":\"2026-11-24T00:00:00Z\"}"), T0);
    assert_int_equal(at("~syncq1 id=t1 seen=5000\n{\"kind\":\"sync\"}"), 5000);
    assert_int_equal(at("~syncq1 id=t1 seen=5000\nbad bytes"), 5000);
    /* a promoted retry waits from its promotion */
    assert_int_equal(at("~syncq1 id=t1 seen=5000 ready=7000\n{\"enqueued_at\":\"2026-11-24T00:00:00Z\"}"), 7000);
    /* a replay from the dead-letter set waits from the replay */
    assert_int_equal(at("~syncq1 id=t2 seen=9000 jid=t2 from=t1 root=t1\n{\"enqueued_at\":\"2026-11-24T00:00:00Z\"}"),
                     9000);
    assert_int_equal(at("~syncq1 id=t1 seen=x\n{}"), -1); /* a damaged header */
}

static void
test_deep_nesting_is_safe(void **state)
{
    (void)state;
    char s[40000];
    size_t n = 0;
    for (int i = 0; i < 10000; i++) s[n++] = '[';
    s[n] = '\0';
    assert_int_equal(at(s), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_wrapped),
        cmocka_unit_test(test_deep_nesting_is_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
