/* table.c - text tables for the command line: columns sized to fit. */
#include "cli/table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_DIM "\033[2m"
#define TABLE_RESET "\033[0m"

void table_init(struct table *t, const struct table_col *cols, size_t ncols)
{
    memset(t, 0, sizeof *t);
    t->cols = cols;
    t->ncols = ncols <= TABLE_MAX_COLS ? ncols : 0;
    t->failed = ncols > TABLE_MAX_COLS;
}

void table_close(struct table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++) {
        free(t->cells[i]);
    }
    free(t->cells);
    free(t->colors);
    t->cells = NULL;
    t->colors = NULL;
    t->nrows = t->cap = 0;
}

/* Room for one more row. Returns 0 or -1. */
static int table_grow(struct table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 16;
    char **cells;
    const char **colors;

    if (t->nrows < t->cap) {
        return 0;
    }
    cells = realloc(t->cells, cap * t->ncols * sizeof *cells);
    if (cells == NULL) {
        return -1;
    }
    t->cells = cells;
    colors = realloc(t->colors, cap * t->ncols * sizeof *colors);
    if (colors == NULL) {
        return -1;
    }
    t->colors = colors;
    t->cap = cap;
    return 0;
}

int table_row(struct table *t)
{
    if (t->failed || t->nrows >= TABLE_MAX_ROWS || table_grow(t) < 0) {
        t->failed = true;
        return -1;
    }
    for (size_t c = 0; c < t->ncols; c++) {
        t->cells[t->nrows * t->ncols + c] = NULL;
        t->colors[t->nrows * t->ncols + c] = NULL;
    }
    t->nrows++;
    return 0;
}

/* The length of the UTF-8 sequence that starts at S when it is valid (the
 * shortest form of a code point from U+00A0 on, not a surrogate), else 0.
 * S is NUL-terminated, and a NUL ends any sequence. */
static size_t table_utf8_len(const unsigned char *s)
{
    size_t n;
    unsigned long cp;

    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4;
    } else {
        return 0;
    }
    cp = s[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < 0xa0 || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n;
}

/* Replace in S each control byte, each C1 control and each byte that is
 * not part of valid UTF-8 with '?'. */
static void table_clean(char *s)
{
    while (*s != '\0') {
        unsigned char c = (unsigned char)*s;
        size_t n = c < 0x80 ? 1 : table_utf8_len((unsigned char *)s);

        if (n == 0 || c < ' ' || c == 0x7f) {
            *s = '?';
            n = 1;
        }
        s += n;
    }
}

/* The columns S takes: its code points (S is clean UTF-8). */
static size_t table_width(const char *s)
{
    size_t w = 0;

    for (; *s != '\0'; s++) {
        w += ((unsigned char)*s & 0xc0) != 0x80;
    }
    return w;
}

void table_set(struct table *t, size_t col, const char *fmt, ...)
{
    char buf[TABLE_CELL_MAX + 1];
    va_list ap;
    char **cell;

    if (t->nrows == 0 || col >= t->ncols || t->failed) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    table_clean(buf);

    cell = &t->cells[(t->nrows - 1) * t->ncols + col];
    free(*cell);
    *cell = strdup(buf);
    if (*cell == NULL) {
        t->failed = true;
    }
}

void table_color(struct table *t, size_t col, const char *code)
{
    if (t->nrows > 0 && col < t->ncols && !t->failed) {
        t->colors[(t->nrows - 1) * t->ncols + col] = code;
    }
}

static const char *table_cell(const struct table *t, size_t row, size_t col)
{
    const char *s = t->cells[row * t->ncols + col];

    return s != NULL ? s : "";
}

/* One line: TEXT[c] padded to WIDTH[c], coloured by COLORS[c] (may be
 * NULL). The line ends after its last cell that is not empty, and a
 * left-aligned cell there is not padded: no spaces at the end. */
static void table_line(FILE *f, const struct table *t, const char **text,
                       const char **colors, const size_t *width,
                       const char *indent)
{
    size_t end = t->ncols;

    while (end > 1 && text[end - 1][0] == '\0') {
        end--;
    }
    fputs(indent, f);
    for (size_t c = 0; c < end; c++) {
        const char *on = colors != NULL ? colors[c] : NULL;
        bool last = c + 1 == end;
        int pad;

        if (on != NULL) {
            fputs(on, f);
        }
        pad = (int)(width[c] - table_width(text[c]));
        if (t->cols[c].right) {
            fprintf(f, "%*s%s", pad, "", text[c]);
        } else {
            fprintf(f, "%s%*s", text[c], last ? 0 : pad, "");
        }
        if (on != NULL) {
            fputs(TABLE_RESET, f);
        }
        fputs(last ? "\n" : "  ", f);
    }
}

int table_print(FILE *f, const struct table *t, const char *indent, bool color)
{
    size_t width[TABLE_MAX_COLS];
    const char *text[TABLE_MAX_COLS];
    const char *colors[TABLE_MAX_COLS];

    if (t->failed) {
        fprintf(stderr, "varde: out of memory while making a table\n");
        return -1;
    }
    for (size_t c = 0; c < t->ncols; c++) {
        width[c] = table_width(t->cols[c].name);
        for (size_t r = 0; r < t->nrows; r++) {
            size_t w = table_width(table_cell(t, r, c));
            width[c] = w > width[c] ? w : width[c];
        }
        text[c] = t->cols[c].name;
        colors[c] = color ? TABLE_DIM : NULL;
    }
    table_line(f, t, text, colors, width, indent);

    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            text[c] = table_cell(t, r, c);
            colors[c] = color ? t->colors[r * t->ncols + c] : NULL;
        }
        table_line(f, t, text, colors, width, indent);
    }
    return ferror(f) ? -1 : 0;
}
