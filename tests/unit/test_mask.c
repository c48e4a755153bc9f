/* test_mask.c - secret masking: key rules, trees, strings, JSON text; one test per row of docs/MASKING.md. */
#include "fmacros.h"
#include "mask.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---------------------------------------------------------------- Keys */

static void
test_must_mask_table(void **state)
{
    (void)state;
    const char *keys[] = {"password", "Password", "api_key", "apiKey", "X-Api-Key", "apikey", "accessToken",
                          "access_token", "tokens", "client_secret", "Authorization", "Cookie", "privateKey", "auth"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!mask_key_is_secret(keys[i])) fail_msg("%s must be masked", keys[i]);
}

static void
test_must_not_mask_table(void **state)
{
    (void)state;
    const char *keys[] = {"author", "authority", "monkey", "keyboard", "tokenizer", "passenger", "idempotency_key",
                          "debounce_key"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (mask_key_is_secret(keys[i])) fail_msg("%s must not be masked", keys[i]);
}

static void
test_more_secret_keys(void **state)
{
    (void)state;
    const char *keys[] = {"PASSWORD", "user_password", "passwords", "db_passwd", "pwd", "passphrase", "secret",
                          "clientSecret", "client-secret", "ClientSecret", "session_id", "sessionId", "SESSIONID",
                          "refresh_token", "id_token", "authToken", "auth_token", "secretKey", "secret_key",
                          "set-cookie", "Set-Cookie", "cookies", "credential", "credentials", "signature",
                          "hmacSignature", "X_API_KEY", "XAPIKey", "OAuthToken", "ApiKEY", "password2", "token_1",
                          "keys", "private.key", "headers[Authorization]", "x-auth", "Proxy-Authorization",
                          "authorization_header", "AWS_SECRET_ACCESS_KEY"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!mask_key_is_secret(keys[i])) fail_msg("%s must be masked", keys[i]);
}

static void
test_more_plain_keys(void **state)
{
    (void)state;
    const char *keys[] = {"", "id", "name", "authored_by", "authorId", "donkey", "whiskey", "hockey", "turkey",
                          "keynote", "secretary", "passage", "passive", "signal", "tokenize", "Idempotency-Key",
                          "idempotencyKey", "expected_hash", "expectedHash", "debounceKey", "private",
                          "access", "client", "api", "content", "monkey_id", "keyboard_layout", "passwordless_x"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (mask_key_is_secret(keys[i])) fail_msg("%s must not be masked", keys[i]);
    assert_int_equal(mask_key_is_secret(NULL), 0);
}

static void
test_long_key(void **state)
{
    (void)state;
    char key[600];
    memset(key, 'a', sizeof(key));
    memcpy(key + 500, "_token", 7);
    assert_int_equal(mask_key_is_secret(key), 1);
    key[500] = '\0';
    assert_int_equal(mask_key_is_secret(key), 0);
}

static void
test_extra_words(void **state)
{
    (void)state;
    assert_int_equal(mask_key_is_secret("user_ssn"), 0);
    mask_set_extra("ssn, Tax-ID,,iban");
    assert_int_equal(mask_key_is_secret("user_ssn"), 1);
    assert_int_equal(mask_key_is_secret("SSN"), 1);
    assert_int_equal(mask_key_is_secret("ssns"), 1);
    assert_int_equal(mask_key_is_secret("tax_id"), 1);
    assert_int_equal(mask_key_is_secret("taxId"), 1);
    assert_int_equal(mask_key_is_secret("ibanNumber"), 1);
    assert_int_equal(mask_key_is_secret("lesson"), 0);
    assert_int_equal(mask_key_is_secret("tax"), 0);
    mask_set_extra("other");
    assert_int_equal(mask_key_is_secret("user_ssn"), 0);
    assert_int_equal(mask_key_is_secret("other"), 1);
    mask_set_extra(NULL);
    assert_int_equal(mask_key_is_secret("other"), 0);
    assert_int_equal(mask_key_is_secret("password"), 1);
    mask_set_extra("");
    assert_int_equal(mask_key_is_secret("x"), 0);
    mask_set_extra(NULL);
}

/* ---------------------------------------------------------------- Strings */

static void
expect_scrub(const char *in, const char *want)
{
    char *got = mask_string(in);
    if (!want) {
        if (got) fail_msg("\"%s\" should be unchanged, got \"%s\"", in ? in : "(null)", got);
        return;
    }
    if (!got) fail_msg("\"%s\" should become \"%s\", was unchanged", in, want);
    if (strcmp(got, want) != 0) fail_msg("\"%s\" became \"%s\", want \"%s\"", in, got, want);
    free(got);
}

static void
test_string_userinfo(void **state)
{
    (void)state;
    expect_scrub("https://user:pw@host/x", "https://user:********@host/x");
    expect_scrub("postgres://app:s3cr%40t@db:5432/syncq", "postgres://app:********@db:5432/syncq");
    expect_scrub("redis://:hunter2@127.0.0.1:6379/0", "redis://:********@127.0.0.1:6379/0");
    expect_scrub("https://ghp_TOKEN@github.com/org/repo", "https://********@github.com/org/repo");
    expect_scrub("a https://u:p@a.io and ftp://x:y@b.io end", "a https://u:********@a.io and ftp://x:********@b.io end");
    expect_scrub("https://u:p@ss@host/", "https://u:********@host/");
    expect_scrub("https://host/path?email=a@b.com", NULL);
    expect_scrub("https://user@", "https://********@");
    expect_scrub("https://user:@host", NULL); /* empty password: nothing to hide */
    expect_scrub("https://example.com/", NULL);
    expect_scrub("mailto:someone@example.com", NULL);
    expect_scrub("https://u:********@host", NULL); /* already masked */
}

static void
test_string_params(void **state)
{
    (void)state;
    expect_scrub("access_token=abc&x=1", "access_token=********&x=1");
    expect_scrub("https://h/cb?code=1&access_token=abc#frag", "https://h/cb?code=1&access_token=********#frag");
    expect_scrub("https://h/?api_key=k1&apiKey=k2&page=2", "https://h/?api_key=********&apiKey=********&page=2");
    expect_scrub("grant_type=password&password=hunter2&client_secret=zz",
                 "grant_type=password&password=********&client_secret=********");
    expect_scrub("login failed password=hunter2 for bob", "login failed password=******** for bob");
    expect_scrub("token=abc==", "token=********");
    expect_scrub("x=1&y=2", NULL);
    expect_scrub("idempotency_key=abc", NULL);
    expect_scrub("author=bob&monkey=1", NULL);
    expect_scrub("mytoken=abc", NULL); /* one word, not "token" */
    expect_scrub("password=", NULL);
    expect_scrub("a+b=c", NULL);
}

static void
test_string_auth(void **state)
{
    (void)state;
    expect_scrub("Bearer xyz", "Bearer ********");
    expect_scrub("bearer xyz", "bearer ********");
    expect_scrub("BEARER   eyJhbGciOi.eyJzdWIi.sig", "BEARER   ********");
    expect_scrub("Basic xyz", "Basic ********");
    expect_scrub("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic ********");
    expect_scrub("-H 'Authorization: Bearer abc' -H 'X: y'", "-H 'Authorization: Bearer ********' -H 'X: y'");
    expect_scrub("-H 'Authorization: Bearer abc def' -H 'X: y'", "-H 'Authorization: Bearer ********' -H 'X: y'");
    expect_scrub("{\"h\":\"Bearer abc\"}", "{\"h\":\"Bearer ********\"}");
    expect_scrub("upgrade to the basic plan", NULL);
    expect_scrub("Bearer", NULL);
    expect_scrub("Bearer ", NULL);
    expect_scrub("forbearer x", NULL);
    expect_scrub("Bearer ********", NULL);
    expect_scrub(NULL, NULL);
    expect_scrub("", NULL);
}

static void
test_string_pairs(void **state)
{
    (void)state;
    expect_scrub("upstream said {\"error\":\"bad\",\"access_token\":\"abc\"}",
                 "upstream said {\"error\":\"bad\",\"access_token\":\"********\"}");
    expect_scrub("{\"password\" : \"a\\\"b\", \"x\": 1}", "{\"password\" : \"********\", \"x\": 1}");
    expect_scrub("{\"Authorization\":\"Bearer abc\"}", "{\"Authorization\":\"********\"}");
    expect_scrub("{\"token\":\"\"}", NULL);       /* empty: nothing to hide */
    expect_scrub("{\"token\":42}", "{\"token\":********}"); /* a bare value is a value too */
    expect_scrub("{\"author\":\"ann\"}", NULL);
    expect_scrub("\"key\": \"cut off", "\"key\": \"********"); /* a cut secret is still a secret */
    expect_scrub("say \"", NULL);
}

/* ---------------------------------------------------------------- Trees */

static char *
masked(const char *text)
{
    char *out = mask_json_text(text, strlen(text));
    assert_non_null(out);
    return out;
}

static void
expect_json(const char *in, const char *want)
{
    char *got = masked(in);
    if (strcmp(got, want) != 0) fail_msg("%s\n  became %s\n  want   %s", in, got, want);
    free(got);
}

static void
test_tree_flat(void **state)
{
    (void)state;
    expect_json("{\"user\":\"bob\",\"password\":\"hunter2\",\"n\":1}",
                "{\"user\":\"bob\",\"password\":\"********\",\"n\":1}");
    expect_json("{\"apiKey\":12345,\"auth\":true,\"token\":null}",
                "{\"apiKey\":\"********\",\"auth\":\"********\",\"token\":\"********\"}");
    expect_json("{\"idempotency_key\":\"k1\",\"debounce_key\":\"k2\",\"expected_hash\":\"h\"}",
                "{\"idempotency_key\":\"k1\",\"debounce_key\":\"k2\",\"expected_hash\":\"h\"}");
    expect_json("{\"author\":\"ann\",\"keyboard\":\"qwerty\",\"monkey\":\"george\"}",
                "{\"author\":\"ann\",\"keyboard\":\"qwerty\",\"monkey\":\"george\"}");
}

static void
test_tree_nested(void **state)
{
    (void)state;
    expect_json("{\"a\":{\"b\":[{\"Cookie\":\"c=1\"},{\"x\":\"y\"}],\"c\":{\"d\":{\"client_secret\":\"s\"}}}}",
                "{\"a\":{\"b\":[{\"Cookie\":\"********\"},{\"x\":\"y\"}],\"c\":{\"d\":{\"client_secret\":\"********\"}}}}");
    /* A secret key over a container masks every leaf and keeps the shape. */
    expect_json("{\"credentials\":{\"user\":\"u\",\"pass\":[1,\"two\",{\"k\":false}],\"e\":{},\"l\":[]}}",
                "{\"credentials\":{\"user\":\"********\",\"pass\":[\"********\",\"********\",{\"k\":\"********\"}],"
                "\"e\":{},\"l\":[]}}");
    expect_json("{\"tokens\":[\"t1\",\"t2\"]}", "{\"tokens\":[\"********\",\"********\"]}");
    expect_json("[{\"password\":\"p\"},[{\"X-Api-Key\":\"k\"}]]",
                "[{\"password\":\"********\"},[{\"X-Api-Key\":\"********\"}]]");
}

static void
test_tree_scrubs_values(void **state)
{
    (void)state;
    expect_json("{\"url\":\"https://u:pw@h/\",\"list\":[\"Bearer abc\",\"plain\"],\"q\":\"access_token=t&x=1\"}",
                "{\"url\":\"https://u:********@h/\",\"list\":[\"Bearer ********\",\"plain\"],"
                "\"q\":\"access_token=********&x=1\"}");
    expect_json("\"Bearer abc\"", "\"Bearer ********\"");
    expect_json("[\"x\",1]", "[\"x\",1]");
}

static void
test_tree_counts_and_idempotent(void **state)
{
    (void)state;
    const char *text = "{\"password\":\"p\",\"nested\":{\"token\":[1,2]},\"u\":\"https://a:b@c\",\"n\":\"x\"}";
    char err[64];
    json *root = json_parse(text, strlen(text), err, sizeof(err));
    assert_non_null(root);
    assert_int_equal(mask_tree(root), 4);
    assert_int_equal(mask_tree(root), 0); /* masking masked data changes nothing */
    assert_string_equal(json_str(json_get(root, "password")), MASK_VALUE);
    assert_string_equal(json_str(json_get(root, "n")), "x");
    json_free(root);
    assert_int_equal(mask_tree(NULL), 0);
}

static void
test_extra_in_tree(void **state)
{
    (void)state;
    mask_set_extra("ssn");
    expect_json("{\"person\":{\"ssn\":\"123-45-6789\",\"name\":\"n\"}}",
                "{\"person\":{\"ssn\":\"********\",\"name\":\"n\"}}");
    expect_scrub("https://h/?ssn=1", "https://h/?ssn=********");
    mask_set_extra(NULL);
}

static void
test_json_text_invalid(void **state)
{
    (void)state;
    assert_null(mask_json_text("{\"password\":", 12));
    assert_null(mask_json_text("", 0));
    assert_null(mask_json_text("{} x", 4));
}

/* ---------------------------------------------------------------- docs/MASKING.md rows */

static void
expect_keys(const char *const *keys, size_t n, int want)
{
    for (size_t i = 0; i < n; i++)
        if (mask_key_is_secret(keys[i]) != want) fail_msg("\"%s\" must %sbe masked", keys[i], want ? "" : "not ");
}
#define EXPECT_KEYS(want, ...)                                                                                       \
    do {                                                                                                             \
        const char *const ks_[] = {__VA_ARGS__};                                                                     \
        expect_keys(ks_, sizeof(ks_) / sizeof(ks_[0]), want);                                                        \
    } while (0)

/* K1: a word anywhere, alone or plural */
static void
test_row_k1_words(void **state)
{
    (void)state;
    EXPECT_KEYS(1, "pass", "pw", "bearer", "jwt", "passcode", "otp", "cookie", "user_pass", "jwts", "otp_code",
                "BearerValue", "session_cookie", "refresh_jwt", "pws");
}

/* K2: head words count only as the last word */
static void
test_row_k2_head_words(void **state)
{
    (void)state;
    EXPECT_KEYS(1, "session", "user_session", "sessions", "x-auth", "auth2", "private_key", "key");
    EXPECT_KEYS(0, "auth_method", "authMethod", "auth_type", "key_id", "session_timeout", "sessionTimeout");
}

/* K3: splitting: camelCase, PascalCase, blanks, separators, acronyms */
static void
test_row_k3_splitting(void **state)
{
    (void)state;
    EXPECT_KEYS(1, "passWord", "PassPhrase", "pass word", "PASS_WORD", "my.pass", "DBPassword", "x-pw");
}

/* K4: compounds written as one word, at the end of the key */
static void
test_row_k4_compounds(void **state)
{
    (void)state;
    char longkey[400];
    memset(longkey, 'a', sizeof(longkey));
    memcpy(longkey + sizeof(longkey) - 8, "_apikey", 8);
    EXPECT_KEYS(1, "x-apikey", "stripeApikey", "apikeys", "user_accesstoken", "ssh_privatekey", "oauth_clientsecret",
                "githubaccesstokens", "mysessionid", "userpassword", "longKeyEnding_APIKEY", longkey);
    EXPECT_KEYS(0, "mytoken", "passwordless_x", "apikeyring");
}

/* K5: lookalike letters fold to ASCII; invisible characters are dropped */
static void
test_row_k5_confusables(void **state)
{
    (void)state;
    EXPECT_KEYS(1, "p\xd0\xb0ssword",                                           /* Cyrillic а */
                "\xef\xbd\x90\xef\xbd\x81\xef\xbd\x93\xef\xbd\x93\xef\xbd\x97\xef\xbd\x8f\xef\xbd\x92\xef\xbd\x84", /* ｐａｓｓｗｏｒｄ */
                "\xef\xbc\xb4\xef\xbd\x8f\xef\xbd\x8b\xef\xbd\x85\xef\xbd\x8e",   /* Ｔｏｋｅｎ */
                "pass\xe2\x80\x8bword",                                          /* zero-width space */
                "t\xce\xbfken",                                                  /* Greek ο */
                "\xf0\x9d\x90\xa9\xf0\x9d\x90\x9a\xf0\x9d\x90\xac\xf0\x9d\x90\xac", /* 𝐩𝐚𝐬𝐬 (mathematical bold) */
                "api_k\xd0\x95y", "secr\xd0\xb5t");
    EXPECT_KEYS(0, "\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c", /* пароль: no ASCII word */
                "auth\xe2\x80\x8b_method", "caf\xc3\xa9", "\xff\xfe");
}

/* K6: control fields and plain words stay readable */
static void
test_row_k6_readable(void **state)
{
    (void)state;
    EXPECT_KEYS(0, "author", "auth_method", "idempotency_key", "debounce_key", "expected_hash", "authority",
                "passenger", "keyboard", "tokenizer", "compass", "bypass_cache", "monkey");
}

/* T1: known secret values, wherever they appear */
static void
test_row_t1_known_values(void **state)
{
    (void)state;
    mask_secret_add("acct-77-SECRET");
    mask_secret_add("abc"); /* too short: ignored */
    mask_secret_add("acct-77-SECRET-longer");
    expect_scrub("echo: X-Account=acct-77-SECRET.", "echo: X-Account=********.");
    expect_scrub("acct-77-SECRET-longer!", "********!");
    expect_scrub("abc acct-77-SECRE", NULL);
    expect_json("{\"x\":\"is acct-77-SECRET\"}", "{\"x\":\"is ********\"}");
    /* a forgotten value (an OAuth2 token long replaced) is not masked any more; the others still are */
    mask_secret_forget("acct-77-SECRET-longer");
    mask_secret_forget("never-registered");
    expect_scrub("acct-77-SECRET-longer!", "********-longer!");
    mask_secret_clear();
    expect_scrub("acct-77-SECRET", NULL);
}

/* T2: URL userinfo, also protocol-relative and bare user:PW@host */
static void
test_row_t2_userinfo(void **state)
{
    (void)state;
    expect_scrub("see //user:C0@host/x", "see //user:********@host/x");
    expect_scrub("git:C0@host:repo", "git:********@host:repo");
    expect_scrub("clone git:C0@github.com:org/repo.git failed", "clone git:********@github.com:org/repo.git failed");
    expect_scrub("dsn=app:C0@db:5432", "dsn=app:********@db:5432");
    expect_scrub("mail bob@example.com", NULL);
    expect_scrub("sip:alice@example.com", NULL);
}

/* T3: name=value with a secret (percent-decoded) name */
static void
test_row_t3_params(void **state)
{
    (void)state;
    expect_scrub("https://h/x?%74oken=C0&a=1", "https://h/x?%74oken=********&a=1");
    expect_scrub("?api%5Fkey=C0", "?api%5Fkey=********");
    expect_scrub("pass=C0 user=u", "pass=******** user=u");
    expect_scrub("auth_method=basic", NULL);
}

/* T4: quoted pairs: JSON, Python repr, escaped names, bare values */
static void
test_row_t4_pairs(void **state)
{
    (void)state;
    expect_scrub("{'password': 'C0'}", "{'password': '********'}");
    expect_scrub("{\"pass\\u0077ord\":\"C0\"}", "{\"pass\\u0077ord\":\"********\"}");
    expect_scrub("{\"pin\":1,\"otp\":123456}", "{\"pin\":1,\"otp\":********}");
    expect_scrub("{\"p\\u0430ssword\":\"C0\"}", "{\"p\\u0430ssword\":\"********\"}");
    expect_scrub("{\"auth_method\":\"basic\"}", NULL);
}

/* T5: "Name: value" header lines and YAML */
static void
test_row_t5_lines(void **state)
{
    (void)state;
    expect_scrub("password: C0", "password: ********");
    expect_scrub("db:\n  host: h\n  password: C0\n  user: u\n", "db:\n  host: h\n  password: ********\n  user: u\n");
    expect_scrub("Authorization: token C0", "Authorization: token ********");
    expect_scrub("Authorization: token", "Authorization: ********"); /* a lone word is the value */
    expect_scrub("X-Api-Key: C0\r\nAccept: */*", "X-Api-Key: ********\r\nAccept: */*");
    expect_scrub("Cookie: sid=C0; theme=dark", "Cookie: ********");
    expect_scrub("Bearer:C0", "Bearer:********");
    expect_scrub("- pw: C0", "- pw: ********");
    expect_scrub("auth_method: basic\nauthor: ann", NULL);
    expect_scrub("token://x", NULL);
}

/* T6: Bearer / Basic schemes */
static void
test_row_t6_schemes(void **state)
{
    (void)state;
    expect_scrub("got Bearer C0 back", "got Bearer ******** back");
    expect_scrub("Proxy: Basic C0", "Proxy: Basic ********");
}

/* Remote error bodies: masked whole, then cut (issue 9 item 9) */
static void
test_excerpt_mask_then_cut(void **state)
{
    (void)state;
    char body[400];
    memset(body, 'x', 280);
    strcpy(body + 280, " https://u:CUTSECRET99@h/"); /* the password spans bytes 291-301 */
    char *e = mask_excerpt(body, strlen(body), 300);
    assert_int_equal(strlen(e), 300);
    if (strstr(e, "CUTS")) fail_msg("a password across the cut survived: %s", e + 280);
    assert_non_null(strstr(e, "u:****"));
    free(e);
    e = mask_excerpt("{\"password\":\"p\",\"n\":1}", 23, 300);
    assert_string_equal(e, "{\"password\":\"********\",\"n\":1}");
    free(e);
    e = mask_excerpt(NULL, 0, 300);
    assert_string_equal(e, "");
    free(e);
    e = mask_excerpt("ab\0password=C0", 14, 300); /* a NUL ends the text */
    assert_string_equal(e, "ab");
    free(e);
    e = mask_excerpt("\xc3\xa9\xc3\xa9", 4, 3); /* never half a character */
    assert_string_equal(e, "\xc3\xa9");
    free(e);
}

static void
test_excerpt_big_json_is_text(void **state)
{
    (void)state;
    size_t n = MASK_JSON_MAX + 100;
    char *body = malloc(n + 1);
    assert_non_null(body);
    strcpy(body, "{\"token\":\"BIGSECRET1\",\"pad\":\"");
    size_t used = strlen(body);
    memset(body + used, 'y', n - used - 2);
    strcpy(body + n - 2, "\"}");
    char *e = mask_excerpt(body, n, 300);
    assert_null(strstr(e, "BIGSECRET1"));
    assert_non_null(strstr(e, "\"token\":\"********\""));
    free(e);
    free(body);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_must_mask_table),
        cmocka_unit_test(test_must_not_mask_table),
        cmocka_unit_test(test_more_secret_keys),
        cmocka_unit_test(test_more_plain_keys),
        cmocka_unit_test(test_long_key),
        cmocka_unit_test(test_extra_words),
        cmocka_unit_test(test_string_userinfo),
        cmocka_unit_test(test_string_params),
        cmocka_unit_test(test_string_auth),
        cmocka_unit_test(test_string_pairs),
        cmocka_unit_test(test_tree_flat),
        cmocka_unit_test(test_tree_nested),
        cmocka_unit_test(test_tree_scrubs_values),
        cmocka_unit_test(test_tree_counts_and_idempotent),
        cmocka_unit_test(test_extra_in_tree),
        cmocka_unit_test(test_json_text_invalid),
        cmocka_unit_test(test_row_k1_words),
        cmocka_unit_test(test_row_k2_head_words),
        cmocka_unit_test(test_row_k3_splitting),
        cmocka_unit_test(test_row_k4_compounds),
        cmocka_unit_test(test_row_k5_confusables),
        cmocka_unit_test(test_row_k6_readable),
        cmocka_unit_test(test_row_t1_known_values),
        cmocka_unit_test(test_row_t2_userinfo),
        cmocka_unit_test(test_row_t3_params),
        cmocka_unit_test(test_row_t4_pairs),
        cmocka_unit_test(test_row_t5_lines),
        cmocka_unit_test(test_row_t6_schemes),
        cmocka_unit_test(test_excerpt_mask_then_cut),
        cmocka_unit_test(test_excerpt_big_json_is_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
