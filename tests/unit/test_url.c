/* test_url.c - Redis URL parsing and URL/conninfo password redaction. */
#include "fmacros.h"
#include "cluster.h"
#include "url.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static char err[256];

static redis_url
must_parse(const char *s)
{
    redis_url u;
    err[0] = '\0';
    if (redis_url_parse(s, &u, err, sizeof(err)) != 0) fail_msg("%s: %s", s, err);
    return u;
}

/* expect_error parses s, wants -1, an error containing want, and u untouched. */
static void
expect_error(const char *s, const char *want)
{
    redis_url u, before;
    memset(&u, 0x5A, sizeof(u));
    before = u;
    err[0] = '\0';
    if (redis_url_parse(s, &u, err, sizeof(err)) != -1) fail_msg("%s: accepted", s ? s : "(null)");
    if (!strstr(err, want)) fail_msg("%s: error \"%s\" lacks \"%s\"", s ? s : "(null)", err, want);
    assert_memory_equal(&u, &before, sizeof(u));
}

static void
test_tcp_basic(void **state)
{
    (void)state;
    redis_url u = must_parse("redis://127.0.0.1:6379/0");
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
    assert_string_equal(u.path, "");
    assert_string_equal(u.user, "");
    assert_string_equal(u.password, "");
    u = must_parse("redis://localhost");
    assert_string_equal(u.host, "localhost");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
    u = must_parse("redis://localhost/");
    assert_int_equal(u.db, 0);
    u = must_parse("redis://cache.internal:7000/15");
    assert_string_equal(u.host, "cache.internal");
    assert_int_equal(u.port, 7000);
    assert_int_equal(u.db, 15);
    u = must_parse("REDIS://h:1/2");
    assert_int_equal(u.port, 1);
    u = must_parse("redis://h:65535");
    assert_int_equal(u.port, 65535);
    u = must_parse("redis://[::1]:6390/3");
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 6390);
    assert_int_equal(u.db, 3);
    u = must_parse("redis://[fe80::1]");
    assert_string_equal(u.host, "fe80::1");
    assert_int_equal(u.port, 6379);
}

static void
test_tcp_auth(void **state)
{
    (void)state;
    redis_url u = must_parse("redis://:secret@h");
    assert_string_equal(u.user, "");
    assert_string_equal(u.password, "secret");
    assert_string_equal(u.host, "h");
    u = must_parse("redis://alice:secret@h:6380/2");
    assert_string_equal(u.user, "alice");
    assert_string_equal(u.password, "secret");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 2);
    u = must_parse("redis://secret@h"); /* like redis-cli: a lone userinfo is the password */
    assert_string_equal(u.user, "");
    assert_string_equal(u.password, "secret");
    u = must_parse("redis://u%3Ax:p%40ss%2Fw%3Ard%25@h");
    assert_string_equal(u.user, "u:x");
    assert_string_equal(u.password, "p@ss/w:rd%");
    u = must_parse("redis://:a:b@h"); /* the first colon splits */
    assert_string_equal(u.password, "a:b");
    u = must_parse("redis://:ab/cd+ef@h:1/4"); /* unescaped '/' in a password (base64) */
    assert_string_equal(u.password, "ab/cd+ef");
    assert_string_equal(u.host, "h");
    assert_int_equal(u.db, 4);
    u = must_parse("redis://:p@ss@h"); /* the last @ ends the userinfo */
    assert_string_equal(u.password, "p@ss");
    assert_string_equal(u.host, "h");
}

static void
test_tcp_query(void **state)
{
    (void)state;
    redis_url u = must_parse("redis://h:1?db=3&password=p%20w&user=bob");
    assert_int_equal(u.db, 3);
    assert_string_equal(u.password, "p w");
    assert_string_equal(u.user, "bob");
    u = must_parse("redis://h/1?db=4");
    assert_int_equal(u.db, 4);
    u = must_parse("redis://h?");
    assert_string_equal(u.host, "h");
    expect_error("redis://h?foo=1", "unknown Redis URL parameter \"foo\"");
    expect_error("redis://h?db=x", "bad database number");
    expect_error("redis://h?db", "has no value");
}

