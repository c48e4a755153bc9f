/* test_funcs.c - funcs_decide, the rule that keeps old and new binaries from
 * flipping the Redis function library during a rolling upgrade
 * (docs/DESIGN.md §12): load where none is, replace only an older one, use a
 * newer one that serves us, refuse a newer one that does not. */
#include "fmacros.h"
#include "funcs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

static const funcs_lib OURS = {FUNCS_LOADED, 21, 20, "21.c123"};

static funcs_action
decide(funcs_state st, int version, int compat, const char *full)
{
    funcs_lib l = {st, version, compat, ""};
    snprintf(l.full, sizeof(l.full), "%s", full);
    return funcs_decide(&OURS, &l);
}

static void
none_is_loaded(void **s)
{
    (void)s;
    assert_int_equal(decide(FUNCS_NONE, 0, 0, ""), FUNCS_LOAD);
}

static void
older_is_replaced(void **s)
{
    (void)s;
    assert_int_equal(decide(FUNCS_LEGACY, 20, 0, ""), FUNCS_REPLACE);
    assert_int_equal(decide(FUNCS_LOADED, 20, 20, "20.c9"), FUNCS_REPLACE);
}

static void
ours_is_used(void **s)
{
    (void)s;
    assert_int_equal(decide(FUNCS_LOADED, 21, 20, "21.c123"), FUNCS_USE);
    /* same number, other record columns: a developer's build; replaced */
    assert_int_equal(decide(FUNCS_LOADED, 21, 20, "21.c456"), FUNCS_REPLACE);
}

static void
newer_is_never_replaced(void **s)
{
    (void)s;
    assert_int_equal(decide(FUNCS_LOADED, 22, 21, "22.c1"), FUNCS_USE);
    assert_int_equal(decide(FUNCS_LOADED, 30, 15, "30.c1"), FUNCS_USE);
    assert_int_equal(decide(FUNCS_LOADED, 22, 22, "22.c1"), FUNCS_REFUSE);
    assert_int_equal(decide(FUNCS_LOADED, 40, 35, "40.c1"), FUNCS_REFUSE);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(none_is_loaded),
        cmocka_unit_test(older_is_replaced),
        cmocka_unit_test(ours_is_used),
        cmocka_unit_test(newer_is_never_replaced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
