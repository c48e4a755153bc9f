/* test_envelope.c - envelope v1: byte scan, parsing, field rules, RFC 3339, building, shared vectors. */
#include "fmacros.h"
#include "envelope.h"
#include "xalloc.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define MIN_ENV "{\"kind\":\"mutation\",\"service\":\"dns\",\"action\":\"create_record\""

static char err[256];

static envelope_err
scan_s(const char *s)
{
    return envelope_scan(s, strlen(s), ENVELOPE_MAX_BYTES, err, sizeof(err));
}

static envelope_err
parse_n(const char *s, size_t n, envelope *e)
{
    err[0] = '\0';
    return envelope_parse(s, n, ENVELOPE_MAX_BYTES, e, err, sizeof(err));
}

static envelope_err
parse_s(const char *s, envelope *e)
{
    return parse_n(s, strlen(s), e);
}

/* expect_field parses s, expects ENV_ERR_FIELD and the exact message. */
static void
expect_field(const char *s, const char *msg)
{
    envelope e;
    assert_int_equal(parse_s(s, &e), ENV_ERR_FIELD);
    assert_string_equal(err, msg);
    assert_null(e.root);
}

/* with_field returns MIN_ENV plus one more member (caller frees). */
static char *
with_field(const char *member)
{
    size_t n = strlen(MIN_ENV) + strlen(member) + 3;
    char *s = xmalloc(n);
    snprintf(s, n, "%s,%s}", MIN_ENV, member);
    return s;
}

static envelope_err
parse_with(const char *member)
{
    envelope e;
    char *s = with_field(member);
    envelope_err rc = parse_s(s, &e);
    envelope_free(&e);
    free(s);
    return rc;
}

/* ---------------------------------------------------------------- Scan */

static void
test_scan_empty_and_size(void **state)
{
    (void)state;
    assert_int_equal(envelope_scan("", 0, ENVELOPE_MAX_BYTES, err, sizeof(err)), ENV_ERR_EMPTY);
    assert_int_equal(envelope_scan("{}", 2, 1, err, sizeof(err)), ENV_ERR_TOO_LARGE);
    assert_non_null(strstr(err, "over the limit"));
    assert_int_equal(envelope_scan("{}", 2, 2, err, sizeof(err)), ENV_OK);
    assert_int_equal(envelope_scan("{}", 2, 0, err, sizeof(err)), ENV_OK); /* 0: the default limit */
}

static void
test_scan_two_mib(void **state)
{
    (void)state;
    size_t n = 2 * 1024 * 1024;
    char *s = xmalloc(n);
    memset(s, ' ', n);
    s[0] = '{';
    s[n - 1] = '}';
    envelope e;
    assert_int_equal(parse_n(s, n, &e), ENV_ERR_TOO_LARGE);
    assert_null(e.root);
    assert_int_equal(envelope_scan(s, n, n, err, sizeof(err)), ENV_OK);
    free(s);
}

static void
test_scan_nul(void **state)
{
    (void)state;
    const char raw[] = "{\"a\":\"x\0y\"}";
    assert_int_equal(envelope_scan(raw, sizeof(raw) - 1, 0, err, sizeof(err)), ENV_ERR_NUL);
    assert_int_equal(envelope_scan("{}\0", 3, 0, err, sizeof(err)), ENV_ERR_NUL);
    assert_int_equal(scan_s("{\"a\":\"x\\u0000y\"}"), ENV_ERR_NUL);
    assert_int_equal(scan_s("{\"\\u0000\":1}"), ENV_ERR_NUL);      /* in a key */
    assert_int_equal(scan_s("{\"a\":\"\\\\\\u0000\"}"), ENV_ERR_NUL); /* \\ then \u0000 */
    assert_int_equal(scan_s("{\"a\":\"\\\\u0000\"}"), ENV_OK);      /* \\ then text u0000 */
    assert_int_equal(scan_s("{\"a\":\"\\\\\\\\u0000\"}"), ENV_OK);  /* \\\\ then text */
    assert_int_equal(scan_s("{\"a\":\"\\u0001\\u00000\"}"), ENV_ERR_NUL);
    assert_int_equal(scan_s("{\"a\":\"\\u0030\"}"), ENV_OK);
    assert_int_equal(scan_s("{\"a\":\"\\u000\"}"), ENV_OK); /* bad JSON, but not NUL: the parser says so */
    assert_int_equal(scan_s("{\"a\":\"\\\""), ENV_OK);      /* escaped quote keeps the string open */
}