static void
test_tcp_errors(void **state)
{
    (void)state;
    expect_error("redis://h:0", "bad port \"0\"");
    expect_error("redis://h:65536", "bad port");
    expect_error("redis://h:abc", "bad port");
    expect_error("redis://h:", "bad port");
    expect_error("redis://h:-1", "bad port");
    expect_error("redis://h:99999999999", "bad port");
    expect_error("redis://h/abc", "bad database number \"abc\"");
    expect_error("redis://h/-1", "bad database number");
    expect_error("redis://h/1/2", "bad database number");
    expect_error("redis://h/99999999999", "bad database number");
    expect_error("redis://", "empty host");
    expect_error("redis://:pw@", "empty host");
    expect_error("redis://:6379/0", "empty host");
    expect_error("redis://[::1", "unterminated");
    expect_error("redis://[::1]x", "after ]");
    expect_error("redis://:p%zz@h", "bad percent-escape in Redis URL password");
    expect_error("redis://:p%2@h", "bad percent-escape");
    expect_error("redis://:p%00@h", "bad percent-escape");
    expect_error("redis://h:6380?cafile=x", "known: db, password, user; rediss: cacert, cert, key");
    expect_error("REDISS://h:x", "bad port");
    expect_error("http://h", "unsupported URL scheme \"http\"");
    expect_error("localhost:6379", "not a Redis URL");
    expect_error("", "empty Redis URL");
    expect_error(NULL, "empty Redis URL");
    char big[400];
    snprintf(big, sizeof(big), "redis://:%0300d@h", 7);
    expect_error(big, "password is too long");
}

static void
test_errors_hide_password(void **state)
{
    (void)state;
    const char *cases[] = {"redis://:topsecret@h:99999", "redis://:topsecret@", "redis://u:topsecret@h/x",
                           "redis://:topsecret%zz@h", "rediss://:topsecret@h:0", "unix://:topsecret@tmp"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        redis_url u;
        assert_int_equal(redis_url_parse(cases[i], &u, err, sizeof(err)), -1);
        if (strstr(err, "topsecret")) fail_msg("%s: error leaks the password: %s", cases[i], err);
    }
}

static void
test_unix(void **state)
{
    (void)state;
    redis_url u = must_parse("unix:///tmp/redis.sock");
    assert_string_equal(u.path, "/tmp/redis.sock");
    assert_string_equal(u.host, "");
    assert_int_equal(u.db, 0);
    u = must_parse("unix:///run/r.sock?db=2&password=p%26w");
    assert_string_equal(u.path, "/run/r.sock");
    assert_int_equal(u.db, 2);
    assert_string_equal(u.password, "p&w");
    u = must_parse("unix://:pw@/run/r.sock");
    assert_string_equal(u.password, "pw");
    assert_string_equal(u.path, "/run/r.sock");
    u = must_parse("unix://bob:pw@/s?db=1");
    assert_string_equal(u.user, "bob");
    assert_int_equal(u.db, 1);
    expect_error("unix://", "absolute path");
    expect_error("unix:///", "missing socket path");
    expect_error("unix://tmp/x", "absolute path");
    expect_error("unix:///s?x=1", "unknown Redis URL parameter");
}

/* ---------------------------------------------------------------- Redaction */

static void
expect_redact(const char *in, const char *want)
{
    char out[512];
    url_redact(in, out, sizeof(out));
    if (strcmp(out, want) != 0) fail_msg("%s\n  became %s\n  want   %s", in ? in : "(null)", out, want);
}

static void
test_redact_uri(void **state)
{
    (void)state;
    expect_redact("redis://:secret@h:6379/0", "redis://:********@h:6379/0");
    expect_redact("redis://alice:secret@h", "redis://alice:********@h");
    expect_redact("redis://secret@h", "redis://********@h");
    expect_redact("redis://h:6379/0", "redis://h:6379/0");
    expect_redact("redis://h?password=x&db=1", "redis://h?password=********&db=1");
    expect_redact("unix://:pw@/tmp/s?db=1", "unix://:********@/tmp/s?db=1");
    expect_redact("unix:///tmp/s?password=pw", "unix:///tmp/s?password=********");
    expect_redact("rediss://:pw@h", "rediss://:********@h");
    expect_redact("postgres://app:p%40w@db:5432/syncq?sslmode=require",
                  "postgres://app:********@db:5432/syncq?sslmode=require");
    expect_redact("postgresql://app@db/syncq", "postgresql://app@db/syncq");
    expect_redact("postgresql://app@db/syncq?sslpassword=k&password=x#f",
                  "postgresql://app@db/syncq?sslpassword=********&password=********#f");
    expect_redact("postgresql:///syncq?host=/var/run/postgresql", "postgresql:///syncq?host=/var/run/postgresql");
    expect_redact("postgresql://u:p@[::1]:5432/d", "postgresql://u:********@[::1]:5432/d");
    /* An unescaped '/' in a password fails parsing; the log line must not leak it. */
    expect_redact("redis://:ab/cd+ef@h:6379/0", "redis://:********@h:6379/0");
    expect_redact("postgres://app:x/y@db/syncq", "postgres://app:********@db/syncq");
}

