/* record_merge.c - fold a job's records into its row (see record_merge.h). */
#include "fmacros.h"
#include "record_merge.h"

#include <stdio.h>
#include <string.h>

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