static void
test_scan_utf8(void **state)
{
    (void)state;
    assert_int_equal(scan_s("{\"a\":\"\xC0\x80\"}"), ENV_ERR_UTF8);         /* overlong NUL */
    assert_int_equal(scan_s("{\"a\":\"\xED\xA0\x80\"}"), ENV_ERR_UTF8);     /* lone surrogate */
    assert_int_equal(scan_s("{\"a\":\"\xF5\x80\x80\x80\"}"), ENV_ERR_UTF8); /* above U+10FFFF */
    assert_int_equal(scan_s("{\"a\":\"\xE2\x82\"}"), ENV_ERR_UTF8);         /* truncated */
    assert_int_equal(scan_s("{\"a\":\"\x80\"}"), ENV_ERR_UTF8);             /* stray continuation */
    assert_int_equal(scan_s("{\"a\":\"\xFF\"}"), ENV_ERR_UTF8);
    assert_int_equal(scan_s("{\"a\":\"\xE2\x82\xAC \xF0\x9F\x98\x80 \xC3\xA9\"}"), ENV_OK);
    assert_int_equal(scan_s("{\"\xC3\xA9\":\"\\\xC3\xA9\"}"), ENV_OK); /* backslash before é: syntax, not UTF-8 */
}

static char *
brackets(size_t depth, char open, char close)
{
    char *s = xmalloc(2 * depth + 1);
    memset(s, open, depth);
    memset(s + depth, close, depth);
    s[2 * depth] = '\0';
    return s;
}

static void
test_scan_depth(void **state)
{
    (void)state;
    char *ok = brackets(ENVELOPE_MAX_DEPTH, '[', ']');
    char *deep = brackets(ENVELOPE_MAX_DEPTH + 1, '{', '}');
    assert_int_equal(scan_s(ok), ENV_OK);
    assert_int_equal(scan_s(deep), ENV_ERR_DEPTH);
    free(ok);
    free(deep);
    /* Brackets inside strings do not nest. */
    char *str = brackets(1000, '[', '[');
    char *quoted = xmalloc(2010);
    snprintf(quoted, 2010, "{\"a\":\"%s\"}", str);
    assert_int_equal(scan_s(quoted), ENV_OK);
    free(str);
    free(quoted);
    /* Siblings do not add up. */
    assert_int_equal(scan_s("[[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],"
                            "[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],"
                            "[],[],[],[],[],[],[],[]]"),
                     ENV_OK);
}

static void
test_scan_deep_100k(void **state)
{
    (void)state;
    size_t n = 100000;
    char *s = xmalloc(n);
    memset(s, '[', n);
    envelope e;
    assert_int_equal(parse_n(s, n, &e), ENV_ERR_DEPTH);
    /* Rejected at the first bracket over the limit, not after reading everything. */
    assert_non_null(strstr(err, "at byte 64"));
    assert_null(e.root);
    free(s);
}

static void
test_scan_control_in_string(void **state)
{
    (void)state;
    assert_int_equal(scan_s("{\"a\":\"x\ny\"}"), ENV_ERR_SYNTAX);
    assert_int_equal(scan_s("{\"a\":\"x\ty\"}"), ENV_ERR_SYNTAX);
    assert_int_equal(scan_s("{\n\t\"a\" : 1\r\n}"), ENV_OK); /* blanks between tokens are fine */
}

/* ---------------------------------------------------------------- Parse */

static void
test_parse_minimal(void **state)
{
    (void)state;
    envelope e;
    assert_int_equal(parse_s(MIN_ENV "}", &e), ENV_OK);
    assert_non_null(e.root);
    assert_int_equal(e.v, 1);
    assert_int_equal(e.kind, KIND_MUTATION);
    assert_string_equal(e.service, "dns");
    assert_string_equal(e.action, "create_record");
    assert_null(e.id);
    assert_null(e.target_type);
    assert_null(e.payload);
    assert_int_equal(e.max_attempts, 0);
    assert_int_equal(e.timeout_ms, 0);
    assert_int_equal(e.enqueued_at_ms, -1);
    assert_int_equal(e.attempt, 0);
    envelope_free(&e);
    assert_null(e.root);
    envelope_free(&e); /* twice is harmless */
    envelope_free(NULL);
}

