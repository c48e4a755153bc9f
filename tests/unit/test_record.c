/* test_record.c - audit record lines: COPY escaping, NUL cut, UTF-8 repair,
 * error cap, and reading the key back. */
#include "fmacros.h"
#include "record.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static char *
build(record *r, size_t *len)
{
    char *s = record_build(r, len);
    assert_non_null(s);
    assert_int_equal(s[*len - 1], '\n');
    assert_memory_equal(s, RECORD_MAGIC, strlen(RECORD_MAGIC));
    return s;
}

static void
test_round_trip(void **state)
{
    (void)state;
    record r;
    record_init(&r);
    r.id = "job-1";
    r.queue = "default";
    r.kind = "mutation";
    r.service = "dns";
    r.action = "create_record";
    r.payload = "{\"name\":\"a\\tb\"}";
    r.status = "success";
    r.attempts = 2;
    r.rev = record_rev(2, REC_TERMINAL);
    r.error = "line1\nline2\ttab\\slash";
    r.enqueued_us = 1700000000123456;
    size_t len;
    char *s = build(&r, &len);
    const char *id;
    size_t idlen;
    int rev, ev;
    assert_int_equal(record_key(s, len, &id, &idlen, &rev, &ev), 0);
    assert_int_equal(idlen, 5);
    assert_memory_equal(id, "job-1", 5);
    assert_int_equal(rev, 11);
    assert_int_equal(ev, 0);
    /* no raw tab or newline inside a field: exactly RECORD_NCOLS columns, one line */
    int tabs = 0, nls = 0;
    for (size_t i = 0; i < len; i++) tabs += s[i] == '\t', nls += s[i] == '\n';
    assert_int_equal(tabs, RECORD_NCOLS); /* the magic's tab + RECORD_NCOLS - 1 separators */
    assert_int_equal(nls, 1);
    char out[256];
    assert_int_equal(record_field(s, len, RECORD_COL_ERROR, out, sizeof(out)), (int)strlen(r.error));
    assert_string_equal(out, r.error);
    assert_int_not_equal(record_field(s, len, RECORD_COL_PAYLOAD, out, sizeof(out)), -1);
    assert_string_equal(out, r.payload);
    assert_int_equal(record_field(s, len, RECORD_COL_TARGET_ID, out, sizeof(out)), -1); /* target_id is NULL */
    assert_int_equal(record_field(s, len, RECORD_COL_ENQUEUED, out, sizeof(out)), 16);
    assert_string_equal(out, "1700000000123456");
    free(s);
}

static void
test_event_flag(void **state)
{
    (void)state;
    record r;
    record_init(&r);
    r.id = "e";
    r.status = "retrying";
    r.rev = record_rev(1, REC_RETRYING);
    r.event = "attempt";
    r.ev_outcome = "transient";
    r.ev_attempt = 1;
    r.ev_at_us = 5;
    size_t len;
    char *s = build(&r, &len);
    const char *id;
    size_t idlen;
    int rev, ev;
    assert_int_equal(record_key(s, len, &id, &idlen, &rev, &ev), 0);
    assert_int_equal(rev, 6);
    assert_int_equal(ev, 1);
    free(s);
}

static void
test_bad_bytes_repaired(void **state)
{
    (void)state;
    record r;
    record_init(&r);
    r.id = "u";
    r.status = "dead";
    r.error = "bad \xC0\x80 utf8 \xE2\x82"; /* overlong, then truncated sequence */
    size_t len;
    char *s = build(&r, &len);
    char out[64];
    assert_int_not_equal(record_field(s, len, RECORD_COL_ERROR, out, sizeof(out)), -1);
    assert_string_equal(out, "bad \xEF\xBF\xBD\xEF\xBF\xBD utf8 \xEF\xBF\xBD\xEF\xBF\xBD");
    free(s);
}

static void
test_error_capped(void **state)
{
    (void)state;
    char *big = malloc(10000);
    memset(big, 'e', 9999);
    big[9999] = '\0';
    record r;
    record_init(&r);
    r.id = "big";
    r.status = "dead";
    r.error = big;
    size_t len;
    char *s = build(&r, &len);
    char *out = malloc(20000);
    assert_int_equal(record_field(s, len, RECORD_COL_ERROR, out, 20000), RECORD_ERROR_MAX);
    free(out);
    free(s);
    free(big);
}

