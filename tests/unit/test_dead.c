/* test_dead.c - dead-letter entries: parsing, filters, replay entries and dlq records. */
#include "fmacros.h"
#include "dead.h"
#include "record.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define MAXB (1024 * 1024)

static const char good[] =
    "~syncq1 id=tag-1 seen=100 err=permanent%20failure%20requested dead=200\n"
    "{\"kind\":\"mutation\",\"service\":\"syncq\",\"action\":\"fail\",\"target_type\":\"zone\","
    "\"target_id\":\"z1\",\"scope\":\"s\",\"actor\":\"user:1\",\"payload\":{\"permanent\":true,"
    "\"password\":\"hunter2\",\"url\":\"https://u:pw@h/x\"}}";

/* col returns column c of record line s (static buffer; "\\N" for NULL). */
static const char *
col(const char *s, size_t n, int c)
{
    static char out[4096];
    if (record_field(s, n, c, out, sizeof(out)) < 0) return "\\N";
    return out;
}

static void
test_parse_good(void **state)
{
    (void)state;
    dead_entry e;
    dead_entry_parse(&e, good, strlen(good), MAXB);
    assert_int_equal(e.wrapped, 1);
    assert_int_equal(e.env_ok, 1);
    assert_string_equal(e.w.tag, "tag-1");
    assert_string_equal(e.w.err, "permanent failure requested");
    assert_string_equal(e.env.service, "syncq");
    assert_string_equal(e.env.action, "fail");
    assert_int_equal(e.w.dead_ms, 200);
    assert_memory_equal(e.w.raw, "{\"kind\"", 7);
    dead_entry_free(&e);
    dead_entry_free(&e); /* twice is harmless */
}

static void
test_parse_bad(void **state)
{
    (void)state;
    dead_entry e;
    const char *poison = "~syncq1 id=t2 seen=1 err=bad dead=2\n{bad";
    dead_entry_parse(&e, poison, strlen(poison), MAXB);
    assert_int_equal(e.wrapped, 1);
    assert_int_equal(e.env_ok, 0);
    assert_true(strlen(e.env_err) > 0);
    assert_int_equal(e.w.rawlen, 4);
    assert_null(dead_masked_payload(&e));
    dead_entry_free(&e);

    const char *damaged = "~syncq1 id=t3 seen=x\n{}";
    dead_entry_parse(&e, damaged, strlen(damaged), MAXB);
    assert_int_equal(e.wrapped, -1);
    assert_int_equal(e.env_ok, 0);
    assert_string_equal(e.w.tag, "");
    assert_ptr_equal(e.w.raw, damaged);
    assert_int_equal(e.w.rawlen, strlen(damaged));
    dead_entry_free(&e);
}

static void
test_icontains(void **state)
{
    (void)state;
    assert_true(dead_icontains("Permanent failure", "FAILURE"));
    assert_true(dead_icontains("abc", ""));
    assert_true(dead_icontains("abc", "abc"));
    assert_true(dead_icontains("xxabab", "abab"));
    assert_false(dead_icontains("abc", "abcd"));
    assert_false(dead_icontains("", "a"));
    assert_false(dead_icontains("unknown handler", "handlers"));
}

static void
test_match(void **state)
{
    (void)state;
    dead_entry e, bad;
    const char *poison = "~syncq1 id=t2 seen=1 err=bad%20envelope dead=2\n{bad";
    dead_entry_parse(&e, good, strlen(good), MAXB);
    dead_entry_parse(&bad, poison, strlen(poison), MAXB);
    dead_filter any = {NULL, NULL, NULL}, svc = {"syncq", NULL, NULL}, act = {"syncq", "noop", NULL};
    dead_filter err = {NULL, NULL, "PERMANENT"}, env = {NULL, NULL, "envelope"};
    assert_true(dead_match(&e, &any));
    assert_true(dead_match(&bad, &any));
    assert_true(dead_match(&e, &svc));
    assert_false(dead_match(&bad, &svc)); /* no service when the envelope does not parse */
    assert_false(dead_match(&e, &act));
    assert_true(dead_match(&e, &err));
    assert_false(dead_match(&bad, &err));
    assert_true(dead_match(&bad, &env));
    dead_entry_free(&e);
    dead_entry_free(&bad);
}