static void
test_parse_full(void **state)
{
    (void)state;
    const char *s = "{\"v\":1,\"id\":\"0190f5e2-7b1c-7c3e-9a55-3f0e4d2c1b0a\",\"kind\":\"sync\",\"service\":\"dns\","
                    "\"action\":\"list\",\"target_type\":\"record\",\"target_id\":\"r1\",\"scope\":\"zone:a\","
                    "\"payload\":{\"k\":[1,2]},\"actor\":\"user:42\",\"max_attempts\":7,\"timeout_ms\":1500,"
                    "\"idempotency_key\":\"ik\",\"idempotency_ttl_s\":60,\"debounce_key\":\"dk\",\"debounce_ms\":250,"
                    "\"expected_hash\":\"h\",\"enqueued_at\":\"1970-01-01T00:00:01.5Z\",\"attempt\":3}";
    envelope e;
    assert_int_equal(parse_s(s, &e), ENV_OK);
    assert_string_equal(e.id, "0190f5e2-7b1c-7c3e-9a55-3f0e4d2c1b0a");
    assert_int_equal(e.kind, KIND_SYNC);
    assert_string_equal(e.target_type, "record");
    assert_string_equal(e.target_id, "r1");
    assert_string_equal(e.scope, "zone:a");
    assert_string_equal(e.actor, "user:42");
    assert_int_equal(json_typeof(e.payload), JSON_OBJECT);
    assert_int_equal(json_size(json_get(e.payload, "k")), 2);
    assert_int_equal(e.max_attempts, 7);
    assert_int_equal(e.timeout_ms, 1500);
    assert_string_equal(e.idempotency_key, "ik");
    assert_int_equal(e.idempotency_ttl_s, 60);
    assert_string_equal(e.debounce_key, "dk");
    assert_int_equal(e.debounce_ms, 250);
    assert_string_equal(e.expected_hash, "h");
    assert_string_equal(e.enqueued_at, "1970-01-01T00:00:01.5Z");
    assert_int_equal(e.enqueued_at_ms, 1500);
    assert_int_equal(e.attempt, 3);
    envelope_free(&e);
}

static void
test_parse_not_object(void **state)
{
    (void)state;
    const char *cases[] = {"[]", "42", "\"x\"", "null", "true", "[{\"kind\":\"sync\"}]"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        envelope e;
        assert_int_equal(parse_s(cases[i], &e), ENV_ERR_NOT_OBJECT);
        assert_null(e.root);
    }
}

static void
test_parse_syntax(void **state)
{
    (void)state;
    const char *cases[] = {MIN_ENV, "{\"kind\":", "{", " ", "{} {}", MIN_ENV "} x", "{'a':1}", "{\"a\":\"\\ud800\"}"};
    envelope e;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(parse_s(cases[i], &e), ENV_ERR_SYNTAX);
        assert_null(e.root);
    }
    assert_int_equal(parse_s("", &e), ENV_ERR_EMPTY);
    assert_int_equal(parse_s("{\"a\":\"\\u0000\"}", &e), ENV_ERR_NUL);
}

static void
test_parse_missing(void **state)
{
    (void)state;
    expect_field("{\"kind\":\"mutation\",\"action\":\"a\"}", "missing required field \"service\"");
    expect_field("{\"kind\":\"mutation\",\"service\":\"s\"}", "missing required field \"action\"");
    expect_field("{\"service\":\"s\",\"action\":\"a\"}", "missing required field \"kind\"");
    expect_field("{}", "missing required field \"kind\"");
    expect_field("{\"kind\":\"mutation\",\"service\":null,\"action\":\"a\"}", "missing required field \"service\"");
    expect_field("{\"kind\":\"job\",\"service\":\"s\",\"action\":\"a\"}", "field \"kind\" must be \"mutation\" or \"sync\"");
    expect_field("{\"kind\":1,\"service\":\"s\",\"action\":\"a\"}", "field \"kind\" must be a string");
}

static void
test_parse_dup_key(void **state)
{
    (void)state;
    envelope e;
    assert_int_equal(parse_s(MIN_ENV ",\"service\":\"crm\"}", &e), ENV_ERR_DUP_KEY);
    assert_string_equal(err, "duplicate top-level key \"service\"");
    assert_null(e.root);
    assert_int_equal(parse_s(MIN_ENV ",\"servic\\u0065\":\"crm\"}", &e), ENV_ERR_DUP_KEY);
    assert_int_equal(parse_s(MIN_ENV ",\"x\":1,\"y\":2,\"x\":3}", &e), ENV_ERR_DUP_KEY);
    /* Unknown duplicates too, and the message stays on one line. */
    assert_int_equal(parse_s(MIN_ENV ",\"a\\nb\":1,\"a\\nb\":2}", &e), ENV_ERR_DUP_KEY);
    assert_null(strchr(err, '\n'));
    /* Only the top level is checked (docs/DESIGN.md §9). */
    assert_int_equal(parse_s(MIN_ENV ",\"payload\":{\"a\":1,\"a\":2}}", &e), ENV_OK);
    envelope_free(&e);
}

static void
test_parse_many_keys(void **state)
{
    (void)state;
    /* 20,000 distinct unknown keys: fine; one duplicate at the end: found. */
    size_t n = 20000;
    char *s = xmalloc(n * 16 + 128);
    size_t len = (size_t)sprintf(s, "%s", MIN_ENV);
    for (size_t i = 0; i < n; i++) len += (size_t)sprintf(s + len, ",\"k%zu\":1", i);
    envelope e;
    strcpy(s + len, "}");
    assert_int_equal(parse_n(s, len + 1, &e), ENV_OK);
    envelope_free(&e);
    strcpy(s + len, ",\"k7\":2}");
    assert_int_equal(parse_n(s, len + 8, &e), ENV_ERR_DUP_KEY);
    free(s);
}

