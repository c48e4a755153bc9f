/* test_config.c - defaults, SYNCQ_* environment overlay, queue lists, integer parsing. */
#include "fmacros.h"
#include "config.h"
#include "log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char err[512];

/* A fake environment: NULL-terminated name/value pairs. */
static const char *const *fake_env;

static const char *
fake_getenv(const char *name)
{
    for (const char *const *p = fake_env; p && *p; p += 2)
        if (strcmp(p[0], name) == 0) return p[1];
    return NULL;
}

static int
load(config *c, const char *const *env)
{
    config_defaults(c);
    fake_env = env;
    err[0] = '\0';
    return config_from_env(c, fake_getenv, err, sizeof(err));
}

/* expect_bad wants config_from_env to fail with a message containing want,
 * and to leave the config as it was. */
static void
expect_bad(const char *const *env, const char *want)
{
    config c, before;
    config_defaults(&c);
    before = c;
    fake_env = env;
    err[0] = '\0';
    assert_int_equal(config_from_env(&c, fake_getenv, err, sizeof(err)), -1);
    if (!strstr(err, want)) fail_msg("error \"%s\" lacks \"%s\"", err, want);
    assert_memory_equal(&c, &before, sizeof(c));
}

static void
test_defaults(void **state)
{
    (void)state;
    config c;
    config_defaults(&c);
    assert_string_equal(c.redis_url, "redis://127.0.0.1:6379/0");
    assert_string_equal(c.database_url, "");
    assert_string_equal(c.prefix, "syncq");
    assert_string_equal(c.services_path, "");
    assert_int_equal(c.nqueues, 3);
    assert_string_equal(c.queues[0].name, "urgent");
    assert_string_equal(c.queues[1].name, "default");
    assert_string_equal(c.queues[2].name, "sync");
    assert_int_equal(c.weighted, 0);
    assert_int_equal(c.queues[0].weight, 0);
    assert_int_equal(c.concurrency, 4);
    assert_int_equal(c.batch, 16);
    assert_int_equal(c.outbox_max, 200000);
    assert_int_equal(c.heartbeat_ttl_s, 30);
    assert_int_equal(c.heartbeat_every_s, 5);
    assert_int_equal(c.reap_every_s, 5);
    assert_int_equal(c.grace_s, 25);
    assert_int_equal(c.max_envelope, 1024 * 1024);
    assert_int_equal(c.writer_batch, 5000);
    assert_int_equal(c.backoff_base_ms, 1000);
    assert_int_equal(c.log_level, LOG_INFO);
    assert_string_equal(c.mask_keys, "");
    assert_string_equal(c.metrics_addr, "127.0.0.1:9464");
}

static void
test_env_empty(void **state)
{
    (void)state;
    config c, d;
    const char *const env[] = {NULL};
    assert_int_equal(load(&c, env), 0);
    config_defaults(&d);
    assert_memory_equal(&c, &d, sizeof(c));
}

