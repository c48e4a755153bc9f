/* sbuf.h - growable byte buffer with JSON-text helpers. */
#ifndef SYNCQ_SBUF_H
#define SYNCQ_SBUF_H

#include <stddef.h> /* for size_t */
#include <stdint.h> /* for int64_t */

typedef struct sbuf {
    char *buf;  /* owned; always NUL-terminated after the first append */
    size_t len;
    size_t cap;
} sbuf;

void sbuf_init(sbuf *b);
void sbuf_free(sbuf *b);
void sbuf_reset(sbuf *b);
/* sbuf_steal returns the buffer (caller frees) and leaves b empty. */
char *sbuf_steal(sbuf *b, size_t *len);
void sbuf_add(sbuf *b, const void *p, size_t n);
void sbuf_adds(sbuf *b, const char *s);
void sbuf_addc(sbuf *b, char c);
void sbuf_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* sbuf_json_str appends s[0..n) as a quoted JSON string. Invalid UTF-8 bytes
 * become U+FFFD and NUL becomes \u0000 is never emitted (cut), so the output is
 * always acceptable to PostgreSQL jsonb. */
void sbuf_json_str(sbuf *b, const char *s, size_t n);
void sbuf_json_strz(sbuf *b, const char *s); /* NULL appends null */
/* sbuf_json_key appends ,"key": (the comma only when the object already has a member). */
void sbuf_json_key(sbuf *b, const char *key);

#endif
