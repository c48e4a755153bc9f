/* test_prom.c - Prometheus text exposition: escaping, safe label values,
 * families, samples and histograms. */
#include "fmacros.h"
#include "prom.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static void
test_escape(void **state)
{
    (void)state;
    sbuf b;
    sbuf_init(&b);
    prom_escape(&b, "a\\b\"c\nd");
    assert_string_equal(b.buf, "a\\\\b\\\"c\\nd");
    sbuf_free(&b);
}

static void
test_label_safe(void **state)
{
    (void)state;
    char out[PROM_LABEL_MAX];
    prom_label_safe(out, "create_record");
    assert_string_equal(out, "create_record");
    prom_label_safe(out, "dns.v2:list-all");
    assert_string_equal(out, "dns.v2:list-all");
    prom_label_safe(out, "x\"} 1\nsecret{");
    assert_string_equal(out, "x___1_secret_");
    prom_label_safe(out, "caf\xc3\xa9 \\");
    assert_string_equal(out, "caf____"); /* two UTF-8 bytes, a blank, a backslash */
    prom_label_safe(out, "");
    assert_string_equal(out, "_none");
    prom_label_safe(out, NULL);
    assert_string_equal(out, "_none");
    char big[200];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    prom_label_safe(out, big);
    assert_int_equal(strlen(out), PROM_LABEL_MAX - 1);
}

static void
test_family_and_samples(void **state)
{
    (void)state;
    sbuf b;
    prom_label l[] = {{"queue", "urgent"}, {"status", "a\"b"}};
    sbuf_init(&b);
    prom_family(&b, "syncq_x_total", "counter", "Jobs\\done\nnow");
    prom_sample_u64(&b, "syncq_x_total", l, 2, 18446744073709551615ull);
    prom_sample_u64(&b, "syncq_x_total", NULL, 0, 0);
    prom_sample_f64(&b, "syncq_age_seconds", l, 1, 12.5);
    prom_sample_f64(&b, "syncq_age_seconds", l, 1, 3);
    prom_sample_f64(&b, "syncq_age_seconds", l, 1, 0.001);
    assert_string_equal(b.buf, "# HELP syncq_x_total Jobs\\\\done\\nnow\n"
                               "# TYPE syncq_x_total counter\n"
                               "syncq_x_total{queue=\"urgent\",status=\"a\\\"b\"} 18446744073709551615\n"
                               "syncq_x_total 0\n"
                               "syncq_age_seconds{queue=\"urgent\"} 12.5\n"
                               "syncq_age_seconds{queue=\"urgent\"} 3\n"
                               "syncq_age_seconds{queue=\"urgent\"} 0.001\n");
    sbuf_free(&b);
}

static void
test_histogram(void **state)
{
    (void)state;
    sbuf b;
    const double bounds[] = {0.005, 0.1, 1};
    const uint64_t counts[] = {2, 0, 1, 4}; /* 4 above the last bound */
    prom_label l[] = {{"service", "dns"}};
    sbuf_init(&b);
    prom_histogram(&b, "syncq_d_seconds", l, 1, bounds, counts, 3, 42.25);
    assert_string_equal(b.buf, "syncq_d_seconds_bucket{service=\"dns\",le=\"0.005\"} 2\n"
                               "syncq_d_seconds_bucket{service=\"dns\",le=\"0.1\"} 2\n"
                               "syncq_d_seconds_bucket{service=\"dns\",le=\"1\"} 3\n"
                               "syncq_d_seconds_bucket{service=\"dns\",le=\"+Inf\"} 7\n"
                               "syncq_d_seconds_sum{service=\"dns\"} 42.25\n"
                               "syncq_d_seconds_count{service=\"dns\"} 7\n");
    sbuf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_label_safe),
        cmocka_unit_test(test_family_and_samples),
        cmocka_unit_test(test_histogram),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
