/* record_merge.c - fold a job's records into its row (see record_merge.h). */
#include "fmacros.h"
#include "record_merge.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum { NEWEST, FILL, OLDEST, ATTEMPT, LAST_ERROR, EVENT };

/* How each column merges, by RECORD_COL_* (record_cols.h): the job id and
 * rev are the newest record's. */
enum { KEY = NEWEST, REV = NEWEST };
#define RULE_(NAME, col, stype, ctype, field, enc, value, merge, ...) [RECORD_COL_##NAME] = merge,
static const unsigned char col_rule[RECORD_NCOLS] = {RECORD_COLS(RULE_)};

/* The time columns: microseconds in r2, milliseconds in r1. */
enum { TEXT_, ERRTEXT_ = 0, INT_ = 0, NUM_ = 0, TIME_ = 1, DUE_ = 1 };
#define IS_TIME_(NAME, col, stype, ctype, field, enc, ...) [RECORD_COL_##NAME] = enc##_,
static const unsigned char is_time[RECORD_NCOLS] = {RECORD_COLS(IS_TIME_)};

/* split fills row's columns from the text after the magic; -1 unless there
 * are RECORD_NCOLS_MIN to RECORD_NCOLS of them. Columns an older binary's
 * record lacks (added since, at the end) are NULL. More columns than this
 * build knows is a newer binary's record: refused (the writer sets it aside
 * for `syncq audit refeed`) rather than written without them. */
static int
split(const char *p, const char *end, record_row *row)
{
    for (int c = 0; c < RECORD_NCOLS; c++) {
        const char *tab = memchr(p, '\t', (size_t)(end - p));
        const char *stop = tab ? tab : end;
        int null = stop - p == 2 && p[0] == '\\' && p[1] == 'N';
        row->col[c] = null ? NULL : p;
        row->len[c] = null ? 0 : (size_t)(stop - p);
        if (!tab) return c + 1 >= RECORD_NCOLS_MIN ? 0 : -1;
        p = tab + 1;
    }
    return -1;
}

static int
parse_rev(const record_row *row)
{
    long v = 0;
    if (!row->col[RECORD_COL_REV] || row->len[RECORD_COL_REV] > 10) return -1;
    for (size_t i = 0; i < row->len[RECORD_COL_REV]; i++) {
        char ch = row->col[RECORD_COL_REV][i];
        if (ch < '0' || ch > '9') return -1;
        v = v * 10 + (ch - '0');
    }
    return row->len[RECORD_COL_REV] && v <= 1000000000 ? (int)v : -1;
}

/* fix_times makes the time columns microseconds and drops placeholders. */
static void
fix_times(record_row *row, int v1)
{
    for (int c = 0; c < RECORD_NCOLS; c++) {
        if (!is_time[c] || !row->col[c]) continue;
        if (row->col[c][0] == '\001') {
            row->col[c] = NULL; /* never stamped: unknown rather than a refused batch */
            row->len[c] = 0;
        } else if (v1 && row->len[c] < 16) {
            int n = snprintf(row->us[c], sizeof(row->us[c]), "%.*s000", (int)row->len[c], row->col[c]);
            row->col[c] = row->us[c];
            row->len[c] = (size_t)n;
        }
    }
}

int
record_row_parse(const char *s, size_t n, record_row *row)
{
    size_t ml = sizeof(RECORD_MAGIC) - 1;
    int v1;
    memset(row, 0, sizeof(*row));
    if (n < ml) return -1;
    if (memcmp(s, RECORD_MAGIC, ml) == 0) v1 = 0;
    else if (memcmp(s, RECORD_MAGIC_V1, ml) == 0) v1 = 1;
    else return -1;
    const char *end = s + n;
    if (end[-1] == '\n') end--;
    if (split(s + ml, end, row) < 0 || !row->col[RECORD_COL_ID] || (row->rev = parse_rev(row)) < 0) return -1;
    fix_times(row, v1);
    return 0;
}

static int
is(const record_row *row, int c, const char *want)
{
    size_t n = strlen(want);
    return row->col[c] && row->len[c] == n && memcmp(row->col[c], want, n) == 0;
}

void
record_row_merge(record_row *newer, const record_row *older)
{
    int same_attempt = newer->rev / 4 == older->rev / 4;
    for (int c = 0; c < RECORD_NCOLS; c++) {
        int take;
        switch (col_rule[c]) {
        case FILL: take = !newer->col[c]; break;
        case OLDEST: take = older->col[c] != NULL; break;
        case ATTEMPT: take = same_attempt && !newer->col[c]; break;
        case LAST_ERROR:
            if (is(newer, RECORD_COL_STATUS, "success")) newer->col[c] = NULL; /* a success clears it */
            take = !newer->col[c] && !is(newer, RECORD_COL_STATUS, "success");
            break;
        default: take = 0; break;
        }
        if (take) {
            newer->col[c] = older->col[c];
            newer->len[c] = older->len[c];
        }
    }
}