static void
test_redact_conninfo(void **state)
{
    (void)state;
    expect_redact("host=db user=app password=secret dbname=syncq", "host=db user=app password=******** dbname=syncq");
    expect_redact("password = 'a b\\' c' host=x", "password = ******** host=x");
    expect_redact("host=x sslpassword=k", "host=x sslpassword=********");
    expect_redact("PASSWORD=x", "PASSWORD=********");
    expect_redact("dbname='my password=x' user=u", "dbname='my password=x' user=u");
    expect_redact("passfile=/home/u/.pgpass", "passfile=/home/u/.pgpass");
    expect_redact("  host=a\tpassword=b  ", "  host=a\tpassword=********  ");
    expect_redact("password='unterminated", "password=********");
    expect_redact("bare words only", "bare words only");
    expect_redact("", "");
    expect_redact(NULL, "");
}

static void
test_redact_bounds(void **state)
{
    (void)state;
    char out[10];
    url_redact("redis://:secret@host:6379/0", out, sizeof(out));
    assert_string_equal(out, "redis://:");
    char one[1] = {'x'};
    url_redact("redis://h", one, sizeof(one));
    assert_int_equal(one[0], '\0');
    url_redact("redis://h", NULL, 0); /* no room, no write */
    char tight[20];
    url_redact("password=verysecretvalue", tight, sizeof(tight));
    assert_string_equal(tight, "password=********");
}

/* A password from a file goes into the userinfo, escaped; the user stays;
 * a URL with a password of its own is refused without quoting either. */
static void
test_set_password(void **state)
{
    char out[512];
    redis_url u;
    (void)state;
    assert_int_equal(redis_url_set_password("redis://syncq-worker@h:7000/2", "p@ss:/w", out, sizeof(out), err,
                                            sizeof(err)), 0);
    assert_string_equal(out, "redis://syncq-worker:p%40ss%3A%2Fw@h:7000/2");
    assert_int_equal(redis_url_parse(out, &u, err, sizeof(err)), 0);
    assert_string_equal(u.user, "syncq-worker");
    assert_string_equal(u.password, "p@ss:/w");
    assert_int_equal(u.db, 2);
    assert_int_equal(redis_url_set_password("redis://h:7000", "pw", out, sizeof(out), err, sizeof(err)), 0);
    assert_string_equal(out, "redis://:pw@h:7000");
    assert_int_equal(redis_url_set_password("unix:///run/redis.sock?db=1", "pw", out, sizeof(out), err, sizeof(err)), 0);
    assert_string_equal(out, "unix://:pw@/run/redis.sock?db=1");
    assert_int_equal(redis_url_parse(out, &u, err, sizeof(err)), 0);
    assert_string_equal(u.path, "/run/redis.sock");
    assert_string_equal(u.password, "pw");
    assert_int_equal(redis_url_set_password("redis://u:old@h", "new", out, sizeof(out), err, sizeof(err)), -1);
    assert_null(strstr(err, "old"));
    assert_null(strstr(err, "new"));
    assert_int_equal(redis_url_set_password("redis://h/0?password=old", "new", out, sizeof(out), err, sizeof(err)), -1);
    assert_int_equal(redis_url_set_password("redis://h", "pw", out, 8, err, sizeof(err)), -1);
}

