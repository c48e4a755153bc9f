/* cli_table.h - text tables sized to the terminal: each column as wide as
 * its longest cell, the widest ones cut (with "…") until a row fits;
 * columns marked keep are cut last. */
#ifndef SYNCQ_CLI_TABLE_H
#define SYNCQ_CLI_TABLE_H

#include <stdio.h>

#define CLI_TABLE_MAXCOLS 12

typedef struct cli_table_col {
    const char *header;
    int right; /* 1: right-aligned (numbers) */
    int keep;  /* 1: cut only once the other columns are down to 4 (ids, times) */
} cli_table_col;

typedef struct cli_table {
    int ncols;
    const cli_table_col *cols;
    char **cells; /* owned: nrows * ncols copies, row-major */
    int nrows, cap;
} cli_table;

/* cli_term_width is $COLUMNS when it is a positive number, else the width of
 * the terminal on stdout (TIOCGWINSZ), else 100. */
int cli_term_width(void);

/* cli_table_init starts an empty table of ncols (<= CLI_TABLE_MAXCOLS)
 * columns; cols must outlive it. */
void cli_table_init(cli_table *t, const cli_table_col *cols, int ncols);

/* cli_table_row copies one row of ncols cells (NULL prints as "-"). Cells are
 * printed as given: escape what came from outside with cli_tty first. */
void cli_table_row(cli_table *t, const char *const *cells);

/* cli_table_print writes the header and rows to out, at most width columns
 * wide as long as every column can keep 4; then frees the rows. */
void cli_table_print(cli_table *t, FILE *out, int width);

/* cli_table_line writes the one-line text s to out, cut to width columns
 * (with the marker), and a newline. */
void cli_table_line(FILE *out, const char *s, int width);

#endif
