/* cli_table.c - text tables sized to the terminal (cli_table.h). Widths are
 * counted in UTF-8 code points: cells reach here escaped by cli_tty, so they
 * hold no controls, and a wide character costs at most one column too few. */
#include "fmacros.h"
#include "cli_table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define DEFAULT_WIDTH 100
#define MIN_COL 4 /* a cut column keeps 3 characters and the marker */
#define GAP 2     /* spaces between columns */
#define ELLIPSIS "\xe2\x80\xa6"

int
cli_term_width(void)
{
    const char *c = getenv("COLUMNS");
    if (c && *c) {
        char *end;
        long v = strtol(c, &end, 10);
        if (!*end && v > 0 && v < 100000) return (int)v;
    }
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return DEFAULT_WIDTH;
}

void
cli_table_init(cli_table *t, const cli_table_col *cols, int ncols)
{
    memset(t, 0, sizeof(*t));
    t->cols = cols;
    t->ncols = ncols > CLI_TABLE_MAXCOLS ? CLI_TABLE_MAXCOLS : ncols;
}

void
cli_table_row(cli_table *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        int cap = t->cap ? t->cap * 2 : 16;
        char **p = realloc(t->cells, (size_t)cap * (size_t)t->ncols * sizeof(*p));
        if (!p) return; /* out of memory: the row is left out */
        t->cells = p;
        t->cap = cap;
    }
    for (int c = 0; c < t->ncols; c++) {
        char *s = strdup(cells[c] ? cells[c] : "-");
        t->cells[t->nrows * t->ncols + c] = s ? s : strdup("");
    }
    t->nrows++;
}

/* text_width counts the code points of s (UTF-8 continuation bytes are free) */
static int
text_width(const char *s)
{
    int n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* prefix_bytes is the length in bytes of the first n code points of s */
static size_t
prefix_bytes(const char *s, int n)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80 && n-- == 0) break;
    return i;
}

static const char *
cell(const cli_table *t, int row, int c)
{
    return row < 0 ? t->cols[c].header : t->cells[row * t->ncols + c];
}

/* narrow takes one column off the widest column wider than MIN_COL (of the
 * columns not kept, unless all is set); 0 when there is none. */
static int
narrow(int *w, const cli_table_col *cols, int ncols, int all)
{
    int widest = -1;
    for (int c = 0; c < ncols; c++)
        if ((all || !cols[c].keep) && w[c] > MIN_COL && (widest < 0 || w[c] > w[widest])) widest = c;
    if (widest < 0) return 0;
    w[widest]--;
    return 1;
}

/* fit narrows columns until the row fits or every column is down to MIN_COL */
static void
fit(int *w, const cli_table_col *cols, int ncols, int width)
{
    int total = GAP * (ncols - 1);
    for (int c = 0; c < ncols; c++) total += w[c];
    while (total > width && (narrow(w, cols, ncols, 0) || narrow(w, cols, ncols, 1))) total--;
}

static void
print_cell(FILE *out, const char *s, int w, int right, int last)
{
    int n = text_width(s);
    if (n > w) {
        fprintf(out, "%.*s" ELLIPSIS, (int)prefix_bytes(s, w - 1), s);
        n = w;
    } else if (right) {
        fprintf(out, "%*s%s", w - n, "", s);
        n = w;
    } else {
        fputs(s, out);
    }
    if (!last) fprintf(out, "%*s", w - n + GAP, "");
}

void
cli_table_print(cli_table *t, FILE *out, int width)
{
    int w[CLI_TABLE_MAXCOLS];
    for (int c = 0; c < t->ncols; c++) {
        w[c] = 1;
        for (int row = -1; row < t->nrows; row++) {
            int n = text_width(cell(t, row, c));
            if (n > w[c]) w[c] = n;
        }
    }
    fit(w, t->cols, t->ncols, width);
    for (int row = -1; row < t->nrows; row++) {
        for (int c = 0; c < t->ncols; c++)
            print_cell(out, cell(t, row, c), w[c], t->cols[c].right, c == t->ncols - 1);
        fputc('\n', out);
    }
    for (int i = 0; i < t->nrows * t->ncols; i++) free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->nrows = t->cap = 0;
}

void
cli_table_line(FILE *out, const char *s, int width)
{
    print_cell(out, s, width < MIN_COL ? MIN_COL : width, 0, 1);
    fputc('\n', out);
}
