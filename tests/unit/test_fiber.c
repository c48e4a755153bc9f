/* test_fiber.c - the fibers of a child with lanes (worker/fiber.c): a fiber
 * runs until it waits, a flag or a nap's end makes it ready, a finished
 * fiber is idle and its stack runs the next function, and outside a fiber
 * the waits do not park. */
#include "fmacros.h"
#include "fiber.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

typedef struct trace {
    char steps[64];
    volatile int flag;
} trace;

static void
step(trace *t, char c)
{
    size_t n = strlen(t->steps);
    if (n + 1 < sizeof(t->steps)) t->steps[n] = c;
}

static void
waits_for_flag(void *arg)
{
    trace *t = arg;
    step(t, 'a');
    fiber_wait(&t->flag);
    step(t, 'b');
}

static void
naps(void *arg)
{
    trace *t = arg;
    step(t, 'x');
    fiber_nap_us(20000);
    step(t, 'y');
}

static void
test_wait_flag(void **state)
{
    (void)state;
    trace t;
    memset(&t, 0, sizeof(t));
    fiber *f = fiber_new(FIBER_STACK);
    assert_non_null(f);
    assert_int_equal(fiber_busy(f), 0);
    assert_int_equal(fiber_start(f, waits_for_flag, &t), 0);
    assert_int_equal(fiber_start(f, waits_for_flag, &t), -1); /* still running something */
    assert_int_equal(fiber_ready(f, fiber_now_us()), 1);       /* a fresh fiber goes at once */
    fiber_resume(f);
    assert_string_equal(t.steps, "a");
    assert_int_equal(fiber_busy(f), 1);
    assert_int_equal(fiber_ready(f, fiber_now_us()), 0);
    assert_true(fiber_wake_at(f) == INT64_MAX); /* waits for a flag, not a time */
    fiber_resume(f); /* resumed early: it looks at its flag and waits again */
    assert_string_equal(t.steps, "a");
    t.flag = 1;
    assert_int_equal(fiber_ready(f, fiber_now_us()), 1);
    fiber_resume(f);
    assert_string_equal(t.steps, "ab");
    assert_int_equal(fiber_busy(f), 0);
    assert_null(fiber_current());
    fiber_free(f);
}

static void
test_nap_and_reuse(void **state)
{
    (void)state;
    trace t;
    memset(&t, 0, sizeof(t));
    fiber *f = fiber_new(FIBER_STACK);
    assert_non_null(f);
    for (int round = 0; round < 3; round++) { /* the same stack, job after job */
        memset(t.steps, 0, sizeof(t.steps));
        assert_int_equal(fiber_start(f, naps, &t), 0);
        int64_t t0 = fiber_now_us();
        fiber_resume(f);
        assert_string_equal(t.steps, "x");
        int64_t wake = fiber_wake_at(f);
        assert_true(wake >= t0 + 20000);
        assert_int_equal(fiber_ready(f, wake - 1), 0);
        assert_int_equal(fiber_ready(f, wake), 1);
        fiber_resume(f); /* not due yet: naps on */
        if (fiber_now_us() < wake) assert_string_equal(t.steps, "x");
        while (fiber_busy(f)) {
            if (fiber_ready(f, fiber_now_us())) fiber_resume(f);
        }
        assert_string_equal(t.steps, "xy");
    }
    fiber_free(f);
}

/* Two fibers interleave only where they wait. */
static void
test_interleave(void **state)
{
    (void)state;
    trace a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    fiber *fa = fiber_new(FIBER_STACK), *fb = fiber_new(FIBER_STACK);
    assert_non_null(fa);
    assert_non_null(fb);
    fiber_start(fa, waits_for_flag, &a);
    fiber_start(fb, waits_for_flag, &b);
    fiber_resume(fb);
    fiber_resume(fa);
    assert_string_equal(a.steps, "a");
    assert_string_equal(b.steps, "a");
    b.flag = 1;
    assert_int_equal(fiber_ready(fa, fiber_now_us()), 0);
    assert_int_equal(fiber_ready(fb, fiber_now_us()), 1);
    fiber_resume(fb);
    assert_string_equal(b.steps, "ab");
    assert_string_equal(a.steps, "a");
    a.flag = 1;
    fiber_resume(fa);
    assert_string_equal(a.steps, "ab");
    fiber_free(fa);
    fiber_free(fb);
}

/* Outside a fiber a nap sleeps and a wait returns: nothing parks the
 * scheduler. */
static void
test_outside(void **state)
{
    (void)state;
    volatile int flag = 0;
    int64_t t0 = fiber_now_us();
    fiber_nap_us(5000);
    assert_true(fiber_now_us() - t0 >= 5000);
    fiber_wait(&flag);
    assert_null(fiber_current());
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wait_flag),
        cmocka_unit_test(test_nap_and_reuse),
        cmocka_unit_test(test_interleave),
        cmocka_unit_test(test_outside),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
