/* test_sign.c - HMAC request signatures: GitHub's documented example, a
 * Stripe-style timestamped scheme, a canonical request in base64 SHA-512,
 * and the template checks the services file relies on. */
#include "fmacros.h"
#include "sign.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static sign_spec
spec(crypto_md md, const char *key, const char *message, const char *format, sign_encoding enc)
{
    sign_spec s = {md, (char *)key, (char *)message, (char *)"X-Signature", (char *)format, enc, NULL};
    return s;
}

/* docs.github.com "Validating webhook deliveries": its test values */
static void
test_github(void **state)
{
    (void)state;
    sign_spec s = spec(CRYPTO_SHA256, "It's a Secret to Everybody", "{body}", "sha256={signature}", SIGN_HEX);
    sign_input in = {"POST", "/hook", "Hello, World!", 13, 0};
    char out[SIGN_VALUE_MAX];
    assert_int_equal(sign_value(&s, &in, out, sizeof(out)), 0);
    assert_string_equal(out, "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
}

/* Stripe-Signature: t=TS,v1=HMAC-SHA256(key, "TS.body") */
static void
test_stripe(void **state)
{
    (void)state;
    sign_spec s = spec(CRYPTO_SHA256, "whsec_test", "{timestamp}.{body}", "t={timestamp},v1={signature}", SIGN_HEX);
    sign_input in = {"POST", "/v1/x", "{\"a\":1}", 7, 1700000000};
    char out[SIGN_VALUE_MAX];
    assert_int_equal(sign_value(&s, &in, out, sizeof(out)), 0);
    assert_string_equal(out, "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789");
}

/* a canonical request: method, target, timestamp and body on lines */
static void
test_canonical(void **state)
{
    (void)state;
    sign_spec s = spec(CRYPTO_SHA512, "k3y-canon", "{method}\n{path}\n{timestamp}\n{body}", "{signature}", SIGN_BASE64);
    sign_input in = {"POST", "/zones/x/records?a=1", "{\"a\":1}", 7, 1700000000};
    char out[SIGN_VALUE_MAX];
    sbuf m;
    sbuf_init(&m);
    sign_message(&s, &in, &m);
    assert_string_equal(m.buf, "POST\n/zones/x/records?a=1\n1700000000\n{\"a\":1}");
    sbuf_free(&m);
    assert_int_equal(sign_value(&s, &in, out, sizeof(out)), 0);
    assert_string_equal(out, "t5oO5Hp1hCR0O/H2CiL/erU8+aMJB/KOrN8rYe7LyAPNYDILaKmAhCMmxANm8IVqJhRX18AMjYzk9e/clcRI5w==");
    /* no body signs as empty; the value must fit */
    in.body = NULL;
    sbuf_init(&m);
    sign_message(&s, &in, &m);
    assert_string_equal(m.buf, "POST\n/zones/x/records?a=1\n1700000000\n");
    sbuf_free(&m);
    assert_int_equal(sign_value(&s, &in, out, 10), -1);
}

static void
test_templates(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(sign_check_template("{timestamp}.{body}", 0, err, sizeof(err)), 0);
    assert_int_equal(sign_check_template("", 0, err, sizeof(err)), 0);
    assert_int_equal(sign_check_template("{method} {path}", 0, err, sizeof(err)), 0);
    assert_int_equal(sign_check_template("{signature}", 0, err, sizeof(err)), -1); /* the message cannot sign itself */
    assert_string_equal(err, "unknown placeholder {signature} (use {method}, {path}, {body} and {timestamp})");
    assert_int_equal(sign_check_template("{body", 0, err, sizeof(err)), -1);
    assert_string_equal(err, "unbalanced { or } at byte 0");
    assert_int_equal(sign_check_template("body}", 0, err, sizeof(err)), -1);
    assert_int_equal(sign_check_template("t={timestamp},v1={signature}", 1, err, sizeof(err)), 0);
    assert_int_equal(sign_check_template("t={timestamp}", 1, err, sizeof(err)), -1);
    assert_string_equal(err, "must contain {signature}");
    assert_int_equal(sign_check_template("{body}{signature}", 1, err, sizeof(err)), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_github),
        cmocka_unit_test(test_stripe),
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_templates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
