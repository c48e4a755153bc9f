/* test_backoff.c - exponential backoff with full jitter, with the random
 * source pinned. */
#include "fmacros.h"
#include "backoff.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static uint64_t
fixed(void *state)
{
    return *(uint64_t *)state;
}

static void
test_ceiling_doubles_then_caps(void **state)
{
    (void)state;
    /* with r = ceiling, the delay is the ceiling itself */
    int64_t want[] = {1000, 2000, 4000, 8000, 16000, 32000, 64000};
    for (int a = 1; a <= 7; a++) {
        uint64_t r = (uint64_t)want[a - 1];
        assert_int_equal(backoff_delay_ms(a, 1000, 3600000, -1, fixed, &r), want[a - 1]);
    }
    uint64_t r = 3600000;
    assert_int_equal(backoff_delay_ms(30, 1000, 3600000, -1, fixed, &r), 3600000);
    assert_int_equal(backoff_delay_ms(1000, 1000, 3600000, -1, fixed, &r), 3600000); /* no overflow */
}

static void
test_full_jitter_range(void **state)
{
    (void)state;
    uint64_t zero = 0;
    assert_int_equal(backoff_delay_ms(5, 1000, 3600000, -1, fixed, &zero), 0);
    uint64_t seed = 42;
    for (int i = 0; i < 10000; i++) {
        int64_t d = backoff_delay_ms(3, 100, 3600000, -1, backoff_rand_default, &seed);
        assert_true(d >= 0 && d <= 400);
    }
}

static void
test_retry_after_floor(void **state)
{
    (void)state;
    uint64_t zero = 0;
    assert_int_equal(backoff_delay_ms(1, 1000, 3600000, 30000, fixed, &zero), 30000);
    uint64_t r = 999;
    assert_int_equal(backoff_delay_ms(1, 1000, 3600000, 10, fixed, &r), 999);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ceiling_doubles_then_caps),
        cmocka_unit_test(test_full_jitter_range),
        cmocka_unit_test(test_retry_after_floor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