static void
test_masked_payload(void **state)
{
    (void)state;
    dead_entry e;
    dead_entry_parse(&e, good, strlen(good), MAXB);
    char *p = dead_masked_payload(&e);
    assert_non_null(p);
    assert_null(strstr(p, "hunter2"));
    assert_null(strstr(p, ":pw@"));
    assert_non_null(strstr(p, "\"password\":\"********\""));
    assert_non_null(strstr(p, "\"permanent\":true"));
    free(p);
    dead_entry_free(&e);
}

static void
test_replay_entry(void **state)
{
    (void)state;
    dead_entry e, back;
    size_t len;
    dead_entry_parse(&e, good, strlen(good), MAXB);
    char *s = dead_replay_entry(&e, "tag-1", "new-1", 5000, &len);
    assert_non_null(s);
    assert_int_equal(strlen(s), len);
    dead_entry_parse(&back, s, len, MAXB);
    assert_int_equal(back.wrapped, 1);
    assert_string_equal(back.w.tag, "new-1");
    assert_string_equal(back.w.jid, "new-1");
    assert_string_equal(back.w.from, "tag-1");
    assert_string_equal(back.w.root, "tag-1");
    assert_string_equal(back.w.err, "");
    assert_int_equal(back.w.seen_ms, 5000);
    assert_int_equal(back.w.ready_ms, -1);
    assert_int_equal(back.w.dead_ms, -1);
    assert_int_equal(back.w.rawlen, e.w.rawlen);
    assert_memory_equal(back.w.raw, e.w.raw, e.w.rawlen); /* the producer's bytes, unchanged */

    /* a replay of a replay keeps the chain's root */
    char *s2 = dead_replay_entry(&back, "new-1", "new-2", 6000, &len);
    dead_entry again;
    dead_entry_parse(&again, s2, len, MAXB);
    assert_string_equal(again.w.from, "new-1");
    assert_string_equal(again.w.root, "tag-1");
    dead_entry_free(&again);
    free(s2);
    dead_entry_free(&back);
    free(s);

    /* ids too long for the wrapper */
    char longid[WRAP_TAG_MAX + 8];
    memset(longid, 'x', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    assert_null(dead_replay_entry(&e, "tag-1", longid, 1, &len));
    s = dead_replay_entry(&e, longid, "new-3", 1, &len);
    assert_non_null(s);
    dead_entry_parse(&back, s, len, MAXB);
    assert_string_equal(back.w.from, "");
    assert_string_equal(back.w.root, "");
    assert_string_equal(back.w.jid, "new-3");
    dead_entry_free(&back);
    free(s);
    dead_entry_free(&e);
}

static void
test_replay_unparsable(void **state)
{
    (void)state;
    dead_entry e, back;
    size_t len;
    const char *poison = "~syncq1 id=t2 seen=1 root=first from=t1 err=x dead=2\n{bad";
    dead_entry_parse(&e, poison, strlen(poison), MAXB);
    char *s = dead_replay_entry(&e, "t2", "n2", 9, &len);
    dead_entry_parse(&back, s, len, MAXB);
    assert_string_equal(back.w.root, "first");
    assert_string_equal(back.w.from, "t2");
    assert_int_equal(back.w.rawlen, 4);
    assert_memory_equal(back.w.raw, "{bad", 4);
    free(s);
    char *r = dead_queued_record(&e, "default", "n2", "t2", 9, &len);
    assert_string_equal(col(r, len, RECORD_COL_ID), "n2");
    assert_string_equal(col(r, len, RECORD_COL_SERVICE), "\\N"); /* service unknown */
    assert_string_equal(col(r, len, RECORD_COL_PAYLOAD), "\\N"); /* no payload */
    assert_string_equal(col(r, len, RECORD_COL_REPLAYED_FROM), "t2");
    free(r);
    dead_entry_free(&back);
    dead_entry_free(&e);
}

static void
test_queued_record(void **state)
{
    (void)state;
    dead_entry e;
    size_t len;
    dead_entry_parse(&e, good, strlen(good), MAXB);
    char *r = dead_queued_record(&e, "default", "new-1", "tag-1", 5000, &len);
    const char *id;
    size_t idlen;
    int rev, ev;
    assert_int_equal(record_key(r, len, &id, &idlen, &rev, &ev), 0);
    assert_int_equal(rev, 0);
    assert_int_equal(ev, 0);
    assert_string_equal(col(r, len, RECORD_COL_ID), "new-1");
    assert_string_equal(col(r, len, RECORD_COL_QUEUE), "default");
    assert_string_equal(col(r, len, RECORD_COL_KIND), "mutation");
    assert_string_equal(col(r, len, RECORD_COL_SERVICE), "syncq");
    assert_string_equal(col(r, len, RECORD_COL_ACTION), "fail");
    assert_string_equal(col(r, len, RECORD_COL_TARGET_ID), "z1");
    assert_string_equal(col(r, len, RECORD_COL_ACTOR), "user:1");
    assert_string_equal(col(r, len, RECORD_COL_STATUS), "queued");
    assert_string_equal(col(r, len, RECORD_COL_ENQUEUED), "5000000"); /* ms of Redis TIME, recorded in us */
    assert_string_equal(col(r, len, RECORD_COL_REPLAYED_FROM), "tag-1");
    assert_null(strstr(r, "hunter2"));
    assert_non_null(strstr(col(r, len, RECORD_COL_PAYLOAD), "********"));
    free(r);
    dead_entry_free(&e);
}

static void
test_event_record(void **state)
{
    (void)state;
    size_t len;
    const char *id;
    size_t idlen;
    int rev, ev;
    char *r = dead_event_record("default", "tag-1", "replayed", "replayed by ops:alice as new-1", DEAD_REV_REPLAYED,
                                7000, &len);
    assert_int_equal(record_key(r, len, &id, &idlen, &rev, &ev), 0);
    assert_int_equal(rev, 0); /* never moves the job's row */
    assert_int_equal(ev, 1);
    assert_string_equal(col(r, len, RECORD_COL_ID), "tag-1");
    assert_string_equal(col(r, len, RECORD_COL_STATUS), "dead");
    assert_string_equal(col(r, len, RECORD_COL_EV_EVENT), "replayed");
    assert_string_equal(col(r, len, RECORD_COL_EV_OUTCOME), "\\N");
    assert_string_equal(col(r, len, RECORD_COL_EV_ERROR), "replayed by ops:alice as new-1");
    assert_string_equal(col(r, len, RECORD_COL_EV_ATTEMPT), "\\N");
    assert_string_equal(col(r, len, RECORD_COL_EV_AT), "7000000");
    assert_string_equal(col(r, len, RECORD_COL_EV_REV), "1000000");
    free(r);
}

/* The job id of a dead letter, whatever its member (dead.h). */
static void
test_job_id(void **state)
{
    (void)state;
    dead_entry e;
    char id[WRAP_TAG_MAX];
    const char *replayed = "~syncq1 id=t1 seen=1 jid=new-1 from=old dead=2\n{\"kind\":\"sync\",\"service\":\"s\",\"action\":\"a\",\"id\":\"env\"}";
    const char *own = "~syncq1 id=t2 seen=1 dead=2\n{\"kind\":\"sync\",\"service\":\"s\",\"action\":\"a\",\"id\":\"dup-1\"}";
    const char *invalid = "~syncq1 id=t3 seen=1 dead=2\n{\"id\":\"dup-1\",\"kind\":\"nope\"}";
    const char *noid = "~syncq1 id=t4 seen=1 dead=2\nnot json";
    const char *cases[][2] = {{replayed, "new-1"}, {own, "dup-1"}, {invalid, "dup-1"}, {noid, "t4"}, {"bare", "m"}};
    for (size_t i = 0; i < 5; i++) {
        dead_entry_parse(&e, cases[i][0], strlen(cases[i][0]), 0);
        dead_job_id(&e, "m", id, sizeof(id));
        assert_string_equal(id, cases[i][1]);
        dead_entry_free(&e);
    }
}

static void
test_event_rev(void **state)
{
    (void)state;
    assert_int_equal(dead_event_rev("dup-1", DEAD_REV_REPLAYED), DEAD_REV_REPLAYED);
    assert_int_equal(dead_event_rev("dup-1", DEAD_REV_PURGED), DEAD_REV_PURGED);
    int a = dead_event_rev("dup-1~t2", DEAD_REV_REPLAYED), b = dead_event_rev("dup-1~t3", DEAD_REV_REPLAYED);
    int p = dead_event_rev("dup-1~t2", DEAD_REV_PURGED);
    assert_true(a != b && a != DEAD_REV_REPLAYED && p == a + 1);
    assert_true(a >= 1000002 && a < 2000000 && p < 2000000 && a % 2 == 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_job_id),
        cmocka_unit_test(test_event_rev),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_icontains),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_masked_payload),
        cmocka_unit_test(test_replay_entry),
        cmocka_unit_test(test_replay_unparsable),
        cmocka_unit_test(test_queued_record),
        cmocka_unit_test(test_event_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
