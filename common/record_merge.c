/* record_merge.c - fold a job's records into its row (see record_merge.h). */
#include "fmacros.h"
#include "record_merge.h"

#include <stdio.h>
#include <string.h>

enum { NEWEST, FILL, OLDEST, ATTEMPT, LAST_ERROR, EVENT };

/* How each column merges, by RECORD_COL_*. */
static const unsigned char col_rule[RECORD_NCOLS] = {
    [RECORD_COL_ID] = NEWEST, [RECORD_COL_REV] = NEWEST, [RECORD_COL_QUEUE] = FILL,
    [RECORD_COL_KIND] = FILL, [RECORD_COL_SERVICE] = FILL, [RECORD_COL_ACTION] = FILL,
    [RECORD_COL_TARGET_TYPE] = FILL, [RECORD_COL_TARGET_ID] = FILL, [RECORD_COL_SCOPE] = FILL,
    [RECORD_COL_ACTOR] = FILL, [RECORD_COL_PAYLOAD] = FILL, [RECORD_COL_STATUS] = NEWEST,
    [RECORD_COL_ATTEMPTS] = NEWEST, [RECORD_COL_RESULT] = ATTEMPT, [RECORD_COL_ERROR] = LAST_ERROR,
    [RECORD_COL_WORKER] = FILL, [RECORD_COL_ENQUEUED] = OLDEST, [RECORD_COL_STARTED] = ATTEMPT,
    [RECORD_COL_FINISHED] = ATTEMPT, [RECORD_COL_DURATION] = ATTEMPT, [RECORD_COL_REPLAYED_FROM] = FILL,
    [RECORD_COL_EV_EVENT] = EVENT, [RECORD_COL_EV_OUTCOME] = EVENT, [RECORD_COL_EV_ERROR] = EVENT,
    [RECORD_COL_EV_ATTEMPT] = EVENT, [RECORD_COL_EV_AT] = EVENT, [RECORD_COL_EV_DURATION] = EVENT,
    [RECORD_COL_EV_REV] = EVENT, [RECORD_COL_EV_DUE] = EVENT, [RECORD_COL_FETCH_SEQ] = FILL,
};

/* The time columns: microseconds in r2, milliseconds in r1. */
static const int time_cols[5] = {RECORD_COL_ENQUEUED, RECORD_COL_STARTED, RECORD_COL_FINISHED, RECORD_COL_EV_AT,
                                 RECORD_COL_EV_DUE};

/* split fills row's columns from the text after the magic; -1 unless there
 * are exactly RECORD_NCOLS of them. */
static int
split(const char *p, const char *end, record_row *row)
{
    for (int c = 0; c < RECORD_NCOLS; c++) {
        const char *tab = memchr(p, '\t', (size_t)(end - p));
        if (!tab && c < RECORD_NCOLS - 1) return -1;
        const char *stop = tab ? tab : end;
        int null = stop - p == 2 && p[0] == '\\' && p[1] == 'N';
        row->col[c] = null ? NULL : p;
        row->len[c] = null ? 0 : (size_t)(stop - p);
        p = stop + 1;
        if (c == RECORD_NCOLS - 1 && tab) return -1;
    }
    return 0;
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
    for (int i = 0; i < 5; i++) {
        int c = time_cols[i];
        if (!row->col[c]) continue;
        if (row->col[c][0] == '\001') {
            row->col[c] = NULL; /* never stamped: unknown rather than a refused batch */
            row->len[c] = 0;
        } else if (v1 && row->len[c] < 16) {
            int n = snprintf(row->us[i], sizeof(row->us[i]), "%.*s000", (int)row->len[c], row->col[c]);
            row->col[c] = row->us[i];
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