static void
test_env_all(void **state)
{
    (void)state;
    const char *const env[] = {
        "SYNCQ_REDIS_URL", "redis://:pw@r:6380/2", "SYNCQ_DATABASE_URL", "host=db dbname=syncq",
        "SYNCQ_PREFIX", "app:jobs", "SYNCQ_SERVICES", "/etc/syncq/services.json",
        "SYNCQ_QUEUES", "hot:5, cold", "SYNCQ_CONCURRENCY", "12", "SYNCQ_FETCH_BATCH", "50", "SYNCQ_CHILD_CALLS", "8",
        "SYNCQ_OUTBOX_MAX", "5000000", "SYNCQ_HEARTBEAT_TTL", "60", "SYNCQ_HEARTBEAT_EVERY", "10",
        "SYNCQ_REAP_EVERY", "7", "SYNCQ_GRACE", "0", "SYNCQ_MAX_ENVELOPE", "4194304",
        "SYNCQ_WRITER_BATCH", "500", "SYNCQ_BACKOFF_BASE_MS", "250", "SYNCQ_LOG_LEVEL", "DEBUG",
        "SYNCQ_MASK_KEYS", "ssn,iban", NULL};
    config c;
    assert_int_equal(load(&c, env), 0);
    assert_string_equal(c.redis_url, "redis://:pw@r:6380/2");
    assert_string_equal(c.database_url, "host=db dbname=syncq");
    assert_string_equal(c.prefix, "app:jobs");
    assert_string_equal(c.services_path, "/etc/syncq/services.json");
    assert_int_equal(c.nqueues, 2);
    assert_int_equal(c.weighted, 1);
    assert_string_equal(c.queues[0].name, "hot");
    assert_int_equal(c.queues[0].weight, 5);
    assert_string_equal(c.queues[1].name, "cold");
    assert_int_equal(c.queues[1].weight, 1);
    assert_int_equal(c.concurrency, 12);
    assert_int_equal(c.batch, 50);
    assert_int_equal(c.calls, 8);
    assert_int_equal(c.outbox_max, 5000000);
    assert_int_equal(c.heartbeat_ttl_s, 60);
    assert_int_equal(c.heartbeat_every_s, 10);
    assert_int_equal(c.reap_every_s, 7);
    assert_int_equal(c.grace_s, 0);
    assert_int_equal(c.max_envelope, 4194304);
    assert_int_equal(c.writer_batch, 500);
    assert_int_equal(c.backoff_base_ms, 250);
    assert_int_equal(c.log_level, LOG_DEBUG);
    assert_string_equal(c.mask_keys, "ssn,iban");
}

static void
test_env_empty_value_is_unset(void **state)
{
    (void)state;
    const char *const env[] = {"SYNCQ_CONCURRENCY", "", "SYNCQ_REDIS_URL", "", NULL};
    config c;
    assert_int_equal(load(&c, env), 0);
    assert_int_equal(c.concurrency, 4);
    assert_string_equal(c.redis_url, "redis://127.0.0.1:6379/0");
}

static void
test_env_bad_values(void **state)
{
    (void)state;
    {
        const char *const env[] = {"SYNCQ_CONCURRENCY", "abc", NULL};
        expect_bad(env, "SYNCQ_CONCURRENCY=\"abc\" is not an integer in 1..256");
    }
    {
        const char *const env[] = {"SYNCQ_CONCURRENCY", "0", NULL};
        expect_bad(env, "SYNCQ_CONCURRENCY=\"0\"");
    }
    {
        const char *const env[] = {"SYNCQ_FETCH_BATCH", "4 ", NULL};
        expect_bad(env, "SYNCQ_FETCH_BATCH=\"4 \"");
    }
    {
        const char *const env[] = {"SYNCQ_CHILD_CALLS", "17", NULL}; /* more lanes than the board holds */
        expect_bad(env, "SYNCQ_CHILD_CALLS");
    }
    {
        const char *const env[] = {"SYNCQ_OUTBOX_MAX", "99999999999999999999", NULL};
        expect_bad(env, "SYNCQ_OUTBOX_MAX");
    }
    {
        const char *const env[] = {"SYNCQ_MAX_ENVELOPE", "1e6", NULL};
        expect_bad(env, "SYNCQ_MAX_ENVELOPE=\"1e6\"");
    }
    {
        const char *const env[] = {"SYNCQ_GRACE", "-1", NULL};
        expect_bad(env, "SYNCQ_GRACE=\"-1\" is not an integer in 0..3600");
    }
    {
        const char *const env[] = {"SYNCQ_LOG_LEVEL", "loud", NULL};
        expect_bad(env, "SYNCQ_LOG_LEVEL=\"loud\" is unknown");
    }
    {
        const char *const env[] = {"SYNCQ_QUEUES", "a,a", NULL};
        expect_bad(env, "SYNCQ_QUEUES=\"a,a\": queue \"a\" is listed twice");
    }
    {
        const char *const env[] = {"SYNCQ_PREFIX", "sync{q}", NULL};
        expect_bad(env, "SYNCQ_PREFIX=\"sync{q}\" is invalid");
    }
    {
        const char *const env[] = {"SYNCQ_HEARTBEAT_TTL", "10", "SYNCQ_HEARTBEAT_EVERY", "6", NULL};
        expect_bad(env, "SYNCQ_HEARTBEAT_EVERY=6 must be at most a third of SYNCQ_HEARTBEAT_TTL=10");
    }
    {
        /* A good value before a bad one is not applied either. */
        const char *const env[] = {"SYNCQ_CONCURRENCY", "9", "SYNCQ_WRITER_BATCH", "0", NULL};
        expect_bad(env, "SYNCQ_WRITER_BATCH");
    }
}

