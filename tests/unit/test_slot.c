/* test_slot.c - Redis Cluster key slots. The expected slots were recorded
 * from redis-server 7.0.15 (CLUSTER KEYSLOT on a --cluster-enabled node). */
#include "fmacros.h"
#include "slot.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static int
ks(const char *k)
{
    return slot_of_key(k, strlen(k));
}

/* cmd runs slot_of_command over a NULL-terminated list of words. */
static int
cmd(const char *w0, ...)
{
    const char *argv[32];
    size_t lens[32];
    int argc = 0;
    va_list ap;
    va_start(ap, w0);
    for (const char *w = w0; w && argc < 32; w = va_arg(ap, const char *)) {
        argv[argc] = w;
        lens[argc++] = strlen(w);
    }
    va_end(ap);
    return slot_of_command(argc, argv, lens);
}

static void
test_crc16_check_value(void **state)
{
    (void)state;
    assert_int_equal(slot_crc16("123456789", 9), 0x31C3); /* the XModem check value */
}

static void
test_keyslot_recorded(void **state)
{
    (void)state;
    assert_int_equal(ks("foo"), 12182);
    assert_int_equal(ks("bar"), 5061);
    assert_int_equal(ks("123456789"), 12739);
    assert_int_equal(ks("syncq:{default}:ready"), 5718);
    assert_int_equal(ks("syncq:{urgent}:inflight:w1"), 12746);
    assert_int_equal(ks("{user1000}.following"), 3443);
    assert_int_equal(ks("syncq:{syncq:fleet}:workers"), 6680);
}

static void
test_hash_tag_edges(void **state)
{
    (void)state;
    assert_int_equal(ks("foo{}{bar}"), 8363);    /* empty first tag: the whole key */
    assert_int_equal(ks("foo{{bar}}zap"), 4015); /* tag is "{bar" */
    assert_int_equal(ks("foo{bar}{zap}"), 5061); /* first tag only: same as "bar" */
    assert_int_equal(ks("{}"), 15257);
    assert_int_equal(ks("a{b"), 13340); /* unclosed: the whole key */
    assert_int_equal(ks("q{}x"), 7586);
    assert_int_equal(ks("x:{default}:anything"), ks("syncq:{default}:ready"));
}

static void
test_command_keys(void **state)
{
    (void)state;
    int q = ks("p:{q1}:ready");
    assert_int_equal(cmd("FCALL", "syncq_fetch", "3", "p:{q1}:ready", "p:{q1}:inflight:w", "p:{q1}:att", "5", "100",
                         NULL), q);
    /* arguments after the keys are not keys, whatever they look like */
    assert_int_equal(cmd("FCALL", "syncq_enqueue", "1", "p:{q1}:ready", "p:{q2}:ready", NULL), q);
    assert_int_equal(cmd("FCALL", "syncq_version", "0", NULL), SLOT_NONE);
    assert_int_equal(cmd("fcall", "f", "2", "p:{q1}:ready", "p:{q2}:ready", NULL), SLOT_CROSS);
    assert_int_equal(cmd("BLMOVE", "p:{q1}:ready", "p:{q1}:inflight:w", "RIGHT", "LEFT", "1", NULL), q);
    assert_int_equal(cmd("LMOVE", "p:{q1}:rejected", "p:{q2}:outbox", "LEFT", "RIGHT", NULL), SLOT_CROSS);
    assert_int_equal(cmd("DEL", "p:{q1}:a", "p:{q1}:b", NULL), q);
    assert_int_equal(cmd("DEL", "p:{q1}:a", "p:{q2}:b", NULL), SLOT_CROSS);
    assert_int_equal(cmd("BRPOP", "p:{q1}:a", "p:{q1}:b", "0", NULL), q);
    assert_int_equal(cmd("XREAD", "COUNT", "5", "BLOCK", "100", "STREAMS", "p:{q1}:events", "0-0", NULL), q);
    assert_int_equal(cmd("XREAD", "STREAMS", "p:{q1}:events", "p:{q2}:events", "0", "0", NULL), SLOT_CROSS);
    assert_int_equal(cmd("SET", "foo", "x", "EX", "5", NULL), 12182);
    assert_int_equal(cmd("GET", "{user1000}.following", NULL), 3443);
}

static void
test_command_routes(void **state)
{
    (void)state;
    assert_int_equal(cmd("PING", NULL), SLOT_NONE);
    assert_int_equal(cmd("TIME", NULL), SLOT_NONE);
    assert_int_equal(cmd("CONFIG", "GET", "maxmemory-policy", NULL), SLOT_NONE);
    assert_int_equal(cmd("INFO", "memory", NULL), SLOT_NONE);
    assert_int_equal(cmd("FUNCTION", "LOAD", "REPLACE", "#!lua name=x", NULL), SLOT_ALL);
    assert_int_equal(cmd("function", "list", NULL), SLOT_NONE);
    assert_int_equal(cmd("FLUSHALL", NULL), SLOT_ALL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16_check_value), cmocka_unit_test(test_keyslot_recorded),
        cmocka_unit_test(test_hash_tag_edges),    cmocka_unit_test(test_command_keys),
        cmocka_unit_test(test_command_routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
