/* test_clock.c - the clock helper: its pure conversions, and that the clocks
 * and the nap keep their promises (bounds only: no speed is asserted). */
#include "fmacros.h"
#include "clock.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void
test_ts_ms_rounds_down(void **state)
{
    (void)state;
    struct timespec a = {0, 0}, b = {1, 999999999}, c = {1700000000, 1000000};
    assert_int_equal(clock_ts_ms(&a), 0);
    assert_int_equal(clock_ts_ms(&b), 1999);
    assert_int_equal(clock_ts_ms(&c), 1700000000001LL);
}

static void
test_us_ts(void **state)
{
    (void)state;
    struct timespec t = clock_us_ts(2500001);
    assert_int_equal(t.tv_sec, 2);
    assert_int_equal(t.tv_nsec, 500001000L);
    t = clock_us_ts(-5);
    assert_int_equal(t.tv_sec, 0);
    assert_int_equal(t.tv_nsec, 0);
    t = clock_us_ts(999999);
    assert_int_equal(t.tv_sec, 0);
    assert_int_equal(t.tv_nsec, 999999000L);
}

/* a nap lasts at least what it was asked, on the monotonic clock, which
 * never goes back */
static void
test_nap_and_mono(void **state)
{
    (void)state;
    int64_t t0 = clock_mono_ms();
    clock_nap_ms(15);
    int64_t t1 = clock_mono_ms();
    assert_true(t1 - t0 >= 15);
    clock_nap_ms(0);
    clock_nap_ms(-3); /* returns at once */
    assert_true(clock_mono_ms() >= t1);
}

static void
test_wall_is_epoch_ms(void **state)
{
    (void)state;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t w = clock_wall_ms();
    assert_true(w >= clock_ts_ms(&ts));
    assert_true(w > 1600000000000LL); /* ms, not s or us */
    assert_true(w < 10000000000000LL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ts_ms_rounds_down),
        cmocka_unit_test(test_us_ts),
        cmocka_unit_test(test_nap_and_mono),
        cmocka_unit_test(test_wall_is_epoch_ms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
