/* test_durability.c - which Redis settings can lose jobs (durability_problems). */
#include "fmacros.h"
#include "durability.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static int
judge(const char *policy, int rdb, int aof, char *out, size_t len)
{
    durability d = {"", rdb, aof};
    snprintf(d.policy, sizeof(d.policy), "%s", policy);
    return durability_problems(&d, out, len);
}

static void
test_safe_settings(void **state)
{
    char out[400];
    (void)state;
    assert_int_equal(judge("noeviction", 1, 0, out, sizeof(out)), 0);
    assert_int_equal(judge("noeviction", 0, 1, out, sizeof(out)), 0);
    assert_string_equal(out, "");
}

static void
test_unknown_is_not_unsafe(void **state)
{
    char out[400];
    (void)state;
    /* CONFIG GET refused, INFO without the field: nothing is provably unsafe */
    assert_int_equal(judge("", -1, -1, out, sizeof(out)), 0);
    assert_int_equal(judge("noeviction", 0, -1, out, sizeof(out)), 0);
}

static void
test_each_problem_named(void **state)
{
    char out[400];
    (void)state;
    assert_int_equal(judge("allkeys-lru", 1, 1, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "maxmemory-policy is allkeys-lru, not noeviction"));
    assert_int_equal(judge("noeviction", 0, 0, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "persistence is off"));
    assert_int_equal(judge("volatile-ttl", 0, 0, out, sizeof(out)), 2);
    assert_non_null(strstr(out, "volatile-ttl, not noeviction"));
    assert_non_null(strstr(out, "; persistence is off"));
}

static void
test_short_buffer_terminated(void **state)
{
    char out[16];
    (void)state;
    assert_int_equal(judge("allkeys-random", 0, 0, out, sizeof(out)), 2);
    assert_int_equal(strlen(out), sizeof(out) - 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_safe_settings),
        cmocka_unit_test(test_unknown_is_not_unsafe),
        cmocka_unit_test(test_each_problem_named),
        cmocka_unit_test(test_short_buffer_terminated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