static void
test_env_too_long(void **state)
{
    (void)state;
    char url[700];
    memset(url, 'a', sizeof(url) - 1);
    url[sizeof(url) - 1] = '\0';
    const char *const env[] = {"SYNCQ_REDIS_URL", url, NULL};
    expect_bad(env, "SYNCQ_REDIS_URL is too long (699 bytes, max 511)");
    assert_null(strstr(err, "aaaa")); /* the value (maybe a password) is not echoed */
}

static void
test_queues(void **state)
{
    (void)state;
    config c;
    config_defaults(&c);
    assert_int_equal(config_set_queues(&c, "a", err, sizeof(err)), 0);
    assert_int_equal(c.nqueues, 1);
    assert_int_equal(c.weighted, 0);
    assert_int_equal(config_set_queues(&c, "urgent:5,sync:1", err, sizeof(err)), 0);
    assert_int_equal(c.nqueues, 2);
    assert_int_equal(c.weighted, 1);
    assert_int_equal(c.queues[0].weight, 5);
    assert_int_equal(c.queues[1].weight, 1);
    assert_int_equal(config_set_queues(&c, " x.y-z_1 : 1000 ,b ", err, sizeof(err)), 0);
    assert_string_equal(c.queues[0].name, "x.y-z_1");
    assert_int_equal(c.queues[0].weight, 1000);
    assert_string_equal(c.queues[1].name, "b");
    assert_int_equal(c.queues[1].weight, 1);
    assert_int_equal(config_set_queues(&c, "q0,q1,q2,q3,q4,q5,q6,q7,q8,q9,q10,q11,q12,q13,q14,q15", err, sizeof(err)),
                     0);
    assert_int_equal(c.nqueues, CONFIG_MAX_QUEUES);
}

static void
expect_bad_queues(const char *spec, const char *want)
{
    config c, before;
    config_defaults(&c);
    before = c;
    err[0] = '\0';
    assert_int_equal(config_set_queues(&c, spec, err, sizeof(err)), -1);
    if (!strstr(err, want)) fail_msg("%s: error \"%s\" lacks \"%s\"", spec ? spec : "(null)", err, want);
    assert_memory_equal(&c, &before, sizeof(c));
}

static void
test_queues_bad(void **state)
{
    (void)state;
    expect_bad_queues("", "empty queue name");
    expect_bad_queues("a,,b", "empty queue name");
    expect_bad_queues("a,", "empty queue name");
    expect_bad_queues(" , ", "empty queue name");
    expect_bad_queues(NULL, "no queues");
    expect_bad_queues("a,b,a", "queue \"a\" is listed twice");
    expect_bad_queues("a:0", "weight \"0\" is not an integer in 1..1000");
    expect_bad_queues("a:1001", "weight \"1001\"");
    expect_bad_queues("a:x", "weight \"x\"");
    expect_bad_queues("a:", "weight \"\"");
    expect_bad_queues("a:1:2", "weight \"1:2\"");
    expect_bad_queues("we{ird}", "queue name \"we{ird}\" is invalid");
    expect_bad_queues("sp ace", "is invalid");
    expect_bad_queues("q0,q1,q2,q3,q4,q5,q6,q7,q8,q9,q10,q11,q12,q13,q14,q15,q16", "more than 16 queues");
    char name[80];
    memset(name, 'q', 64);
    name[64] = '\0';
    expect_bad_queues(name, "is invalid");
}