static void
test_error_credentials_masked(void **state)
{
    (void)state;
    record r;
    char out[512];
    size_t len;
    record_init(&r);
    r.id = "e";
    r.status = "dead";
    r.error = "GET https://api:pw-1@dns.example/z failed";
    r.event = "attempt";
    r.ev_error = "401 with Authorization: Bearer tok-2";
    char *s = build(&r, &len);
    assert_true(record_field(s, len, RECORD_COL_ERROR, out, sizeof(out)) > 0);
    assert_string_equal(out, "GET https://api:********@dns.example/z failed");
    assert_true(record_field(s, len, RECORD_COL_EV_ERROR, out, sizeof(out)) > 0);
    assert_string_equal(out, "401 with Authorization: Bearer ********");
    free(s);
}

static void
test_control_bytes_escaped(void **state)
{
    (void)state;
    record r;
    record_init(&r);
    r.id = "c";
    r.status = "retrying";
    r.error = "a\001DUE b\033[31m";
    r.event = "attempt";
    r.ev_due = 1;
    size_t len;
    char *s = build(&r, &len);
    /* the only raw control byte is the due-time placeholder, once */
    int raw = 0;
    for (size_t i = 0; i + 1 < len; i++) raw += (unsigned char)s[i] < 0x20 && s[i] != '\t';
    assert_int_equal(raw, 1);
    assert_non_null(strstr(s, RECORD_DUE_PLACEHOLDER));
    char out[64];
    assert_int_not_equal(record_field(s, len, RECORD_COL_ERROR, out, sizeof(out)), -1);
    assert_string_equal(out, r.error);
    free(s);
}

/* Times the step stamps (RECORD_NOW) become the placeholder in each time
 * column they are set for, and nowhere else. */
static void
test_now_placeholder(void **state)
{
    (void)state;
    record r;
    record_init(&r);
    r.id = "n";
    r.status = "dead";
    r.enqueued_us = 7;
    r.started_us = RECORD_NOW;
    r.finished_us = RECORD_NOW;
    r.event = "attempt";
    r.ev_at_us = RECORD_NOW;
    r.ev_due = 1;
    size_t len;
    char *s = build(&r, &len);
    char out[64];
    const int cols[] = {RECORD_COL_STARTED, RECORD_COL_FINISHED, RECORD_COL_EV_AT};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(record_field(s, len, cols[i], out, sizeof(out)), 4);
        assert_string_equal(out, RECORD_NOW_PLACEHOLDER);
    }
    assert_int_equal(record_field(s, len, RECORD_COL_ENQUEUED, out, sizeof(out)), 1);
    assert_int_equal(record_field(s, len, RECORD_COL_EV_DUE, out, sizeof(out)), 4);
    assert_string_equal(out, RECORD_DUE_PLACEHOLDER);
    assert_int_equal(record_field(s, len, RECORD_COL_DURATION, out, sizeof(out)), -1);
    int raw = 0;
    for (size_t i = 0; i + 1 < len; i++) raw += s[i] == '\001';
    assert_int_equal(raw, 4);
    free(s);
}

static void
test_not_a_record(void **state)
{
    (void)state;
    const char *id;
    size_t idlen;
    int rev, ev;
    const char *bad[] = {"", "{\"id\":\"x\"}", "r1\t", "r1\tid\tnotanumber\t", "r2\tid\t3\t", "r1\t\t3\t", "r3\tid\t3\t"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(record_key(bad[i], strlen(bad[i]), &id, &idlen, &rev, &ev), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_event_flag),
        cmocka_unit_test(test_bad_bytes_repaired),
        cmocka_unit_test(test_error_capped),
        cmocka_unit_test(test_error_credentials_masked),
        cmocka_unit_test(test_control_bytes_escaped),
        cmocka_unit_test(test_now_placeholder),
        cmocka_unit_test(test_not_a_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
