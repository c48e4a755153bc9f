/* wrap.c - parse and format the wrapper line in front of queued jobs. */
#include "fmacros.h"
#include "pct.h"
#include "wrap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The grammar (the same as functions.lua's wrap_parse; anything else is not
 * a wrapper):
 *   "~syncq1 " "id=" ID " seen=" MS *(" " FIELD "=" VALUE) "\n"
 * FIELD is ready, dead (MS), jid, from, root (ID) or err (PCT), each at most
 * once, in any order; ID is 1..128 bytes of 0x21..0x7e; MS 1..15 digits; PCT
 * 0x21..0x7e with every '%' followed by two hex digits, at most 4095 bytes
 * decoded. The line is at most WRAP_HDR_MAX bytes. */

static int
printable(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] > 0x7e) return 0;
    return 1;
}

/* copy_id copies an ID value into out (WRAP_TAG_MAX bytes). */
static int
copy_id(const char *v, size_t n, char *out)
{
    if (n < 1 || n > WRAP_ID_MAX || !printable(v, n)) return -1;
    memcpy(out, v, n);
    out[n] = '\0';
    return 0;
}

/* copy_lost copies a lost=<reason>/<worker id> value (docs/LEASES.md). */
static int
copy_lost(const char *v, size_t n, char *out, size_t outlen)
{
    if (n < 1 || n >= outlen || !printable(v, n)) return -1;
    memcpy(out, v, n);
    out[n] = '\0';
    return 0;
}

/* copy_pct percent-decodes a PCT value into out. */
static int
copy_pct(const char *v, size_t n, char *out, size_t outlen)
{
    if (n < 1 || !printable(v, n)) return -1;
    return pct_decode(v, n, PCT_NUL_OK, out, outlen) < 0 ? -1 : 0;
}

static int
parse_ms(const char *v, size_t n, int64_t *out)
{
    int64_t x = 0;
    if (n < 1 || n > 15) return -1;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') return -1;
        x = x * 10 + (v[i] - '0');
    }
    *out = x;
    return 0;
}

enum { F_ID, F_SEEN, F_READY, F_DEAD, F_JID, F_FROM, F_ROOT, F_ERR, F_LOST, F_N };
static const char *const field_names[F_N] = {"id", "seen", "ready", "dead", "jid", "from", "root", "err", "lost"};

static int
field_of(const char *k, size_t kl)
{
    for (int f = 0; f < F_N; f++)
        if (strlen(field_names[f]) == kl && !memcmp(k, field_names[f], kl)) return f;
    return -1;
}

static int
parse_field(wrap *w, int f, const char *v, size_t vl)
{
    switch (f) {
    case F_ID: return copy_id(v, vl, w->tag);
    case F_SEEN: return parse_ms(v, vl, &w->seen_ms);
    case F_READY: return parse_ms(v, vl, &w->ready_ms);
    case F_DEAD: return parse_ms(v, vl, &w->dead_ms);
    case F_JID: return copy_id(v, vl, w->jid);
    case F_FROM: return copy_id(v, vl, w->from);
    case F_ROOT: return copy_id(v, vl, w->root);
    case F_LOST: return copy_lost(v, vl, w->lost, sizeof(w->lost));
    default: return copy_pct(v, vl, w->err, sizeof(w->err));
    }
}

/* parse_header reads the fields of line p[0..end) (after the magic). */
static int
parse_header(wrap *w, const char *p, const char *end)
{
    int seen[F_N] = {0}, n = 0;
    while (p < end) {
        const char *sp = memchr(p, ' ', (size_t)(end - p));
        const char *tok_end = sp ? sp : end;
        const char *eq = memchr(p, '=', (size_t)(tok_end - p));
        if (!eq) return -1;
        int f = field_of(p, (size_t)(eq - p));
        /* id first, seen second, every field once */
        if (f < 0 || seen[f]++ || (n == 0) != (f == F_ID) || (n == 1) != (f == F_SEEN)) return -1;
        if (parse_field(w, f, eq + 1, (size_t)(tok_end - eq - 1)) < 0) return -1;
        n++;
        if (sp && sp + 1 == end) return -1; /* a trailing space */
        p = sp ? sp + 1 : end;
    }
    return n >= 2 ? 0 : -1;
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
    const char *nl = memchr(s, '\n', n < WRAP_HDR_MAX ? n : WRAP_HDR_MAX);
    if (!nl || parse_header(w, s + ml, nl) < 0) {
        memset(w, 0, sizeof(*w));
        w->seen_ms = w->ready_ms = w->dead_ms = -1;
        w->raw = s;
        w->rawlen = n;
        return -1;
    }
    w->raw = nl + 1;
    w->rawlen = n - (size_t)(nl + 1 - s);
    return 1;
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
    /* PCT_TOKEN keeps the header one line of space-free tokens */
    if (w->err[0] && pct_encode(w->err, PCT_TOKEN, err, sizeof(err)) > 0) {
        n = snprintf(out + len, outlen - len, " err=%s", err);
        if (n < 0 || (size_t)n >= outlen - len) return 0;
        len += (size_t)n;
    }
    return len;
}
