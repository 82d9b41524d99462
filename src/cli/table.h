/* table.h - text tables for the command line: columns sized to fit.
 *
 * A table is built row by row (table_row, then table_set for each cell)
 * and printed once: every column as wide as its widest cell, two spaces
 * between columns, numbers right-aligned, no spaces at the end of a line.
 * Cells are cleaned as they are set, since the text may come from a
 * server and goes to a terminal: a control byte (C0, DEL, and C1 written
 * in UTF-8) or a byte that is not part of valid UTF-8 becomes '?'. They
 * are cut at TABLE_CELL_MAX bytes. A cell's width is its number of code
 * points, so UTF-8 text (the lines of a tree) lines up. A cell may carry
 * an ANSI colour, printed only when asked and never counted in the width.
 *
 * Out of memory is remembered, not reported at each call: table_print
 * says so once.
 */
#ifndef VARDE_TABLE_H
#define VARDE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TABLE_CELL_MAX 120
#define TABLE_MAX_ROWS 100000
#define TABLE_MAX_COLS 16

struct table_col {
    const char *name; /* the header */
    bool right;       /* right-aligned (numbers) */
};

struct table {
    const struct table_col *cols; /* borrowed */
    size_t ncols;
    size_t nrows, cap;
    char **cells;        /* nrows * ncols, each malloc'd or NULL ("") */
    const char **colors; /* nrows * ncols, borrowed ANSI codes or NULL */
    bool failed;         /* out of memory, or more than TABLE_MAX_ROWS */
};

/* An empty table with NCOLS columns COLS (borrowed until table_close); more
 * than TABLE_MAX_COLS makes a table that fails. */
void table_init(struct table *t, const struct table_col *cols, size_t ncols);

/* Free the cells. T can be initialized again. */
void table_close(struct table *t);

/* Start a new row, every cell empty. Returns 0, or -1 (and T remembers)
 * when out of memory or full. */
int table_row(struct table *t);

/* Set cell COL of the last row to the formatted text, cleaned and cut.
 * Does nothing before the first table_row or for a COL out of range. */
void table_set(struct table *t, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Give cell COL of the last row the ANSI colour CODE (borrowed: a string
 * constant), printed only by table_print with COLOR. */
void table_color(struct table *t, size_t col, const char *code);

/* Print T to F: the header (dimmed with COLOR), then the rows, each line
 * starting with INDENT. Returns 0, or -1 when T failed along the way (a
 * line on stderr says so) or F could not be written. */
int table_print(FILE *f, const struct table *t, const char *indent, bool color);

#endif
