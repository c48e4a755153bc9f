/* wrap.c - parse and format the wrapper line in front of queued jobs. */
#include "fmacros.h"
#include "wrap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* copy_token copies v[0..n) into out, percent-decoding when pct. */
static int
copy_token(const char *v, size_t n, char *out, size_t outlen, int pct)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (pct && c == '%') {
            if (i + 2 >= n) return -1;
            int h = hexval(v[i + 1]), l = hexval(v[i + 2]);
            if (h < 0 || l < 0) return -1;
            c = (char)(h * 16 + l);
            i += 2;
        }
        if (o + 1 >= outlen) return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

static int
parse_ms(const char *v, size_t n, int64_t *out)
{
    char buf[24], *end;
    if (n == 0 || n >= sizeof(buf)) return -1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    long long x = strtoll(buf, &end, 10);
    if (*end || x < 0) return -1;
    *out = x;
    return 0;
}

static int
parse_field(wrap *w, const char *k, size_t kl, const char *v, size_t vl)
{
    if (kl == 2 && !memcmp(k, "id", 2)) return vl ? copy_token(v, vl, w->tag, sizeof(w->tag), 0) : -1;
    if (kl == 4 && !memcmp(k, "seen", 4)) return parse_ms(v, vl, &w->seen_ms);
    if (kl == 5 && !memcmp(k, "ready", 5)) return parse_ms(v, vl, &w->ready_ms);
    if (kl == 4 && !memcmp(k, "dead", 4)) return parse_ms(v, vl, &w->dead_ms);
    if (kl == 4 && !memcmp(k, "from", 4)) return copy_token(v, vl, w->from, sizeof(w->from), 0);
    if (kl == 3 && !memcmp(k, "jid", 3)) return copy_token(v, vl, w->jid, sizeof(w->jid), 0);
    if (kl == 4 && !memcmp(k, "root", 4)) return copy_token(v, vl, w->root, sizeof(w->root), 0);
    if (kl == 3 && !memcmp(k, "err", 3)) return copy_token(v, vl, w->err, sizeof(w->err), 1);
    if (kl == 4 && !memcmp(k, "lost", 4)) return copy_token(v, vl, w->lost, sizeof(w->lost), 0);
    return 0; /* unknown fields are skipped: newer writers may add some */
}

int
wrap_parse(const char *s, size_t n, wrap *w)
{
    size_t ml = sizeof(WRAP_MAGIC) - 1;
    memset(w, 0, sizeof(*w));
    w->seen_ms = w->ready_ms = w->dead_ms = -1;
    w->raw = s;
    w->rawlen = n;
    if (n < ml || memcmp(s, WRAP_MAGIC, ml) != 0) return 0;
    const char *nl = memchr(s, '\n', n);
    if (!nl) return -1;
    const char *p = s + ml;
    while (p < nl) {
        const char *sp = memchr(p, ' ', (size_t)(nl - p));
        const char *end = sp ? sp : nl;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq || parse_field(w, p, (size_t)(eq - p), eq + 1, (size_t)(end - eq - 1)) < 0) return -1;
        p = end + (sp ? 1 : 0);
    }
    if (!w->tag[0]) return -1;
    w->raw = nl + 1;
    w->rawlen = n - (size_t)(nl + 1 - s);
    return 1;
}

/* pct_encode keeps the header one line of space-free tokens. */
static size_t
pct_encode(const char *s, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int plain = *p > 0x20 && *p < 0x7f && *p != '%';
        if (o + (plain ? 1 : 3) >= outlen) return 0;
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return o;
}

size_t
wrap_header(const wrap *w, char *out, size_t outlen)
{
    char err[WRAP_ERR_MAX * 3 + 1];
    int n = snprintf(out, outlen, "%sid=%s seen=%lld", WRAP_MAGIC, w->tag, (long long)w->seen_ms);
    if (n < 0 || (size_t)n >= outlen) return 0;
    size_t len = (size_t)n;
    if (w->ready_ms >= 0) {
        n = snprintf(out + len, outlen - len, " ready=%lld", (long long)w->ready_ms);
        if (n < 0 || (size_t)n >= outlen - len) return 0;
        len += (size_t)n;
    }
    const char *names[] = {"jid", "from", "root"}, *vals[] = {w->jid, w->from, w->root};
    for (int i = 0; i < 3; i++) {
        if (!vals[i][0]) continue;
        n = snprintf(out + len, outlen - len, " %s=%s", names[i], vals[i]);
        if (n < 0 || (size_t)n >= outlen - len) return 0;
        len += (size_t)n;
    }
    if (w->err[0] && pct_encode(w->err, err, sizeof(err))) {
        n = snprintf(out + len, outlen - len, " err=%s", err);
        if (n < 0 || (size_t)n >= outlen - len) return 0;
        len += (size_t)n;
    }
    return len;
}
