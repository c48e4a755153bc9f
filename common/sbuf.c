/* sbuf.c - growable byte buffer and JSON string escaping. */
#include "fmacros.h"
#include "sbuf.h"
#include "utf8.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
sbuf_init(sbuf *b)
{
    b->buf = NULL;
    b->len = b->cap = 0;
}

void
sbuf_free(sbuf *b)
{
    free(b->buf);
    sbuf_init(b);
}

void
sbuf_reset(sbuf *b)
{
    b->len = 0;
    if (b->buf) b->buf[0] = '\0';
}

char *
sbuf_steal(sbuf *b, size_t *len)
{
    char *p = b->buf ? b->buf : xstrdup("");
    if (len) *len = b->len;
    sbuf_init(b);
    return p;
}

static void
grow(sbuf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    b->buf = xrealloc(b->buf, cap);
    b->cap = cap;
}

void
sbuf_add(sbuf *b, const void *p, size_t n)
{
    grow(b, n);
    if (n) memcpy(b->buf + b->len, p, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

void
sbuf_adds(sbuf *b, const char *s)
{
    sbuf_add(b, s, strlen(s));
}

void
sbuf_addc(sbuf *b, char c)
{
    sbuf_add(b, &c, 1);
}

void
sbuf_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0) return;
    grow(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void
add_escape(sbuf *b, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char esc[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
    switch (c) {
    case '"': sbuf_add(b, "\\\"", 2); break;
    case '\\': sbuf_add(b, "\\\\", 2); break;
    case '\n': sbuf_add(b, "\\n", 2); break;
    case '\r': sbuf_add(b, "\\r", 2); break;
    case '\t': sbuf_add(b, "\\t", 2); break;
    default: sbuf_add(b, esc, 6); break;
    }
}

void
sbuf_json_str(sbuf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;
    sbuf_addc(b, '"');
    while (i < n) {
        unsigned char c = p[i];
        if (c == 0) break; /* PostgreSQL cannot store NUL: cut there */
        if (c < 0x20 || c == '"' || c == '\\') {
            sbuf_add(b, p + run, i - run);
            add_escape(b, c);
            run = ++i;
            continue;
        }
        if (c < 0x80) { i++; continue; }
        size_t l = utf8_seq_len(p + i, n - i);
        if (l == 0) {
            sbuf_add(b, p + run, i - run);
            sbuf_add(b, "\xEF\xBF\xBD", 3); /* U+FFFD */
            run = ++i;
            continue;
        }
        i += l;
    }
    sbuf_add(b, p + run, i - run);
    sbuf_addc(b, '"');
}

void
sbuf_json_strz(sbuf *b, const char *s)
{
    if (!s) sbuf_add(b, "null", 4);
    else sbuf_json_str(b, s, strlen(s));
}

void
sbuf_json_key(sbuf *b, const char *key)
{
    if (b->len && b->buf[b->len - 1] != '{') sbuf_addc(b, ',');
    sbuf_json_strz(b, key);
    sbuf_addc(b, ':');
}