static void
test_parse_ints(void **state)
{
    (void)state;
    const char *bad[] = {"\"max_attempts\":1.5", "\"max_attempts\":1e300", "\"max_attempts\":-1",
                         "\"max_attempts\":0", "\"max_attempts\":1001", "\"max_attempts\":\"3\"",
                         "\"max_attempts\":true", "\"max_attempts\":[3]", "\"max_attempts\":1e400",
                         "\"timeout_ms\":0", "\"timeout_ms\":86400001", "\"idempotency_ttl_s\":0",
                         "\"idempotency_ttl_s\":31536001", "\"debounce_ms\":-1", "\"debounce_ms\":86400001",
                         "\"attempt\":-1", "\"attempt\":0.5", "\"v\":2", "\"v\":0", "\"v\":\"1\""};
    const char *good[] = {"\"max_attempts\":1", "\"max_attempts\":1000", "\"max_attempts\":3.0",
                          "\"max_attempts\":null", "\"timeout_ms\":86400000", "\"timeout_ms\":1e4",
                          "\"idempotency_ttl_s\":31536000", "\"debounce_ms\":0", "\"attempt\":0", "\"v\":1",
                          "\"v\":1.0", "\"max_attempts\":-0.0e0,\"x\":1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) assert_int_equal(parse_with(bad[i]), ENV_ERR_FIELD);
    for (size_t i = 0; i + 1 < sizeof(good) / sizeof(good[0]); i++) assert_int_equal(parse_with(good[i]), ENV_OK);
    assert_int_equal(parse_with(good[sizeof(good) / sizeof(good[0]) - 1]), ENV_ERR_FIELD); /* -0 is 0 */
    expect_field(MIN_ENV ",\"max_attempts\":1.5}", "field \"max_attempts\" must be an integer in 1..1000");
    expect_field(MIN_ENV ",\"timeout_ms\":-1}", "field \"timeout_ms\" must be an integer in 1..86400000");
    expect_field(MIN_ENV ",\"v\":2}", "field \"v\" must be 1");
}

static void
test_parse_strings(void **state)
{
    (void)state;
    char long_name[160], *s;
    envelope e;
    expect_field("{\"kind\":\"mutation\",\"service\":\"\",\"action\":\"a\"}", "field \"service\" must not be empty");
    expect_field("{\"kind\":\"mutation\",\"service\":5,\"action\":\"a\"}", "field \"service\" must be a string");
    expect_field("{\"kind\":\"mutation\",\"service\":\"s\",\"action\":\"a\\u0007\"}",
                 "field \"action\" must not contain control characters");
    expect_field(MIN_ENV ",\"target_id\":42}", "field \"target_id\" must be a string");
    expect_field(MIN_ENV ",\"scope\":{}}", "field \"scope\" must be a string");
    expect_field(MIN_ENV ",\"actor\":true}", "field \"actor\" must be a string");
    expect_field(MIN_ENV ",\"expected_hash\":[]}", "field \"expected_hash\" must be a string");
    memset(long_name, 'x', 128);
    long_name[128] = '\0';
    s = xmalloc(400);
    snprintf(s, 400, "{\"kind\":\"sync\",\"service\":\"%s\",\"action\":\"a\"}", long_name);
    assert_int_equal(parse_s(s, &e), ENV_OK);
    assert_int_equal(strlen(e.service), 128);
    envelope_free(&e);
    snprintf(s, 400, "{\"kind\":\"sync\",\"service\":\"%sx\",\"action\":\"a\"}", long_name);
    expect_field(s, "field \"service\" must be at most 128 bytes");
    free(s);
    assert_int_equal(parse_with("\"target_id\":\"\""), ENV_OK); /* optional strings may be empty */
    assert_int_equal(parse_with("\"scope\":null"), ENV_OK);
}

static void
test_parse_payload(void **state)
{
    (void)state;
    envelope e;
    expect_field(MIN_ENV ",\"payload\":[1]}", "field \"payload\" must be an object");
    expect_field(MIN_ENV ",\"payload\":\"{}\"}", "field \"payload\" must be an object");
    expect_field(MIN_ENV ",\"payload\":0}", "field \"payload\" must be an object");
    assert_int_equal(parse_s(MIN_ENV ",\"payload\":null}", &e), ENV_OK);
    assert_null(e.payload);
    envelope_free(&e);
    assert_int_equal(parse_s(MIN_ENV ",\"payload\":{}}", &e), ENV_OK);
    assert_non_null(e.payload);
    assert_int_equal(json_size(e.payload), 0);
    envelope_free(&e);
}

static void
test_parse_id(void **state)
{
    (void)state;
    const char *msg = "field \"id\" must be 1..128 printable ASCII characters without spaces";
    char id[140], s[300];
    expect_field(MIN_ENV ",\"id\":\"a b\"}", msg);
    expect_field(MIN_ENV ",\"id\":\"\"}", msg);
    expect_field(MIN_ENV ",\"id\":\"\xC3\xA9\"}", msg);
    expect_field(MIN_ENV ",\"id\":\"a\\tb\"}", msg);
    expect_field(MIN_ENV ",\"id\":7}", "field \"id\" must be a string");
    memset(id, 'a', 129);
    id[129] = '\0';
    snprintf(s, sizeof(s), "%s,\"id\":\"%s\"}", MIN_ENV, id);
    expect_field(s, msg);
    id[128] = '\0';
    snprintf(s, sizeof(s), "%s,\"id\":\"%s\"}", MIN_ENV, id);
    envelope e;
    assert_int_equal(parse_s(s, &e), ENV_OK);
    envelope_free(&e);
    assert_int_equal(parse_with("\"id\":\"job:42/retry#1\""), ENV_OK);
}

static void
test_parse_enqueued_at(void **state)
{
    (void)state;
    const char *msg = "field \"enqueued_at\" must be an RFC 3339 time (e.g. 2026-11-24T10:00:00Z)";
    envelope e;
    expect_field(MIN_ENV ",\"enqueued_at\":\"yesterday\"}", msg);
    expect_field(MIN_ENV ",\"enqueued_at\":\"2026-11-24 10:00:00Z\"}", msg);
    expect_field(MIN_ENV ",\"enqueued_at\":\"1969-12-31T23:59:59Z\"}", msg);
    expect_field(MIN_ENV ",\"enqueued_at\":1764000000}", "field \"enqueued_at\" must be a string");
    assert_int_equal(parse_s(MIN_ENV ",\"enqueued_at\":\"2026-11-24T10:00:00Z\"}", &e), ENV_OK);
    assert_int_equal(e.enqueued_at_ms, INT64_C(1795514400000));
    envelope_free(&e);
}

static void
test_parse_debounce_needs_sync(void **state)
{
    (void)state;
    expect_field(MIN_ENV ",\"debounce_key\":\"k\"}", "field \"debounce_key\" is only allowed when kind is \"sync\"");
    envelope e;
    assert_int_equal(parse_s("{\"kind\":\"sync\",\"service\":\"s\",\"action\":\"a\",\"debounce_key\":\"k\"}", &e),
                     ENV_OK);
    envelope_free(&e);
}

static void
test_parse_error_leaves_empty(void **state)
{
    (void)state;
    envelope e, zero;
    memset(&zero, 0, sizeof(zero));
    const char *cases[] = {"[]", "", MIN_ENV ",\"max_attempts\":0}", MIN_ENV ",\"service\":\"x\"}", "{", "\"\""};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&e, 0xAB, sizeof(e));
        assert_int_not_equal(parse_s(cases[i], &e), ENV_OK);
        assert_memory_equal(&e, &zero, sizeof(e));
        assert_true(err[0] != '\0');
        assert_null(strchr(err, '\n'));
    }
}

