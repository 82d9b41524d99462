/* hist.c - fixed-bucket duration histograms (hist.h). */
#include "node/hist.h"

static const double hist_bounds[HIST_N_BOUNDS] = HIST_BOUNDS;

void hist_observe(struct hist *h, double seconds)
{
    size_t i = 0;

    if (seconds < 0) {
        seconds = 0;
    }
    while (i < HIST_N_BOUNDS && seconds > hist_bounds[i]) {
        i++;
    }
    h->counts[i]++;
    h->count++;
    h->sum += seconds;
}

void hist_write(const struct hist *h, FILE *f, const char *name,
                const char *help)
{
    uint64_t cum = 0;

    fprintf(f, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (size_t i = 0; i < HIST_N_BOUNDS; i++) {
        cum += h->counts[i];
        fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name, hist_bounds[i],
                (unsigned long long)cum);
    }
    fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n", name,
            (unsigned long long)h->count);
    fprintf(f, "%s_sum %.6f\n%s_count %llu\n", name, h->sum, name,
            (unsigned long long)h->count);
}
