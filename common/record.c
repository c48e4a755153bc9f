/* record.c - build and read audit records (COPY text lines, see record.h). */
#include "fmacros.h"
#include "record.h"
#include "mask.h"
#include "sbuf.h"
#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENT_COL RECORD_COL_EV_EVENT

int
record_rev(int attempts, int phase)
{
    return attempts * 4 + phase;
}

/* The default of a member by its encoding: -1 (NULL) for NUM and TIME. */
#define INIT_TEXT(f)
#define INIT_ERRTEXT(f)
#define INIT_INT(f)
#define INIT_DUE(f)
#define INIT_NUM(f) r->f = -1;
#define INIT_TIME(f) r->f = -1;
#define INIT_(NAME, col, stype, ctype, field, enc, ...) INIT_##enc(field)

void
record_init(record *r)
{
    memset(r, 0, sizeof(*r));
    RECORD_COLS(INIT_)
}

/* text appends s COPY-escaped: cut at cap bytes, invalid UTF-8 replaced by
 * U+FFFD, every control byte escaped (so raw ones never occur in a record).
 * NULL becomes \N. */
static void
text(sbuf *b, const char *s, size_t cap)
{
    static const char esc[256] = {['\\'] = '\\', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r'};
    if (!s) {
        sbuf_add(b, "\\N", 2);
        return;
    }
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0, n = strlen(s);
    if (n > cap) n = cap;
    while (i < n) {
        if (p[i] < 0x80) {
            if (esc[p[i]] || p[i] < 0x20 || p[i] == 0x7f) {
                sbuf_add(b, p + run, i - run);
                if (esc[p[i]]) sbuf_printf(b, "\\%c", esc[p[i]]);
                else sbuf_printf(b, "\\%03o", p[i]);
                run = i + 1;
            }
            i++;
            continue;
        }
        size_t l = utf8_seq_len(p + i, n - i);
        if (l == 0) {
            sbuf_add(b, p + run, i - run);
            sbuf_add(b, "\xEF\xBF\xBD", 3);
            run = ++i;
            continue;
        }
        i += l;
    }
    sbuf_add(b, p + run, i - run);
}

/* error_text appends an error text with the credentials it quotes masked
 * (mask_string: URL passwords, access_token=..., Bearer ...), docs/MASKING.md. */
static void
error_text(sbuf *b, const char *s)
{
    char *m = s ? mask_string(s) : NULL;
    text(b, m ? m : s, RECORD_ERROR_MAX);
    free(m);
}

static void
num(sbuf *b, int64_t v)
{
    if (v < 0) sbuf_add(b, "\\N", 2);
    else sbuf_printf(b, "%lld", (long long)v);
}

/* when appends a time: RECORD_NOW becomes the placeholder the step stamps. */
static void
when(sbuf *b, int64_t us)
{
    if (us == RECORD_NOW) sbuf_adds(b, RECORD_NOW_PLACEHOLDER);
    else num(b, us);
}

/* due appends the placeholder the step replaces with a retry's due time. */
static void
due(sbuf *b, int is_retry)
{
    if (is_retry) sbuf_adds(b, RECORD_DUE_PLACEHOLDER);
    else num(b, -1);
}

/* How record_build writes a column, by its encoding (record_cols.h). */
#define PUT_TEXT(b, v) text(b, (v), (size_t)-1)
#define PUT_ERRTEXT(b, v) error_text(b, (v))
#define PUT_INT(b, v) num(b, (v))
#define PUT_NUM(b, v) num(b, (v))
#define PUT_TIME(b, v) when(b, (v))
#define PUT_DUE(b, v) due(b, (v))
#define PUT_(NAME, col, stype, ctype, field, enc, value, ...) \
    if (RECORD_COL_##NAME) sbuf_addc(&b, '\t');            \
    PUT_##enc(&b, value);

char *
record_build(const record *r, size_t *len)
{
    sbuf b;
    sbuf_init(&b);
    sbuf_adds(&b, RECORD_MAGIC);
    RECORD_COLS(PUT_)
    sbuf_addc(&b, '\n');
    return sbuf_steal(&b, len);
}

/* column finds column col of a record line: its start and length. */
static int
column(const char *s, size_t n, int col, const char **start, size_t *clen)
{
    size_t ml = sizeof(RECORD_MAGIC) - 1;
    if (n < ml || (memcmp(s, RECORD_MAGIC, ml) != 0 && memcmp(s, RECORD_MAGIC_V1, ml) != 0)) return -1;
    const char *p = s + ml, *end = s + n;
    if (end > p && end[-1] == '\n') end--;
    for (int c = 0; c < col; c++) {
        const char *tab = memchr(p, '\t', (size_t)(end - p));
        if (!tab) return -1;
        p = tab + 1;
    }
    const char *tab = memchr(p, '\t', (size_t)(end - p));
    *start = p;
    *clen = (size_t)((tab ? tab : end) - p);
    return 0;
}

int
record_key(const char *s, size_t n, const char **id, size_t *idlen, int *rev, int *has_event)
{
    const char *r, *ev;
    size_t rl, evl;
    char buf[16];
    if (column(s, n, 0, id, idlen) < 0 || *idlen == 0 || column(s, n, 1, &r, &rl) < 0 || rl == 0 ||
        rl >= sizeof(buf) || column(s, n, RECORD_NCOLS_MIN - 1, &ev, &evl) < 0)
        return -1;
    memcpy(buf, r, rl);
    buf[rl] = '\0';
    char *endp;
    long v = strtol(buf, &endp, 10);
    if (*endp || v < 0 || v > 1000000000) return -1;
    *rev = (int)v;
    if (column(s, n, EVENT_COL, &ev, &evl) < 0) return -1;
    *has_event = !(evl == 2 && ev[0] == '\\' && ev[1] == 'N');
    return 0;
}

int
record_field(const char *s, size_t n, int col, char *out, size_t outlen)
{
    const char *p;
    size_t l, o = 0;
    if (column(s, n, col, &p, &l) < 0 || (l == 2 && p[0] == '\\' && p[1] == 'N')) return -1;
    for (size_t i = 0; i < l && o + 1 < outlen; i++) {
        char c = p[i];
        if (c == '\\' && i + 3 < l && p[i + 1] >= '0' && p[i + 1] <= '3') {
            c = (char)((p[i + 1] - '0') * 64 + (p[i + 2] - '0') * 8 + (p[i + 3] - '0'));
            i += 3;
        } else if (c == '\\' && i + 1 < l) {
            char e = p[++i];
            c = e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return (int)o;
}
