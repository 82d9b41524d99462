/* sim_trace.c - formatting and keeping trace lines. */
#include "sim_trace.h"

#include "sim_util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>

void sim_trace_init(struct sim_trace *t, enum sim_trace_mode mode, size_t cap,
                    FILE *out)
{
    t->mode = mode;
    t->out = out;
    t->ring = NULL;
    t->cap = 0;
    t->n = 0;
    t->next = 0;
    if (mode == SIM_TRACE_RING && cap > 0) {
        t->ring = sim_xcalloc(cap, sizeof *t->ring);
        t->cap = cap;
    }
}

void sim_trace_close(struct sim_trace *t)
{
    free(t->ring);
    t->ring = NULL;
    t->cap = 0;
    t->n = 0;
}

static int format_line(char *buf, size_t len, uint64_t time, uint64_t step,
                       uint64_t node, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));

static int format_line(char *buf, size_t len, uint64_t time, uint64_t step,
                       uint64_t node, const char *fmt, va_list ap)
{
    char who[24] = "--";
    int w;

    if (node != 0) {
        snprintf(who, sizeof who, "n%" PRIu64, node);
    }
    w = snprintf(buf, len, "%8" PRIu64 " ms #%-7" PRIu64 " %-3s ", time, step,
                 who);

    if (w < 0 || (size_t)w >= len) {
        return w;
    }
    return vsnprintf(buf + w, len - (size_t)w, fmt, ap);
}

void sim_tracef(struct sim_trace *t, uint64_t time, uint64_t step,
                uint64_t node, const char *fmt, ...)
{
    char line[SIM_TRACE_LINE];
    va_list ap;

    if (!sim_trace_on(t)) {
        return;
    }
    va_start(ap, fmt);
    format_line(line, sizeof line, time, step, node, fmt, ap);
    va_end(ap);

    if (t->mode == SIM_TRACE_PRINT) {
        fprintf(t->out, "%s\n", line);
        return;
    }
    if (t->cap == 0) {
        return;
    }
    snprintf(t->ring[t->next], SIM_TRACE_LINE, "%s", line);
    t->next = (t->next + 1) % t->cap;
    if (t->n < t->cap) {
        t->n++;
    }
}

void sim_trace_dump(const struct sim_trace *t, FILE *out)
{
    size_t first = (t->next + t->cap - t->n) % (t->cap ? t->cap : 1);

    for (size_t i = 0; i < t->n; i++) {
        fprintf(out, "  %s\n", t->ring[(first + i) % t->cap]);
    }
}