void
record_row_put(const record_row *row, int with_event, sbuf *b)
{
    for (int c = 0; c < RECORD_NCOLS; c++) {
        if (c) sbuf_addc(b, '\t');
        if (row->col[c] && (with_event || col_rule[c] != EVENT)) sbuf_add(b, row->col[c], row->len[c]);
        else sbuf_add(b, "\\N", 2);
    }
    sbuf_addc(b, '\n');
}

/* ---- a job's first row, COPY'd straight into syncq_jobs ---- */

/* put_ts appends a UTC time as timestamptz text, "YYYY-MM-DD HH:MM:SS"
 * then frac_digits of frac and "+00", for years 1970..9999; -1 past them.
 * By hand rather than gmtime_r + snprintf: it runs for every new row. */
static int
put_ts(int64_t sec, long frac, int frac_digits, sbuf *b)
{
    /* days to a civil date: H. Hinnant's algorithm, for days >= 0 */
    int64_t days = sec / 86400, rem = sec % 86400;
    int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9, y = yoe + era * 400 + (m <= 2);
    if (sec < 0 || y > 9999) return -1;
    char t[40], *p = t;
    int64_t f[] = {y, m, d, rem / 3600, rem / 60 % 60, rem % 60};
    const char sep[] = "-- ::.";
    for (int i = 0; i < 6; i++) {
        int w = i ? 2 : 4;
        for (int k = w - 1; k >= 0; k--, f[i] /= 10) p[k] = (char)('0' + f[i] % 10);
        p += w;
        if (i < 5 || frac_digits) *p++ = sep[i];
    }
    for (int k = frac_digits - 1; k >= 0; k--, frac /= 10) p[k] = (char)('0' + frac % 10);
    p += frac_digits;
    memcpy(p, "+00", 3);
    sbuf_add(b, t, (size_t)(p + 3 - t));
    return 0;
}

/* put_us writes microseconds since the epoch as timestamptz text, exactly
 * (as RECORD_US does in SQL); -1 when not a number or out of range. */
static int
put_us(const char *s, size_t n, sbuf *b)
{
    int64_t us = 0;
    if (n == 0 || n > 18) return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        us = us * 10 + (s[i] - '0');
    }
    return put_ts(us / 1000000, (long)(us % 1000000), 6, b);
}

static int
is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* is_v7 is syncq_id_time's pattern, case-insensitive:
 * ^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ */
static int
is_v7(const char *id, size_t n)
{
    if (n != 36 || id[14] != '7' || !id[19] || !strchr("89abAB", id[19])) return 0;
    for (size_t i = 0; i < n; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? id[i] != '-' : !is_hex(id[i])) return 0;
    }
    return 1;
}

/* put_id_at appends syncq_id_time(id); a time past 9999 is left to PostgreSQL's
 * CHECK to refuse (the rows are then merged, and computed by the SQL). */
static void
put_id_at(const char *id, size_t n, sbuf *b)
{
    uint64_t ms = 0;
    if (is_v7(id, n)) {
        for (size_t i = 0; i < 13; i++) {
            if (i == 8) continue;
            char c = id[i];
            ms = ms * 16 + (uint64_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        }
    }
    if (!ms || put_ts((int64_t)(ms / 1000), (long)(ms % 1000), 3, b) < 0) sbuf_adds(b, "1970-01-01 00:00:00+00");
}

void
record_id_at(const char *id, size_t n, char out[64])
{
    sbuf b;
    sbuf_init(&b);
    put_id_at(id, n, &b);
    snprintf(out, 64, "%s", b.buf);
    sbuf_free(&b);
}

int
record_row_put_job(const record_row *row, sbuf *b)
{
    size_t mark = b->len;
    put_id_at(row->col[RECORD_COL_ID], row->len[RECORD_COL_ID], b);
    for (int c = 0; c < RECORD_NCOLS; c++) {
        if (col_rule[c] == EVENT) continue;
        sbuf_addc(b, '\t');
        if (!row->col[c]) sbuf_add(b, "\\N", 2);
        else if (!is_time[c]) sbuf_add(b, row->col[c], row->len[c]);
        else if (put_us(row->col[c], row->len[c], b) < 0) {
            b->len = mark;
            if (b->buf) b->buf[mark] = '\0';
            return -1;
        }
    }
    sbuf_addc(b, '\n');
    return 0;
}
