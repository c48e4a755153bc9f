/* test_web_auth.c - the users file: parsing and its refusals, password and
 * token checks through libcrypt, rewriting one user's line. */
#include "fmacros.h"
#include "web.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[64], path[128];

static void
write_file(const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int
load_err(const char *text, char *err, size_t len)
{
    web_users u;
    write_file(text);
    int rc = web_users_load(path, &u, err, len);
    if (rc == 0) web_users_free(&u);
    return rc;
}

static void
test_refusals(void **state)
{
    char err[300];
    (void)state;
    assert_int_equal(load_err("alice:boss:$y$x\n", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "line 1: bad role"));
    assert_int_equal(load_err("# c\n\nbad name:viewer:$y$x\n", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "line 3: bad user name"));
    assert_int_equal(load_err("alice:viewer\n", err, sizeof(err)), -1);
    assert_int_equal(load_err("alice:viewer:plaintext\n", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a crypt(3) hash"));
    assert_int_equal(load_err("a:viewer:$y$x\na:manager:$y$x\n", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "listed twice"));
    unlink(path);
    web_users u;
    assert_int_equal(web_users_load(path, &u, err, sizeof(err)), -1); /* missing */
    assert_int_equal(load_err("# only a comment\n", err, sizeof(err)), 0);
}

static void
test_password_token(void **state)
{
    web_user a, b;
    web_users u;
    char err[300];
    (void)state;
    unlink(path);
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    strcpy(a.name, "alice");
    a.role = WEB_ROLE_MANAGER;
    assert_int_equal(web_auth_hash("pw-alice-1", a.hash, sizeof(a.hash), err, sizeof(err)), 0);
    assert_int_equal(strncmp(a.hash, "$y$", 3), 0);
    assert_int_equal(web_auth_hash("tok0123", a.token_hash, sizeof(a.token_hash), err, sizeof(err)), 0);
    strcpy(b.name, "bob");
    b.role = WEB_ROLE_VIEWER;
    assert_int_equal(web_auth_hash("pw-bob-1", b.hash, sizeof(b.hash), err, sizeof(err)), 0);
    assert_int_equal(web_users_write(path, &a, err, sizeof(err)), 0);
    assert_int_equal(web_users_write(path, &b, err, sizeof(err)), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(web_users_load(path, &u, err, sizeof(err)), 0);
    assert_int_equal(u.n, 2);
    assert_string_equal(web_auth_password(&u, "alice", "pw-alice-1")->name, "alice");
    assert_int_equal(web_auth_password(&u, "bob", "pw-bob-1")->role, WEB_ROLE_VIEWER);
    assert_null(web_auth_password(&u, "alice", "pw-bob-1"));
    assert_null(web_auth_password(&u, "carol", "pw-alice-1"));
    assert_null(web_auth_password(&u, "alice", ""));
    assert_null(web_auth_password(&u, "alice", NULL));
    assert_string_equal(web_auth_token(&u, "alice.tok0123")->name, "alice");
    assert_null(web_auth_token(&u, "alice.tok0124"));
    assert_null(web_auth_token(&u, "bob.tok0123")); /* bob has no token */
    assert_null(web_auth_token(&u, "tok0123"));
    assert_null(web_auth_token(&u, ".tok0123"));
    web_users_free(&u);
    /* rewriting alice keeps bob and replaces her line */
    a.role = WEB_ROLE_VIEWER;
    assert_int_equal(web_users_write(path, &a, err, sizeof(err)), 0);
    assert_int_equal(web_users_load(path, &u, err, sizeof(err)), 0);
    assert_int_equal(u.n, 2);
    assert_int_equal(web_users_find(&u, "alice")->role, WEB_ROLE_VIEWER);
    assert_non_null(web_users_find(&u, "bob"));
    web_users_free(&u);
}

int
main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/test_web_auth.XXXXXX");
    if (!mkdtemp(dir)) return 1;
    snprintf(path, sizeof(path), "%s/users", dir);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_refusals), cmocka_unit_test(test_password_token)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(path);
    rmdir(dir);
    return rc;
}