static void
test_valid_queue_name(void **state)
{
    (void)state;
    char name[80];
    assert_true(config_valid_queue_name("urgent"));
    assert_true(config_valid_queue_name("A-z_0.9"));
    memset(name, 'q', 63);
    name[63] = '\0';
    assert_true(config_valid_queue_name(name));
    name[63] = 'q';
    name[64] = '\0';
    assert_false(config_valid_queue_name(name));
    assert_false(config_valid_queue_name(""));
    assert_false(config_valid_queue_name(NULL));
    assert_false(config_valid_queue_name("a:b"));
    assert_false(config_valid_queue_name("{a}"));
    assert_false(config_valid_queue_name("a b"));
    assert_false(config_valid_queue_name("caf\xC3\xA9"));
}

static void
test_parse_int(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(config_parse_int("42", 0, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(config_parse_int("-5", -10, 10, &v), 0);
    assert_int_equal(v, -5);
    assert_int_equal(config_parse_int("9223372036854775807", 0, INT64_MAX, &v), 0);
    assert_int_equal(v, INT64_MAX);
    v = 7;
    const char *bad[] = {"", " 1", "1 ", "1.0", "0x10", "abc", "12a", "101", "-11", "9223372036854775808", "+"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (config_parse_int(bad[i], -10, 100, &v) != -1) fail_msg("\"%s\" accepted", bad[i]);
    assert_int_equal(v, 7);
    assert_int_equal(config_parse_int(NULL, 0, 1, &v), -1);
}

static void
test_parse_duration(void **state)
{
    (void)state;
    static const struct { const char *s; int64_t ms; } good[] = {
        {"0s", 0}, {"250ms", 250}, {"30s", 30000}, {"10m", 600000}, {"2h", 7200000}, {"7d", 604800000},
        {"1w", 604800000}, {"1h30m", 5400000}, {"1m1ms", 60001}, {"90s", 90000}, {"36500d", 3153600000000},
    };
    int64_t v;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        v = -1;
        if (config_parse_duration_ms(good[i].s, &v) != 0) fail_msg("\"%s\" refused", good[i].s);
        if (v != good[i].ms) fail_msg("\"%s\": %lld, expected %lld", good[i].s, (long long)v, (long long)good[i].ms);
    }
    v = 7;
    const char *bad[] = {"", "30", "s", "-5m", "+5m", " 5m", "5m ", "5 m", "5x", "5M", "1.5h", "5mm", "h5",
                         "1h-1m", "99999999999999999999s", "36700d", "9223372036854775807ms", "0x10s"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (config_parse_duration_ms(bad[i], &v) != -1) fail_msg("\"%s\" accepted", bad[i]);
    assert_int_equal(v, 7);
    assert_int_equal(config_parse_duration_ms(NULL, &v), -1);
}

static void
test_fmt_duration(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(config_fmt_duration_ms(-1, b, sizeof(b)), "-");
    assert_string_equal(config_fmt_duration_ms(850, b, sizeof(b)), "850ms");
    assert_string_equal(config_fmt_duration_ms(4200, b, sizeof(b)), "4.2s");
    assert_string_equal(config_fmt_duration_ms(192000, b, sizeof(b)), "3m12s");
    assert_string_equal(config_fmt_duration_ms(7500000, b, sizeof(b)), "2h05m");
    assert_string_equal(config_fmt_duration_ms(274000000, b, sizeof(b)), "3d04h");
}

static void
test_metrics_addr(void **state)
{
    (void)state;
    config c;
    const char *const off[] = {"SYNCQ_METRICS_ADDR", "off", NULL};
    const char *const any[] = {"SYNCQ_METRICS_ADDR", ":0", NULL};
    assert_int_equal(load(&c, off), 0);
    assert_string_equal(c.metrics_addr, "off");
    assert_int_equal(load(&c, any), 0);
    assert_string_equal(c.metrics_addr, ":0");
    expect_bad((const char *const[]){"SYNCQ_METRICS_ADDR", "9464", NULL}, "SYNCQ_METRICS_ADDR");
    expect_bad((const char *const[]){"SYNCQ_METRICS_ADDR", "localhost:http", NULL}, "host:port");
}

static void
test_parse_listen(void **state)
{
    (void)state;
    static const struct { const char *s, *host; int port; } good[] = {
        {"127.0.0.1:9464", "127.0.0.1", 9464}, {":9464", "", 9464}, {"0.0.0.0:0", "0.0.0.0", 0},
        {"metrics.local:65535", "metrics.local", 65535}, {"[::1]:9464", "::1", 9464}, {"[::]:80", "::", 80},
    };
    char host[64];
    int port;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (config_parse_listen(good[i].s, host, sizeof(host), &port) != 0) fail_msg("\"%s\" refused", good[i].s);
        assert_string_equal(host, good[i].host);
        assert_int_equal(port, good[i].port);
    }
    const char *bad[] = {"", "9464", "host:", ":65536", ":-1", ":+80", "::1:9464", "[::1]", "[::1]9464", "[]:80",
                         "a b:80", "h:80 ", "[x]:80", "host:80:90", NULL};
    strcpy(host, "keep");
    port = 7;
    for (size_t i = 0; bad[i]; i++)
        if (config_parse_listen(bad[i], host, sizeof(host), &port) != -1) fail_msg("\"%s\" accepted", bad[i]);
    assert_string_equal(host, "keep");
    assert_int_equal(port, 7);
    assert_int_equal(config_parse_listen("averyveryverylonghostname:80", host, 8, &port), -1);
}

/* NAME_FILE (container secrets): the first line of the file, never quoted in
 * an error; NAME and NAME_FILE together are refused. */
static void
test_env_secret_files(void **state)
{
    (void)state;
    char path[] = "/tmp/syncq-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "redis://:TopSecret9@redis:6379/2\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    config c;
    const char *env[] = {"SYNCQ_REDIS_URL_FILE", path, "SYNCQ_DATABASE_URL_FILE", path, NULL};
    assert_int_equal(load(&c, env), 0);
    assert_string_equal(c.redis_url, "redis://:TopSecret9@redis:6379/2");
    assert_string_equal(c.database_url, "redis://:TopSecret9@redis:6379/2");
    const char *both[] = {"SYNCQ_REDIS_URL", "redis://x:6379/0", "SYNCQ_REDIS_URL_FILE", path, NULL};
    expect_bad(both, "set SYNCQ_REDIS_URL or SYNCQ_REDIS_URL_FILE, not both");
    unlink(path);
    const char *gone[] = {"SYNCQ_DATABASE_URL_FILE", path, NULL};
    expect_bad(gone, "SYNCQ_DATABASE_URL_FILE: cannot read");
    assert_null(strstr(err, "TopSecret9"));
    memcpy(path + strlen(path) - 6, "XXXXXX", 6);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    const char *empty[] = {"SYNCQ_REDIS_URL_FILE", path, NULL};
    expect_bad(empty, "is empty");
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_env_empty),
        cmocka_unit_test(test_env_all),
        cmocka_unit_test(test_env_empty_value_is_unset),
        cmocka_unit_test(test_env_bad_values),
        cmocka_unit_test(test_env_too_long),
        cmocka_unit_test(test_env_secret_files),
        cmocka_unit_test(test_queues),
        cmocka_unit_test(test_queues_bad),
        cmocka_unit_test(test_valid_queue_name),
        cmocka_unit_test(test_parse_int),
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_fmt_duration),
        cmocka_unit_test(test_metrics_addr),
        cmocka_unit_test(test_parse_listen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
