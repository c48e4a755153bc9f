/* pct.c - percent-encoding and decoding (RFC 3986 §2.1). */
#include "fmacros.h"
#include "pct.h"

static const char hex[] = "0123456789ABCDEF";

int
pct_in_set(unsigned char c, pct_set set)
{
    if (set == PCT_TOKEN) return c > 0x20 && c < 0x7f && c != '%';
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

int
pct_hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

long
pct_encode(const char *s, pct_set set, char *out, size_t outlen)
{
    size_t o = 0;
    long rc = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int plain = pct_in_set(*p, set);
        if (o + (plain ? 1 : 3) >= outlen) {
            rc = -1;
            break;
        }
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    if (outlen) out[o] = '\0';
    return rc < 0 ? rc : (long)o;
}

/* escape reads the escape at s[i] ('%'): its byte, or -1 when malformed. */
static int
escape(const char *s, size_t n, size_t i)
{
    int hi = i + 2 < n ? pct_hexval((unsigned char)s[i + 1]) : -1;
    int lo = hi >= 0 ? pct_hexval((unsigned char)s[i + 2]) : -1;
    return lo < 0 ? -1 : hi * 16 + lo;
}

long
pct_decode(const char *s, size_t n, unsigned flags, char *out, size_t outlen)
{
    size_t o = 0;
    long rc = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            int b = escape(s, n, i);
            if (b == 0 && !(flags & PCT_NUL_OK)) b = -1;
            if (b >= 0) {
                c = b;
                i += 2;
            } else if (!(flags & PCT_LENIENT)) {
                rc = PCT_EBAD;
                break;
            }
        } else if ((flags & PCT_PLAIN_ONLY) && !pct_in_set((unsigned char)c, PCT_UNRESERVED)) {
            rc = PCT_EBAD;
            break;
        }
        if (o + 1 >= outlen) {
            rc = PCT_ELONG;
            break;
        }
        out[o++] = (char)c;
    }
    if (outlen) out[o] = '\0';
    return rc < 0 ? rc : (long)o;
}
