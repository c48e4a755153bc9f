/* test_web_session.c - console sessions: ids and CSRF tokens are random and
 * distinct, a session ends at logout, after the idle limit and after the
 * absolute limit, a full table drops the least recently used, and the CSRF
 * check refuses anything but the session's own token. */
#include "fmacros.h"
#include "web.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static web_sessions s;

static void
test_new_find(void **state)
{
    (void)state;
    memset(&s, 0, sizeof(s));
    web_session *a = web_session_new(&s, "alice", WEB_ROLE_MANAGER, 1000);
    web_session *b = web_session_new(&s, "bob", WEB_ROLE_VIEWER, 1000);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(strlen(a->id), WEB_SID_LEN);
    assert_int_equal(strlen(a->csrf), WEB_CSRF_LEN);
    assert_string_not_equal(a->id, b->id);
    assert_string_not_equal(a->id, a->csrf);
    assert_ptr_equal(web_session_find(&s, a->id, 2000), a);
    assert_string_equal(web_session_find(&s, b->id, 2000)->user, "bob");
    assert_null(web_session_find(&s, NULL, 2000));
    assert_null(web_session_find(&s, "", 2000));
    char wrong[WEB_SID_LEN + 1];
    memcpy(wrong, a->id, sizeof(wrong));
    wrong[WEB_SID_LEN - 1] = wrong[WEB_SID_LEN - 1] == '0' ? '1' : '0';
    assert_null(web_session_find(&s, wrong, 2000));
    wrong[WEB_SID_LEN - 1] = '\0'; /* a prefix of a real id */
    assert_null(web_session_find(&s, wrong, 2000));
    web_session_drop(a);
    assert_null(web_session_find(&s, wrong, 2000));
}

static void
test_expiry(void **state)
{
    char id[WEB_SID_LEN + 1];
    (void)state;
    memset(&s, 0, sizeof(s));
    web_session *a = web_session_new(&s, "alice", WEB_ROLE_MANAGER, 0);
    memcpy(id, a->id, sizeof(id));
    /* use keeps it alive past the idle limit... */
    for (int64_t t = WEB_SESSION_IDLE_MS / 2; t < 3 * WEB_SESSION_IDLE_MS; t += WEB_SESSION_IDLE_MS / 2)
        assert_non_null(web_session_find(&s, id, t));
    /* ...but idleness ends it */
    int64_t last = 3 * WEB_SESSION_IDLE_MS - WEB_SESSION_IDLE_MS / 2;
    assert_null(web_session_find(&s, id, last + WEB_SESSION_IDLE_MS + 1));
    assert_null(web_session_find(&s, id, last + 1)); /* dropped for good */
    /* and so does age, however busy */
    a = web_session_new(&s, "alice", WEB_ROLE_MANAGER, 0);
    memcpy(id, a->id, sizeof(id));
    int64_t t = 0;
    for (; t + WEB_SESSION_IDLE_MS / 2 <= WEB_SESSION_MAX_MS; t += WEB_SESSION_IDLE_MS / 2)
        assert_non_null(web_session_find(&s, id, t));
    assert_null(web_session_find(&s, id, WEB_SESSION_MAX_MS + 1));
}

static void
test_full_table(void **state)
{
    char first[WEB_SID_LEN + 1], second[WEB_SID_LEN + 1];
    (void)state;
    memset(&s, 0, sizeof(s));
    memcpy(first, web_session_new(&s, "u0", WEB_ROLE_VIEWER, 1)->id, sizeof(first));
    memcpy(second, web_session_new(&s, "u1", WEB_ROLE_VIEWER, 2)->id, sizeof(second));
    for (int i = 2; i < WEB_SESSIONS_MAX; i++) assert_non_null(web_session_new(&s, "u", WEB_ROLE_VIEWER, 10 + i));
    assert_non_null(web_session_find(&s, first, 1000)); /* used: now the most recent */
    assert_non_null(web_session_new(&s, "late", WEB_ROLE_VIEWER, 1001));
    assert_non_null(web_session_find(&s, first, 1002));
    assert_null(web_session_find(&s, second, 1002)); /* the least recently used went */
}

static void
test_csrf(void **state)
{
    (void)state;
    memset(&s, 0, sizeof(s));
    web_session *a = web_session_new(&s, "alice", WEB_ROLE_MANAGER, 0);
    web_session *b = web_session_new(&s, "bob", WEB_ROLE_VIEWER, 0);
    assert_true(web_csrf_ok(a, a->csrf));
    assert_false(web_csrf_ok(a, b->csrf));
    assert_false(web_csrf_ok(a, NULL));
    assert_false(web_csrf_ok(a, ""));
    assert_false(web_csrf_ok(NULL, a->csrf));
    char cut[WEB_CSRF_LEN];
    memcpy(cut, a->csrf, WEB_CSRF_LEN - 1);
    cut[WEB_CSRF_LEN - 1] = '\0';
    assert_false(web_csrf_ok(a, cut));
    assert_false(web_equal("", ""));
    assert_true(web_equal("abc", "abc"));
    assert_false(web_equal("abc", "abd"));
    assert_false(web_equal("abc", "abcd"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_find), cmocka_unit_test(test_expiry), cmocka_unit_test(test_full_table),
        cmocka_unit_test(test_csrf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
