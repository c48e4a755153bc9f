/* utf8.h - UTF-8 validation (pure). */
#ifndef SYNCQ_UTF8_H
#define SYNCQ_UTF8_H

#include <stddef.h> /* for size_t */

/* utf8_seq_len returns the length (1-4) of the valid UTF-8 sequence at p, or 0
 * when it is invalid (overlong, surrogate, above U+10FFFF, truncated). */
size_t utf8_seq_len(const unsigned char *p, size_t avail);
/* utf8_valid returns 1 when s[0..n) is entirely valid UTF-8. */
int utf8_valid(const char *s, size_t n);
/* utf8_decode returns the code point of the len-byte sequence at p, which
 * utf8_seq_len has already checked (len 2..4). */
unsigned utf8_decode(const unsigned char *p, size_t len);

#endif
