/* crypto.h - the only file that includes OpenSSL's libcrypto (libcurl links
 * it already, so it costs no new dependency): HMAC, base64, random bytes and
 * AES-256-GCM sealing of short secrets kept in Redis. Pure code apart from
 * crypto_random's read of the system's generator. Return convention: 0, or
 * -1 on a failure (a bad input, too small an output, a library error). */
#ifndef SYNCQ_CRYPTO_H
#define SYNCQ_CRYPTO_H

#include <stddef.h> /* for size_t */

typedef enum { CRYPTO_SHA1 = 0, CRYPTO_SHA256, CRYPTO_SHA512 } crypto_md;

#define CRYPTO_MAC_MAX 64 /* bytes of the longest MAC (SHA-512) */
#define CRYPTO_KEY_LEN 32 /* bytes of a sealing key (AES-256) */

/* crypto_hmac writes HMAC-md(key, msg) into out (CRYPTO_MAC_MAX bytes) and
 * its length into *outlen (RFC 2104). */
int crypto_hmac(crypto_md md, const void *key, size_t keylen, const void *msg, size_t len, unsigned char *out,
                size_t *outlen);
/* crypto_digest writes the md hash of msg into out (CRYPTO_MAC_MAX bytes)
 * and its length into *outlen. */
int crypto_digest(crypto_md md, const void *msg, size_t len, unsigned char *out, size_t *outlen);
/* crypto_hex writes 2n lowercase hex digits and a NUL (out: 2n + 1 bytes). */
void crypto_hex(const unsigned char *in, size_t n, char *out);
/* crypto_base64 writes the padded standard base64 (RFC 4648 section 4) of
 * in[0..n) and a NUL; -1 when outlen is too small. */
int crypto_base64(const unsigned char *in, size_t n, char *out, size_t outlen);
/* crypto_random fills buf with n bytes from the system's CSPRNG. */
int crypto_random(void *buf, size_t n);
/* crypto_seal encrypts and authenticates plain with key (AES-256-GCM, a
 * random 96-bit nonce): a malloc'd base64 text of nonce, ciphertext and tag,
 * or NULL on a library error. */
char *crypto_seal(const unsigned char key[CRYPTO_KEY_LEN], const char *plain);
/* crypto_open reverses crypto_seal: the malloc'd plaintext, or NULL when
 * sealed is not base64, was cut or changed, or was sealed with another key. */
char *crypto_open(const unsigned char key[CRYPTO_KEY_LEN], const char *sealed);

#endif
