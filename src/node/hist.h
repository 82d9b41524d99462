/* hist.h - a histogram of durations with fixed buckets, written in the
 * Prometheus text format. Pure: the caller measures, hist_observe() counts.
 */
#ifndef VARDE_HIST_H
#define VARDE_HIST_H

#include <stdint.h>
#include <stdio.h>

/* Upper bounds in seconds, from 100 us to 10 s; one more bucket (+Inf)
 * takes the rest. */
#define HIST_BOUNDS                                                            \
    {                                                                          \
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, \
            0.25, 0.5, 1.0, 2.5, 10.0                                          \
    }
#define HIST_N_BOUNDS 15

struct hist {
    uint64_t counts[HIST_N_BOUNDS + 1]; /* per bucket, not cumulative */
    uint64_t count;
    double sum;
};

/* Count one duration of SECONDS (negative counts as 0). */
void hist_observe(struct hist *h, double seconds);

/* Write H as metric NAME (HELP, TYPE, cumulative _bucket lines with "le",
 * _sum and _count) to F. */
void hist_write(const struct hist *h, FILE *f, const char *name,
                const char *help);

#endif
