/* test_uuid.c - UUID v4/v7 layout, time order, formatting and random hex. */
#include "fmacros.h"
#include "uuid.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1; /* uppercase is not canonical here */
}

/* check_shape asserts the canonical 8-4-4-4-12 lowercase form, the version
 * nibble and the RFC 9562 variant bits. */
static void
check_shape(const char *s, int version)
{
    assert_int_equal(strlen(s), 36);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) assert_int_equal(s[i], '-');
        else if (hexval(s[i]) < 0) fail_msg("%s: bad character at %d", s, i);
    }
    assert_int_equal(hexval(s[14]), version);
    assert_int_equal(hexval(s[19]) & 0xC, 0x8);
}

static uint64_t
v7_millis(const char *s)
{
    uint64_t ms = 0;
    for (int i = 0; i < 13; i++) {
        if (s[i] == '-') continue;
        ms = ms << 4 | (uint64_t)hexval(s[i]);
    }
    return ms;
}

static void
test_format(void **state)
{
    (void)state;
    uint8_t b[16];
    char out[UUID_STR_LEN];
    for (int i = 0; i < 16; i++) b[i] = (uint8_t)(i * 17);
    uuid_format(b, out);
    assert_string_equal(out, "00112233-4455-6677-8899-aabbccddeeff");
    memset(b, 0xFF, sizeof(b));
    uuid_format(b, out);
    assert_string_equal(out, "ffffffff-ffff-ffff-ffff-ffffffffffff");
}

static void
test_v4(void **state)
{
    (void)state;
    char a[UUID_STR_LEN], b[UUID_STR_LEN];
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(uuid_v4(a), 0);
        check_shape(a, 4);
    }
    assert_int_equal(uuid_v4(b), 0);
    assert_string_not_equal(a, b);
}

static void
test_v7_time(void **state)
{
    (void)state;
    char id[UUID_STR_LEN];
    struct timespec t0, t1;
    clock_gettime(CLOCK_REALTIME, &t0);
    assert_int_equal(uuid_v7(id), 0);
    clock_gettime(CLOCK_REALTIME, &t1);
    check_shape(id, 7);
    uint64_t lo = (uint64_t)t0.tv_sec * 1000 + (uint64_t)t0.tv_nsec / 1000000;
    uint64_t hi = (uint64_t)t1.tv_sec * 1000 + (uint64_t)t1.tv_nsec / 1000000;
    uint64_t ms = v7_millis(id);
    assert_true(ms >= lo && ms <= hi);
}

static void
test_v7_sorts_by_time(void **state)
{
    (void)state;
    char prev[UUID_STR_LEN], cur[UUID_STR_LEN];
    assert_int_equal(uuid_v7(prev), 0);
    for (int i = 0; i < 2000; i++) {
        assert_int_equal(uuid_v7(cur), 0);
        check_shape(cur, 7);
        assert_string_not_equal(prev, cur);
        /* Ids of a later millisecond sort after those of an earlier one. */
        if (v7_millis(cur) > v7_millis(prev)) assert_true(strcmp(cur, prev) > 0);
        assert_true(v7_millis(cur) >= v7_millis(prev));
        memcpy(prev, cur, sizeof(cur));
    }
}

static void
test_random_hex(void **state)
{
    (void)state;
    char out[2 * 300 + 1];
    assert_int_equal(random_hex(out, 0), 0);
    assert_string_equal(out, "");
    assert_int_equal(random_hex(out, 8), 0);
    assert_int_equal(strlen(out), 16);
    for (int i = 0; i < 16; i++) assert_true(hexval(out[i]) >= 0);
    assert_int_equal(random_hex(out, 300), 0); /* more than one internal chunk */
    assert_int_equal(strlen(out), 600);
    int seen[16] = {0};
    for (int i = 0; i < 600; i++) seen[hexval(out[i])] = 1;
    int distinct = 0;
    for (int i = 0; i < 16; i++) distinct += seen[i];
    assert_true(distinct >= 12); /* 600 random digits miss a value with odds ~1e-16 */
    assert_int_equal(random_hex(out, -1), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_v4),
        cmocka_unit_test(test_v7_time),
        cmocka_unit_test(test_v7_sorts_by_time),
        cmocka_unit_test(test_random_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