static void
test_parse_unknown_fields(void **state)
{
    (void)state;
    assert_int_equal(parse_with("\"x_future\":{\"a\":[1,{}]},\"trace\":\"t\""), ENV_OK);
}

static void
test_kind_names(void **state)
{
    (void)state;
    assert_string_equal(envelope_kind_name(KIND_MUTATION), "mutation");
    assert_string_equal(envelope_kind_name(KIND_SYNC), "sync");
    assert_null(envelope_kind_name(KIND_NONE));
    assert_int_equal(envelope_kind_from("sync"), KIND_SYNC);
    assert_int_equal(envelope_kind_from("mutation"), KIND_MUTATION);
    assert_int_equal(envelope_kind_from("SYNC"), KIND_NONE);
    assert_int_equal(envelope_kind_from(NULL), KIND_NONE);
}

/* ---------------------------------------------------------------- RFC 3339 */

static int64_t
parse_ms(const char *s)
{
    int64_t ms = INT64_MIN;
    assert_int_equal(rfc3339_parse(s, &ms), 0);
    return ms;
}

static void
test_rfc3339_parse(void **state)
{
    (void)state;
    assert_int_equal(parse_ms("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parse_ms("1970-01-01t00:00:00z"), 0);
    assert_int_equal(parse_ms("1970-01-01T00:00:00.001Z"), 1);
    assert_int_equal(parse_ms("1970-01-01T00:00:00.1Z"), 100);
    assert_int_equal(parse_ms("1970-01-01T00:00:00.123456789Z"), 123);
    assert_int_equal(parse_ms("2026-11-24T10:00:00Z"), INT64_C(1795514400000));
    assert_int_equal(parse_ms("2026-11-24T12:00:00+02:00"), INT64_C(1795514400000));
    assert_int_equal(parse_ms("2026-11-24T05:30:00-04:30"), INT64_C(1795514400000));
    assert_int_equal(parse_ms("2026-11-24T10:00:00-00:00"), INT64_C(1795514400000));
    assert_int_equal(parse_ms("2000-02-29T00:00:00Z"), INT64_C(951782400000));
    assert_int_equal(parse_ms("1969-12-31T23:59:59.999Z"), -1);
    assert_int_equal(parse_ms("2016-12-31T23:59:60Z"), INT64_C(1483228800000)); /* leap second */
    const char *bad[] = {"", "2026-11-24", "2026-11-24T10:00Z", "2026-11-24T10:00:00", "2026-11-24T10:00:00+0200",
                         "2026-11-24T10:00:00+02", "2026-11-24T24:00:00Z", "2026-11-24T10:60:00Z",
                         "2026-11-24T10:00:61Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
                         "2026-11-00T00:00:00Z", "2026-11-31T00:00:00Z", "2023-02-29T00:00:00Z",
                         "2100-02-29T00:00:00Z", "2026-11-24T10:00:00.Z", "2026-11-24T10:00:00ZZ",
                         "2026-11-24 10:00:00Z", "26-11-24T10:00:00Z", "2026-1-24T10:00:00Z",
                         "2026-11-24T10:00:00+24:00", "2026-11-24T10:00:00+02:60", " 2026-11-24T10:00:00Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ms = 42;
        assert_int_equal(rfc3339_parse(bad[i], &ms), -1);
        assert_int_equal(ms, 42);
    }
    assert_int_equal(rfc3339_parse(NULL, NULL), -1);
}

static void
test_rfc3339_format(void **state)
{
    (void)state;
    char buf[32];
    rfc3339_format(0, buf, sizeof(buf));
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    rfc3339_format(-1, buf, sizeof(buf));
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
    rfc3339_format(INT64_C(1795514400123), buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-24T10:00:00.123Z");
    rfc3339_format(INT64_C(951868800000), buf, sizeof(buf));
    assert_string_equal(buf, "2000-03-01T00:00:00.000Z");
    rfc3339_format(INT64_C(253402300799999), buf, sizeof(buf));
    assert_string_equal(buf, "9999-12-31T23:59:59.999Z");
    char small[8];
    rfc3339_format(0, small, sizeof(small));
    assert_string_equal(small, "1970-01");
}

/* Every day from 1900 to 2200 agrees with the C library's timegm, and
 * format/parse round-trips. */
static void
test_rfc3339_against_timegm(void **state)
{
    (void)state;
    for (int64_t day = -25567; day < 84000; day += 1) {
        int64_t ms = day * 86400000 + (day % 86400) * 997, back;
        char buf[32];
        rfc3339_format(ms, buf, sizeof(buf));
        assert_int_equal(rfc3339_parse(buf, &back), 0);
        assert_int_equal(back, ms);
        time_t t = (time_t)(ms / 1000 - (ms % 1000 < 0));
        struct tm tm;
        gmtime_r(&t, &tm);
        char want[32];
        strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
        assert_memory_equal(buf, want, 19);
    }
}

/* ---------------------------------------------------------------- Build */

static void
test_build_round_trip(void **state)
{
    (void)state;
    envelope_spec sp = {0};
    const char *payload = "{ \"n\" : 1.50, \"s\":\"\\u00e9\", \"a\":[ ] }";
    sp.id = "job-1";
    sp.kind = "sync";
    sp.service = "dns";
    sp.action = "list_records";
    sp.target_type = "zone";
    sp.target_id = "z\"1\\";
    sp.scope = "zone:example.com";
    sp.actor = "cron";
    sp.payload_json = payload;
    sp.payload_len = strlen(payload);
    sp.max_attempts = 9;
    sp.timeout_ms = 1234;
    sp.idempotency_key = "ik";
    sp.idempotency_ttl_s = 60;
    sp.debounce_key = "dk";
    sp.debounce_ms = 500;
    sp.expected_hash = "h1";
    sp.enqueued_at = "2026-11-24T10:00:00.000Z";
    size_t len = 0;
    char *s = envelope_build(&sp, &len, err, sizeof(err));
    assert_non_null(s);
    assert_int_equal(len, strlen(s));
    assert_non_null(strstr(s, payload)); /* verbatim, spacing and 1.50 included */
    envelope e;
    assert_int_equal(parse_n(s, len, &e), ENV_OK);
    assert_int_equal(e.v, 1);
    assert_string_equal(e.id, "job-1");
    assert_int_equal(e.kind, KIND_SYNC);
    assert_string_equal(e.target_id, "z\"1\\");
    assert_string_equal(e.actor, "cron");
    assert_int_equal(e.max_attempts, 9);
    assert_int_equal(e.timeout_ms, 1234);
    assert_int_equal(e.idempotency_ttl_s, 60);
    assert_string_equal(e.debounce_key, "dk");
    assert_int_equal(e.debounce_ms, 500);
    assert_string_equal(e.expected_hash, "h1");
    assert_int_equal(e.enqueued_at_ms, INT64_C(1795514400000));
    assert_string_equal(json_str(json_get(e.payload, "s")), "\xC3\xA9");
    envelope_free(&e);
    free(s);
}

static void
test_build_minimal(void **state)
{
    (void)state;
    envelope_spec sp = {0};
    sp.kind = "mutation";
    sp.service = "dns";
    sp.action = "delete_record";
    char *s = envelope_build(&sp, NULL, err, sizeof(err));
    assert_non_null(s);
    assert_string_equal(s, "{\"v\":1,\"kind\":\"mutation\",\"service\":\"dns\",\"action\":\"delete_record\",\"payload\":{}}");
    free(s);
    sp.payload_json = "{\"a\":1}"; /* payload_len 0: strlen */
    s = envelope_build(&sp, NULL, err, sizeof(err));
    assert_non_null(s);
    assert_non_null(strstr(s, "\"payload\":{\"a\":1}}"));
    free(s);
}

static void
test_build_errors(void **state)
{
    (void)state;
    const struct { const char *kind, *service, *action, *payload, *debounce, *actor, *msg; } cases[] = {
        {"mutation", "dns", "a", "[1]", NULL, NULL, "payload must be a JSON object"},
        {"mutation", "dns", "a", "{\"a\":", NULL, NULL, NULL},
        {"mutation", "dns", "a", "{} {}", NULL, NULL, NULL},
        {"job", "dns", "a", NULL, NULL, NULL, "field \"kind\" must be \"mutation\" or \"sync\""},
        {NULL, "dns", "a", NULL, NULL, NULL, "missing required field \"kind\""},
        {"sync", "", "a", NULL, NULL, NULL, "field \"service\" must not be empty"},
        {"sync", "dns", NULL, NULL, NULL, NULL, "missing required field \"action\""},
        {"sync", "d\nns", "a", NULL, NULL, NULL, "field \"service\" must not contain control characters"},
        {"mutation", "dns", "a", NULL, "k", NULL, "field \"debounce_key\" is only allowed when kind is \"sync\""},
        {"sync", "dns", "a", NULL, NULL, "bad \xC0\x80", "field \"actor\" is not valid UTF-8"},
        {"sync", "dns", "a", "{\"a\":\"\\u0000\"}", NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        envelope_spec sp = {0};
        sp.kind = cases[i].kind;
        sp.service = cases[i].service;
        sp.action = cases[i].action;
        sp.payload_json = cases[i].payload;
        sp.debounce_key = cases[i].debounce;
        sp.actor = cases[i].actor;
        err[0] = '\0';
        assert_null(envelope_build(&sp, NULL, err, sizeof(err)));
        assert_true(err[0] != '\0');
        if (cases[i].msg) assert_string_equal(err, cases[i].msg);
    }
    envelope_spec sp = {0};
    sp.kind = "sync";
    sp.service = "s";
    sp.action = "a";
    sp.max_attempts = 1001;
    assert_null(envelope_build(&sp, NULL, err, sizeof(err)));
    assert_string_equal(err, "field \"max_attempts\" must be an integer in 1..1000");
    sp.max_attempts = 0;
    sp.enqueued_at = "soon";
    assert_null(envelope_build(&sp, NULL, err, sizeof(err)));
}

/* ---------------------------------------------------------------- Shared vectors */

static char *
read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, len = 0;
    if (!f) return NULL;
    for (;;) {
        if (len == cap) buf = xrealloc(buf, cap = cap ? cap * 2 : 4096);
        size_t r = fread(buf + len, 1, cap - len, f);
        if (r == 0) break;
        len += r;
    }
    fclose(f);
    *n = len;
    return buf;
}

/* expected_code derives the error a C validator reports from the file name;
 * the other validators (Lua) only need to reject. */
static envelope_err
expected_code(const char *name)
{
    static const struct { const char *prefix; envelope_err rc; } map[] = {
        {"empty.", ENV_ERR_EMPTY}, {"syntax_", ENV_ERR_SYNTAX}, {"not_object", ENV_ERR_NOT_OBJECT},
        {"dup_key", ENV_ERR_DUP_KEY}, {"nul_", ENV_ERR_NUL}, {"bad_utf8", ENV_ERR_UTF8},
        {"too_deep", ENV_ERR_DEPTH}, {"size_", ENV_ERR_TOO_LARGE},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strncmp(name, map[i].prefix, strlen(map[i].prefix)) == 0) return map[i].rc;
    return ENV_ERR_FIELD;
}

static int
walk_vectors(const char *dir, int want_valid)
{
    char path[1024];
    int count = 0;
    DIR *d = opendir(dir);
    if (!d) fail_msg("cannot open vector directory %s (run from the repo root or set SYNCQ_VECTORS)", dir);
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        size_t nl = strlen(de->d_name), n = 0;
        if (nl < 6 || strcmp(de->d_name + nl - 5, ".json") != 0) continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        char *buf = read_file(path, &n);
        if (!buf) fail_msg("cannot read %s", path);
        envelope e;
        envelope_err rc = parse_n(buf, n, &e);
        envelope_err want = want_valid ? ENV_OK : expected_code(de->d_name);
        if (rc != want) fail_msg("%s: got code %d, want %d (%s)", path, rc, want, err);
        envelope_free(&e);
        free(buf);
        count++;
    }
    closedir(d);
    return count;
}

static void
test_shared_vectors(void **state)
{
    (void)state;
    const char *base = getenv("SYNCQ_VECTORS");
    char dir[512];
    if (!base || !*base) base = "tests/vectors";
    snprintf(dir, sizeof(dir), "%s/valid", base);
    int valid = walk_vectors(dir, 1);
    snprintf(dir, sizeof(dir), "%s/invalid", base);
    int invalid = walk_vectors(dir, 0);
    assert_true(valid >= 8);
    assert_true(invalid >= 15);
}

/* A rejected envelope keeps its producer's id in the dead letter. */
static void
test_id_of_rejected(void **state)
{
    (void)state;
    char id[129];
    const char *bad = "{\"id\":\"job-7\",\"kind\":\"mutation\",\"service\":\"s\",\"action\":\"a\",\"max_attempts\":0}";
    assert_int_equal(envelope_id_of(bad, strlen(bad), 0, id, sizeof(id)), 0);
    assert_string_equal(id, "job-7");
    const char *spaced = "{\"id\":\"a b\",\"kind\":\"x\"}", *dup = "{\"id\":\"a\",\"id\":\"b\"}";
    assert_int_equal(envelope_id_of(spaced, strlen(spaced), 0, id, sizeof(id)), -1);
    assert_int_equal(envelope_id_of(dup, strlen(dup), 0, id, sizeof(id)), -1);
    assert_int_equal(envelope_id_of("[1]", 3, 0, id, sizeof(id)), -1);
    assert_int_equal(envelope_id_of("{\"id\":7}", 8, 0, id, sizeof(id)), -1);
}

/* The limit counts what syncq_enqueue fills in: 44 bytes for a missing id,
 * 41 for a missing enqueued_at (34 and 22 when they are null). */
static void
test_stored_len_limit(void **state)
{
    (void)state;
    envelope e;
    const char *s = "{\"kind\":\"sync\",\"service\":\"s\",\"action\":\"a\"}";
    size_t n = strlen(s);
    assert_int_equal(envelope_parse(s, n, n + 85, &e, err, sizeof(err)), ENV_OK);
    envelope_free(&e);
    assert_int_equal(envelope_parse(s, n, n + 84, &e, err, sizeof(err)), ENV_ERR_TOO_LARGE);
    assert_non_null(strstr(err, "once id and enqueued_at are filled in"));
    const char *nulls = "{\"kind\":\"sync\",\"service\":\"s\",\"action\":\"a\",\"id\":null,\"enqueued_at\":null}";
    n = strlen(nulls);
    assert_int_equal(envelope_parse(nulls, n, n + 56, &e, err, sizeof(err)), ENV_OK);
    envelope_free(&e);
    assert_int_equal(envelope_parse(nulls, n, n + 55, &e, err, sizeof(err)), ENV_ERR_TOO_LARGE);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_empty_and_size),
        cmocka_unit_test(test_id_of_rejected),
        cmocka_unit_test(test_stored_len_limit),
        cmocka_unit_test(test_scan_two_mib),
        cmocka_unit_test(test_scan_nul),
        cmocka_unit_test(test_scan_utf8),
        cmocka_unit_test(test_scan_depth),
        cmocka_unit_test(test_scan_deep_100k),
        cmocka_unit_test(test_scan_control_in_string),
        cmocka_unit_test(test_parse_minimal),
        cmocka_unit_test(test_parse_full),
        cmocka_unit_test(test_parse_not_object),
        cmocka_unit_test(test_parse_syntax),
        cmocka_unit_test(test_parse_missing),
        cmocka_unit_test(test_parse_dup_key),
        cmocka_unit_test(test_parse_many_keys),
        cmocka_unit_test(test_parse_ints),
        cmocka_unit_test(test_parse_strings),
        cmocka_unit_test(test_parse_payload),
        cmocka_unit_test(test_parse_id),
        cmocka_unit_test(test_parse_enqueued_at),
        cmocka_unit_test(test_parse_debounce_needs_sync),
        cmocka_unit_test(test_parse_error_leaves_empty),
        cmocka_unit_test(test_parse_unknown_fields),
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_rfc3339_parse),
        cmocka_unit_test(test_rfc3339_format),
        cmocka_unit_test(test_rfc3339_against_timegm),
        cmocka_unit_test(test_build_round_trip),
        cmocka_unit_test(test_build_minimal),
        cmocka_unit_test(test_build_errors),
        cmocka_unit_test(test_shared_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
