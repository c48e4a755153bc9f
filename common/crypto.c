/* crypto.c - HMAC, base64, random bytes and AES-256-GCM over libcrypto.
 *
 * Why libcrypto and not a SHA-256 of our own: libcurl (OpenSSL flavour)
 * already loads it into every worker, it is constant-time and reviewed, and
 * it gives SHA-1, SHA-512 and AES-GCM for the same price. A hand-written
 * hash would be one more thing to get wrong for no gain. */
#include "fmacros.h"
#include "crypto.h"
#include "xalloc.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

#define GCM_NONCE 12
#define GCM_TAG 16

static const EVP_MD *
md_of(crypto_md md)
{
    switch (md) {
    case CRYPTO_SHA1: return EVP_sha1();
    case CRYPTO_SHA512: return EVP_sha512();
    default: return EVP_sha256();
    }
}

int
crypto_hmac(crypto_md md, const void *key, size_t keylen, const void *msg, size_t len, unsigned char *out,
            size_t *outlen)
{
    unsigned int n = 0;
    static const unsigned char empty = 0; /* HMAC() wants a non-NULL key even when it is empty */
    if (!HMAC(md_of(md), keylen ? key : &empty, (int)keylen, msg, len, out, &n)) return -1;
    *outlen = n;
    return 0;
}

int
crypto_digest(crypto_md md, const void *msg, size_t len, unsigned char *out, size_t *outlen)
{
    unsigned int n = 0;
    if (EVP_Digest(msg, len, out, &n, md_of(md), NULL) != 1) return -1;
    *outlen = n;
    return 0;
}

void
crypto_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int
crypto_base64(const unsigned char *in, size_t n, char *out, size_t outlen)
{
    if (n > (size_t)1 << 30 || outlen < 4 * ((n + 2) / 3) + 1) return -1;
    EVP_EncodeBlock((unsigned char *)out, in, (int)n); /* writes the NUL too */
    return 0;
}

/* unbase64 decodes padded base64 into a malloc'd buffer; -1 when it is not. */
static long
unbase64(const char *in, unsigned char **out)
{
    size_t n = strlen(in);
    if (n == 0 || n % 4 || n > (size_t)1 << 30) return -1;
    *out = xmalloc(n / 4 * 3 + 1);
    int got = EVP_DecodeBlock(*out, (const unsigned char *)in, (int)n);
    if (got < 0) {
        free(*out);
        return -1;
    }
    /* EVP_DecodeBlock counts the padding as zero bytes */
    got -= (in[n - 1] == '=') + (in[n - 2] == '=');
    return got;
}

int
crypto_random(void *buf, size_t n)
{
    return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

char *
crypto_seal(const unsigned char key[CRYPTO_KEY_LEN], const char *plain)
{
    size_t n = strlen(plain);
    unsigned char *raw = xmalloc(GCM_NONCE + n + GCM_TAG);
    char *out = NULL;
    int len = 0, fin = 0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c || crypto_random(raw, GCM_NONCE) < 0 ||
        EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, raw) != 1 ||
        EVP_EncryptUpdate(c, raw + GCM_NONCE, &len, (const unsigned char *)plain, (int)n) != 1 ||
        EVP_EncryptFinal_ex(c, raw + GCM_NONCE + len, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GCM_TAG, raw + GCM_NONCE + n) != 1)
        goto out;
    size_t olen = 4 * ((GCM_NONCE + n + GCM_TAG + 2) / 3) + 1;
    out = xmalloc(olen);
    if (crypto_base64(raw, GCM_NONCE + n + GCM_TAG, out, olen) < 0) {
        free(out);
        out = NULL;
    }
out:
    EVP_CIPHER_CTX_free(c);
    OPENSSL_cleanse(raw, GCM_NONCE + n + GCM_TAG);
    free(raw);
    return out;
}

char *
crypto_open(const unsigned char key[CRYPTO_KEY_LEN], const char *sealed)
{
    unsigned char *raw = NULL;
    long got = unbase64(sealed, &raw);
    char *plain = NULL;
    int len = 0, fin = 0;
    if (got < GCM_NONCE + GCM_TAG) {
        free(raw);
        return NULL;
    }
    size_t n = (size_t)got - GCM_NONCE - GCM_TAG;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    plain = xmalloc(n + 1);
    if (!c || EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, raw) != 1 ||
        EVP_DecryptUpdate(c, (unsigned char *)plain, &len, raw + GCM_NONCE, (int)n) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, GCM_TAG, raw + GCM_NONCE + n) != 1 ||
        EVP_DecryptFinal_ex(c, (unsigned char *)plain + len, &fin) != 1) { /* the tag did not match */
        OPENSSL_cleanse(plain, n + 1);
        free(plain);
        plain = NULL;
    } else {
        plain[n] = '\0';
        if (strlen(plain) != n) { /* a NUL inside: not a token of ours */
            OPENSSL_cleanse(plain, n);
            free(plain);
            plain = NULL;
        }
    }
    EVP_CIPHER_CTX_free(c);
    free(raw);
    return plain;
}
