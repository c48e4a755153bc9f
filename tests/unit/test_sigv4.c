/* test_sigv4.c - AWS Signature Version 4: AWS's worked example (IAM
 * ListUsers, from "Create a signed AWS API request"), the canonical query
 * and path rules, and a whole request with a session token (its expected
 * signature computed independently with Python's hmac and hashlib). */
#include "fmacros.h"
#include "sigv4.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void
test_aws_example(void **state)
{
    (void)state;
    sigv4_spec s = {(char *)"us-east-1", (char *)"iam", (char *)"AKIDEXAMPLE",
                    (char *)"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL};
    sigv4_header h[] = {{"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
                        {"host", "iam.amazonaws.com"},
                        {"x-amz-date", "20150830T123600Z"}};
    sbuf c;
    char sig[65];
    sbuf_init(&c);
    /* the parameters come unsorted: canonical order is by name */
    assert_int_equal(sigv4_canonical("GET", "/", "Version=2010-05-08&Action=ListUsers", h, 3, EMPTY_SHA256, 0, &c), 0);
    assert_string_equal(c.buf, "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
                               "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
                               "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                               "content-type;host;x-amz-date\n" EMPTY_SHA256);
    assert_int_equal(sigv4_signature(&s, "20150830T123600Z", c.buf, c.len, sig), 0);
    assert_string_equal(sig, "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
    sbuf_free(&c);
}

static const char *
canon(const char *path, const char *query, int s3)
{
    static sbuf c;
    sbuf_free(&c);
    sbuf_init(&c);
    if (sigv4_canonical("GET", path, query, NULL, 0, "h", s3, &c) < 0) return NULL;
    return c.buf;
}

static void
test_rules(void **state)
{
    (void)state;
    /* sorted by name then value; a bare name gets "="; encoding per RFC 3986, upper-case hex */
    assert_string_equal(canon("/", "b=2&a=x%2fy&a=1&c&d=%7E+", 0), "GET\n/\na=1&a=x%2Fy&b=2&c=&d=~%2B\n\n\nh");
    /* the path of a service other than s3 is encoded twice, s3's once */
    assert_string_equal(canon("/a%20b/c", "", 0), "GET\n/a%2520b/c\n\n\n\nh");
    assert_string_equal(canon("/a%20b/c", "", 1), "GET\n/a%20b/c\n\n\n\nh");
    assert_string_equal(canon("", "", 0), "GET\n/\n\n\n\nh");
}

static void
test_request(void **state)
{
    (void)state;
    sigv4_spec s = {(char *)"eu-west-1", (char *)"execute-api", (char *)"AKIDTEST", (char *)"secretKEY",
                    (char *)"SESSIONTOKEN"};
    sigv4_out o;
    char err[128];
    const char *body = "{\"name\":\"www\"}";
    assert_int_equal(sigv4_request(&s, "POST", "https://API.example.net:443/zones/ex%40a/records?x&page=2&a=1", body,
                                   strlen(body), 1796198400, &o, err, sizeof(err)),
                     0);
    assert_string_equal(o.amz_date, "20261202T080000Z");
    assert_string_equal(o.content_sha256, "2c53f1165a990b5f78ae41d30de8ab9d6a689a38def9b25c1dbfeb889b1b6853");
    assert_string_equal(o.authorization,
                        "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261202/eu-west-1/execute-api/aws4_request, "
                        "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, "
                        "Signature=87e44565aaf0003050ba08b02a6b31940b42310dd25e89185f5cc9bec7f58181");
    assert_int_equal(sigv4_request(&s, "GET", "nohost", NULL, 0, 0, &o, err, sizeof(err)), -1);
    assert_string_equal(err, "aws_sigv4: no host in the URL");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aws_example),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
