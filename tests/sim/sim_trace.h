/* sim_trace.h - the simulation's event trace: off, kept as the last lines
 * in a ring (for a failure report), or printed as it happens (--trace). */
#ifndef VARDE_SIM_TRACE_H
#define VARDE_SIM_TRACE_H

#include <stdint.h>
#include <stdio.h>

enum sim_trace_mode {
    SIM_TRACE_OFF = 0,
    SIM_TRACE_RING,
    SIM_TRACE_PRINT,
};

#define SIM_TRACE_LINE 200

struct sim_trace {
    enum sim_trace_mode mode;
    FILE *out; /* SIM_TRACE_PRINT */
    char (*ring)[SIM_TRACE_LINE];
    size_t cap;
    size_t n;    /* lines held, <= cap */
    size_t next; /* slot of the next line */
};

/* MODE with a ring of CAP lines (SIM_TRACE_RING) or printing to OUT. */
void sim_trace_init(struct sim_trace *t, enum sim_trace_mode mode, size_t cap,
                    FILE *out);
void sim_trace_close(struct sim_trace *t);

/* Record one event: "TIME ms #STEP nNODE: TEXT" (NODE 0: the simulation
 * itself). Callers test sim_trace_on() first so that nothing is formatted
 * when tracing is off. */
void sim_tracef(struct sim_trace *t, uint64_t time, uint64_t step,
                uint64_t node, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static inline int sim_trace_on(const struct sim_trace *t)
{
    return t != NULL && t->mode != SIM_TRACE_OFF;
}

/* Print the ring, oldest first, each line indented by two spaces. */
void sim_trace_dump(const struct sim_trace *t, FILE *out);

#endif
