/* test_crypto.c - HMAC against the RFC 4231 vectors (SHA-256, SHA-512) and
 * RFC 2202 (SHA-1), base64, and the sealing of tokens kept in Redis. */
#include "fmacros.h"
#include "crypto.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

typedef struct vector {
    const char *name;
    unsigned char key[131];
    size_t keylen;
    const char *data;        /* NULL: data_byte repeated data_len times */
    unsigned char data_byte;
    size_t data_len;
    const char *sha256, *sha512;
    size_t trunc;            /* compare only this many hex digits (test case 5), 0 all */
} vector;

static void
fill(unsigned char *k, unsigned char b, size_t n)
{
    memset(k, b, n);
}

static void
run_vector(vector *v)
{
    unsigned char data[64], mac[CRYPTO_MAC_MAX];
    char hex[2 * CRYPTO_MAC_MAX + 1];
    size_t n = 0;
    const void *msg = v->data;
    size_t len = v->data ? strlen(v->data) : v->data_len;
    if (!v->data) {
        memset(data, v->data_byte, v->data_len);
        msg = data;
    }
    assert_int_equal(crypto_hmac(CRYPTO_SHA256, v->key, v->keylen, msg, len, mac, &n), 0);
    assert_int_equal(n, 32);
    crypto_hex(mac, n, hex);
    if (v->trunc) hex[v->trunc] = '\0';
    assert_string_equal(hex, v->sha256);
    assert_int_equal(crypto_hmac(CRYPTO_SHA512, v->key, v->keylen, msg, len, mac, &n), 0);
    assert_int_equal(n, 64);
    crypto_hex(mac, n, hex);
    if (v->trunc) hex[v->trunc] = '\0';
    assert_string_equal(hex, v->sha512);
}

/* RFC 4231 section 4, test cases 1 to 7 */
static void
test_rfc4231(void **state)
{
    (void)state;
    vector v;
    memset(&v, 0, sizeof(v));
    /* 1 */
    fill(v.key, 0x0b, v.keylen = 20);
    v.data = "Hi There";
    v.sha256 = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
    v.sha512 = "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
               "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854";
    run_vector(&v);
    /* 2: a key shorter than the output */
    memcpy(v.key, "Jefe", v.keylen = 4);
    v.data = "what do ya want for nothing?";
    v.sha256 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    v.sha512 = "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
               "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737";
    run_vector(&v);
    /* 3: 50 bytes of 0xdd */
    fill(v.key, 0xaa, v.keylen = 20);
    v.data = NULL, v.data_byte = 0xdd, v.data_len = 50;
    v.sha256 = "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe";
    v.sha512 = "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
               "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb";
    run_vector(&v);
    /* 4: key 0x01..0x19 */
    for (int i = 0; i < 25; i++) v.key[i] = (unsigned char)(i + 1);
    v.keylen = 25;
    v.data_byte = 0xcd;
    v.sha256 = "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b";
    v.sha512 = "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
               "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd";
    run_vector(&v);
    /* 5: truncated to 128 bits */
    fill(v.key, 0x0c, v.keylen = 20);
    v.data = "Test With Truncation";
    v.trunc = 32;
    v.sha256 = "a3b6167473100ee06e0c796c2955552b";
    v.sha512 = "415fad6271580a531d4179bc891d87a6";
    run_vector(&v);
    v.trunc = 0;
    /* 6: a key longer than the block, hashed first */
    fill(v.key, 0xaa, v.keylen = 131);
    v.data = "Test Using Larger Than Block-Size Key - Hash Key First";
    v.sha256 = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";
    v.sha512 = "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
               "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598";
    run_vector(&v);
    /* 7: key and data longer than the block */
    v.data = "This is a test using a larger than block-size key and a larger than block-size data. The key needs to "
             "be hashed before being used by the HMAC algorithm.";
    v.sha256 = "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2";
    v.sha512 = "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
               "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58";
    run_vector(&v);
}

/* RFC 2202 section 3, test cases 1 and 2 */
static void
test_rfc2202_sha1(void **state)
{
    (void)state;
    unsigned char key[20], mac[CRYPTO_MAC_MAX];
    char hex[2 * CRYPTO_MAC_MAX + 1];
    size_t n = 0;
    memset(key, 0x0b, sizeof(key));
    assert_int_equal(crypto_hmac(CRYPTO_SHA1, key, 20, "Hi There", 8, mac, &n), 0);
    assert_int_equal(n, 20);
    crypto_hex(mac, n, hex);
    assert_string_equal(hex, "b617318655057264e28bc0b6fb378c8ef146be00");
    assert_int_equal(crypto_hmac(CRYPTO_SHA1, "Jefe", 4, "what do ya want for nothing?", 28, mac, &n), 0);
    crypto_hex(mac, n, hex);
    assert_string_equal(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

static void
test_base64(void **state)
{
    (void)state;
    char out[16];
    /* RFC 4648 section 10 */
    assert_int_equal(crypto_base64((const unsigned char *)"", 0, out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(crypto_base64((const unsigned char *)"f", 1, out, sizeof(out)), 0);
    assert_string_equal(out, "Zg==");
    assert_int_equal(crypto_base64((const unsigned char *)"fo", 2, out, sizeof(out)), 0);
    assert_string_equal(out, "Zm8=");
    assert_int_equal(crypto_base64((const unsigned char *)"foobar", 6, out, sizeof(out)), 0);
    assert_string_equal(out, "Zm9vYmFy");
    assert_int_equal(crypto_base64((const unsigned char *)"foobar", 6, out, 8), -1); /* no room for the NUL */
}

static void
test_seal_open(void **state)
{
    (void)state;
    unsigned char k[CRYPTO_KEY_LEN], other[CRYPTO_KEY_LEN];
    memset(k, 7, sizeof(k));
    memset(other, 8, sizeof(other));
    char *a = crypto_seal(k, "eyJ0b2tlbiI6dHJ1ZX0.token-value");
    char *b = crypto_seal(k, "eyJ0b2tlbiI6dHJ1ZX0.token-value");
    assert_non_null(a);
    assert_non_null(b);
    assert_string_not_equal(a, b); /* a fresh nonce each time */
    assert_null(strstr(a, "token-value"));
    char *p = crypto_open(k, a);
    assert_non_null(p);
    assert_string_equal(p, "eyJ0b2tlbiI6dHJ1ZX0.token-value");
    free(p);
    assert_null(crypto_open(other, a));     /* another client secret */
    char *bent = strdup(a);
    bent[20] = bent[20] == 'A' ? 'B' : 'A'; /* one changed byte */
    assert_null(crypto_open(k, bent));
    bent[20] = '\0';                        /* cut */
    assert_null(crypto_open(k, bent));
    assert_null(crypto_open(k, "not base64 at all"));
    assert_null(crypto_open(k, ""));
    free(bent);
    free(a);
    free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4231),
        cmocka_unit_test(test_rfc2202_sha1),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_seal_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
