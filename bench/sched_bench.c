/* sched_bench.c - how fast the scheduler places: 1,000 jobs of count 10
 * over 20 sites, from nothing, then the steady-state rerun.
 *
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Isrc -o build/bench/sched_bench \
 *      bench/sched_bench.c src/sched/sched.c src/sched/sched_tasks.c \
 *      src/util/err.c
 *   build/bench/sched_bench [rounds]
 *
 * Prints placements per second for the first decision (every task new) and
 * the time of a decision that finds nothing to do (what every event costs
 * once the fleet is placed). */
#include "sched/sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NSITES 20
#define NJOBS 1000
#define COUNT 10

static char site_names[NSITES][16];
static char job_ids[NJOBS][16];
static struct sched_site sites[NSITES];
static struct sched_job jobs[NJOBS];

static const struct sched_label gpu[] = {{"gpu", "yes"}};
static const char *pins[3];

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Every 5th site has a gpu; every 7th job wants one; every 10th job is
 * pinned to three sites. Room for everything. */
static void setup(void)
{
    for (int i = 0; i < NSITES; i++) {
        snprintf(site_names[i], sizeof(site_names[i]), "site-%02d", i);
        sites[i] = (struct sched_site){
            .name = site_names[i], .cpu = 64000, .memory_mb = 65536};
        if (i % 5 == 0) {
            sites[i].labels = gpu;
            sites[i].nlabels = 1;
        }
    }
    pins[0] = site_names[3];
    pins[1] = site_names[11];
    pins[2] = site_names[17];
    for (int i = 0; i < NJOBS; i++) {
        snprintf(job_ids[i], sizeof(job_ids[i]), "job-%04d", i);
        jobs[i] = (struct sched_job){
            .id = job_ids[i], .count = COUNT, .cpu = 100, .memory_mb = 32};
        if (i % 7 == 0) {
            jobs[i].labels = gpu;
            jobs[i].nlabels = 1;
        } else if (i % 10 == 0) {
            jobs[i].sites = pins;
            jobs[i].nsites = 3;
        }
    }
}

static int decide(const struct sched_tasks *ts, struct sched_result *r)
{
    struct sched_input in = {.sites = sites,
                             .nsites = NSITES,
                             .jobs = jobs,
                             .njobs = NJOBS,
                             .tasks = ts->v,
                             .ntasks = ts->n};
    char err[128];

    if (sched_decide(&in, 0, r, err, sizeof(err)) != 0) {
        fprintf(stderr, "sched_bench: %s\n", err);
        return -1;
    }
    return 0;
}

/* One round: place everything, apply, rerun. Adds the two durations. */
static int round_once(double *place_s, double *rerun_s, size_t *placed)
{
    struct sched_tasks ts;
    struct sched_result r;
    double t0, t1, t2;
    int rc = -1;

    sched_tasks_init(&ts);
    sched_result_init(&r);
    t0 = now_s();
    if (decide(&ts, &r) != 0) {
        goto out;
    }
    t1 = now_s();
    *placed = r.nchanges;
    for (size_t i = 0; i < r.nchanges; i++) {
        if (sched_tasks_apply(&ts, &r.changes[i]) != 0) {
            goto out;
        }
    }
    t2 = now_s();
    if (decide(&ts, &r) != 0 || r.nchanges != 0) {
        fprintf(stderr, "sched_bench: the rerun was not empty\n");
        goto out;
    }
    *place_s += t1 - t0;
    *rerun_s += now_s() - t2;
    rc = 0;
out:
    sched_result_close(&r);
    sched_tasks_close(&ts);
    return rc;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    double place_s = 0, rerun_s = 0;
    size_t placed = 0;

    if (rounds < 1 || rounds > 10000) {
        fprintf(stderr, "usage: sched_bench [rounds 1..10000]\n");
        return 2;
    }
    setup();
    for (int i = 0; i < rounds; i++) {
        if (round_once(&place_s, &rerun_s, &placed) != 0) {
            return 1;
        }
    }
    printf("sched: %d jobs x %d over %d sites: %zu placements in %.2f ms "
           "(%.0f placements/s); rerun with nothing to do %.2f ms "
           "(%d rounds)\n",
           NJOBS, COUNT, NSITES, placed, place_s / rounds * 1e3,
           (double)placed * rounds / place_s, rerun_s / rounds * 1e3, rounds);
    return 0;
}