/* redis-cluster://: the seeds, the credentials for every node, the refusals. */
static void
test_cluster_url(void **state)
{
    (void)state;
    redis_url u;
    char seeds[CLUSTER_MAX_SEEDS][80], out[256];
    int n = 0;
    assert_int_equal(cluster_url_parse("redis-cluster://app:s%40cret@10.0.0.1:7000,10.0.0.2,h3:7002/", &u, seeds, &n,
                                       err, sizeof(err)), 0);
    assert_int_equal(n, 3);
    assert_string_equal(seeds[0], "10.0.0.1:7000");
    assert_string_equal(seeds[1], "10.0.0.2:6379"); /* the default port */
    assert_string_equal(u.user, "app");
    assert_string_equal(u.password, "s@cret");
    assert_int_equal(u.db, 0);
    assert_int_equal(cluster_url_parse("redis-cluster://h1:1,h2:2", &u, seeds, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 2);
    assert_int_equal(cluster_url_parse("redis-cluster://h1:1/3", &u, seeds, &n, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "database 0"));
    assert_int_equal(cluster_url_parse("redis-cluster://:pw@h1:1,,h2:2/", &u, seeds, &n, err, sizeof(err)), -1);
    assert_null(strstr(err, "pw"));
    assert_int_equal(cluster_url_parse("redis-cluster:///", &u, seeds, &n, err, sizeof(err)), -1);
    assert_int_equal(cluster_url_parse("redis://h:1/0", &u, seeds, &n, err, sizeof(err)), -1);
    assert_true(cluster_is_url("redis-cluster://h:1/"));
    assert_false(cluster_is_url("redis://h:1/"));
    url_redact("redis-cluster://app:secret@h1:1,h2:2/", out, sizeof(out));
    assert_null(strstr(out, "secret"));
    assert_non_null(strstr(out, "h1:1,h2:2"));
}

/* rediss://: TLS, with the CA and a client certificate as parameters. */
static void
test_rediss(void **state)
{
    redis_url u;
    (void)state;
    assert_int_equal(redis_url_parse("rediss://w:pw@h:6380/2?cacert=/etc/ca%20x.pem&cert=/c.pem&key=/k.pem", &u, err,
                                     sizeof(err)), 0);
    assert_int_equal(u.tls, 1);
    assert_string_equal(u.host, "h");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 2);
    assert_string_equal(u.cacert, "/etc/ca x.pem");
    assert_string_equal(u.cert, "/c.pem");
    assert_string_equal(u.key, "/k.pem");
    assert_int_equal(redis_url_parse("redis://h", &u, err, sizeof(err)), 0);
    assert_int_equal(u.tls, 0);
}

/* redis-sentinel://: the sentinels (26379 by default), the master's name,
 * the db, the master's credentials. */
static void
test_sentinel(void **state)
{
    redis_url u;
    char out[256];
    (void)state;
    assert_int_equal(redis_url_parse("redis-sentinel://w:p%40w@s1:26380,s2,[::1]:26381/mymaster/3", &u, err,
                                     sizeof(err)), 0);
    assert_int_equal(u.nsentinels, 3);
    assert_string_equal(u.sentinels[0].host, "s1");
    assert_int_equal(u.sentinels[0].port, 26380);
    assert_string_equal(u.sentinels[1].host, "s2");
    assert_int_equal(u.sentinels[1].port, 26379);
    assert_string_equal(u.sentinels[2].host, "::1");
    assert_string_equal(u.master, "mymaster");
    assert_int_equal(u.db, 3);
    assert_string_equal(u.user, "w");
    assert_string_equal(u.password, "p@w");
    assert_int_equal(redis_url_parse("redis-sentinel://s1/m?db=2", &u, err, sizeof(err)), 0);
    assert_int_equal(u.db, 2);
    expect_error("redis-sentinel://s1:26379", "missing master name");
    expect_error("redis-sentinel://s1:26379/", "missing master name");
    expect_error("redis-sentinel:///m", "no sentinel");
    expect_error("redis-sentinel://s1:0/m", "bad port");
    expect_error("redis-sentinel://a,b,c,d,e,f,g,h,i/m", "more than 8 sentinels");
    url_redact("redis-sentinel://w:secret@s1,s2/m", out, sizeof(out));
    assert_null(strstr(out, "secret"));
    assert_int_equal(redis_url_set_password("redis-sentinel://w@s1:26379,s2/m", "pw", out, sizeof(out), err,
                                            sizeof(err)), 0);
    assert_string_equal(out, "redis-sentinel://w:pw@s1:26379,s2/m");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_basic),
        cmocka_unit_test(test_tcp_auth),
        cmocka_unit_test(test_tcp_query),
        cmocka_unit_test(test_tcp_errors),
        cmocka_unit_test(test_errors_hide_password),
        cmocka_unit_test(test_unix),
        cmocka_unit_test(test_redact_uri),
        cmocka_unit_test(test_redact_conninfo),
        cmocka_unit_test(test_redact_bounds),
        cmocka_unit_test(test_set_password),
        cmocka_unit_test(test_cluster_url),
        cmocka_unit_test(test_sentinel),
        cmocka_unit_test(test_rediss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
