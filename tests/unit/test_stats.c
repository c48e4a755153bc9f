/* test_stats.c - the per-child job counters of the status board
 * (worker/stats.c): counting, label safety, the _other overflow, the
 * master's totals that survive a child (drain adds, then zeroes), and the
 * mean duration a child reads back to decide whether to hold jobs behind one. */
#include "fmacros.h"
#include "stats.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static stats_table *
table_new(void)
{
    stats_table *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    return t;
}

static void
test_count(void **state)
{
    (void)state;
    stats_table *t = table_new();
    stats_totals *tot = calloc(1, sizeof(*tot));
    stats_count(t, "dns", "create_record", STATS_SUCCESS, 3);      /* bucket le 5 ms */
    stats_count(t, "dns", "create_record", STATS_SUCCESS, 5);      /* still le 5 ms */
    stats_count(t, "dns", "create_record", STATS_RETRYING, 6);     /* le 10 ms */
    stats_count(t, "dns", "create_record", STATS_DEAD, -1);        /* never ran: no sample */
    stats_count(t, "dns", "create_record", STATS_SUCCESS, 999999); /* above every bound */
    stats_count(t, "dns", "create_record", -1, 1);                 /* not an end: ignored */
    stats_add(t, tot);
    assert_int_equal(tot->n, 1);
    assert_string_equal(tot->p[0].service, "dns");
    assert_int_equal(tot->p[0].count[STATS_SUCCESS], 3);
    assert_int_equal(tot->p[0].count[STATS_RETRYING], 1);
    assert_int_equal(tot->p[0].count[STATS_DEAD], 1);
    assert_int_equal(tot->p[0].bucket[0], 2);
    assert_int_equal(tot->p[0].bucket[1], 1);
    assert_int_equal(tot->p[0].bucket[STATS_NBUCKETS], 1);
    assert_int_equal(tot->p[0].sum_ms, 3 + 5 + 6 + 999999);
    free(tot);
    free(t);
}

static void
test_mean(void **state)
{
    (void)state;
    stats_table *t = table_new();
    assert_int_equal(stats_mean_ms(t, "dns", "create_record"), -1); /* never counted */
    stats_count(t, "dns", "create_record", STATS_DEAD, -1);
    assert_int_equal(stats_mean_ms(t, "dns", "create_record"), -1); /* counted, never timed */
    stats_count(t, "dns", "create_record", STATS_SUCCESS, 1);
    stats_count(t, "dns", "create_record", STATS_SUCCESS, 4);
    assert_int_equal(stats_mean_ms(t, "dns", "create_record"), 2); /* (1 + 4) / 2, rounded down */
    stats_count(t, "dns", "create_record", STATS_RETRYING, 25000);
    assert_int_equal(stats_mean_ms(t, "dns", "create_record"), 8335);
    assert_int_equal(stats_mean_ms(t, "dns", "delete_record"), -1); /* another action */
    stats_count(t, NULL, NULL, STATS_SUCCESS, 7); /* unknown handlers count as _unknown */
    assert_int_equal(stats_mean_ms(t, NULL, NULL), 7);
    assert_int_equal(stats_mean_ms(NULL, "dns", "create_record"), -1);
    free(t);
}

static void
test_labels(void **state)
{
    (void)state;
    stats_table *t = table_new();
    stats_totals *tot = calloc(1, sizeof(*tot));
    stats_count(t, "evil\"} 1\n", "x y", STATS_DEAD, -1);
    stats_count(t, NULL, NULL, STATS_DEAD, -1);
    stats_add(t, tot);
    assert_int_equal(tot->n, 2);
    assert_string_equal(tot->p[0].service, "evil___1_");
    assert_string_equal(tot->p[0].action, "x_y");
    assert_string_equal(tot->p[1].service, "_unknown");
    assert_int_equal(stats_status_of("conflict"), STATS_CONFLICT);
    assert_int_equal(stats_status_of("queued"), -1);
    free(tot);
    free(t);
}

static void
test_overflow(void **state)
{
    (void)state;
    stats_table *t = table_new();
    stats_totals *tot = calloc(1, sizeof(*tot));
    char name[16];
    for (int i = 0; i < STATS_PAIRS + 10; i++) {
        snprintf(name, sizeof(name), "a%d", i);
        stats_count(t, "svc", name, STATS_SUCCESS, -1);
    }
    stats_add(t, tot);
    assert_int_equal(tot->n, STATS_PAIRS);
    assert_string_equal(tot->p[STATS_PAIRS - 2].action, "a30");
    assert_string_equal(tot->p[STATS_PAIRS - 1].service, "_other");
    assert_int_equal(tot->p[STATS_PAIRS - 1].count[STATS_SUCCESS], 11); /* a31 .. a41 */
    free(tot);
    free(t);
}

static void
test_drain_keeps_totals(void **state)
{
    (void)state;
    stats_table *t = table_new();
    stats_totals *reaped = calloc(1, sizeof(*reaped)), *view = calloc(1, sizeof(*view));
    stats_count(t, "s", "a", STATS_SUCCESS, 1);
    stats_note(t, STATS_PG_RECONNECTS);
    stats_drain(t, reaped); /* the child died */
    assert_int_equal(atomic_load(&t->n), 0);
    stats_count(t, "s", "a", STATS_SUCCESS, 1); /* its successor */
    *view = *reaped;
    stats_add(t, view);
    assert_int_equal(view->n, 1);
    assert_int_equal(view->p[0].count[STATS_SUCCESS], 2);
    assert_int_equal(view->notes[STATS_PG_RECONNECTS], 1);
    assert_int_equal(reaped->p[0].count[STATS_SUCCESS], 1);
    free(view);
    free(reaped);
    free(t);
}

static void
test_http(void **state)
{
    (void)state;
    stats_table *t = table_new();
    stats_totals *tot = calloc(1, sizeof(*tot));
    char name[16];
    stats_http(t, "dns", 200);
    stats_http(t, "dns", 204);
    stats_http(t, "dns", 503);
    stats_http(t, "dns", 0);   /* no response */
    stats_http(t, "dns", 999); /* not a status */
    for (int i = 0; i < STATS_HTTP_SERVICES + 3; i++) {
        snprintf(name, sizeof(name), "s%d", i);
        stats_http(t, name, 429);
    }
    stats_drain(t, tot);
    assert_int_equal(tot->nhttp, STATS_HTTP_SERVICES);
    assert_string_equal(tot->http[0].service, "dns");
    assert_int_equal(tot->http[0].calls[STATS_HTTP_2XX], 2);
    assert_int_equal(tot->http[0].calls[STATS_HTTP_5XX], 1);
    assert_int_equal(tot->http[0].calls[STATS_HTTP_ERROR], 2);
    assert_string_equal(tot->http[STATS_HTTP_SERVICES - 1].service, "_other");
    assert_int_equal(tot->http[STATS_HTTP_SERVICES - 1].calls[STATS_HTTP_4XX], 5); /* s14 .. s18 */
    assert_int_equal(atomic_load(&t->nhttp), 0);
    free(tot);
    free(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_mean),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_drain_keeps_totals),
        cmocka_unit_test(test_http),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
