/* sim_main.c - the simulation's command line: run seeds, report failures
 * with a replayable trace, print one summary line per scenario family.
 *
 *   sim [--first-seed N] [--seeds N] [--seed N] [--nodes 3|5] [--trace]
 *       [--steps N] [--rounds N]
 */
#include "sim_scenario.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TRACE_TAIL 40     /* events shown with a failure */
#define FULL_REPORTS 5    /* failures reported with their trace */
#define DEFAULT_ROUNDS 20 /* chaos + calm rounds per seed */
#define WATCHDOG_S 120    /* one seed takes well under a second */

struct options {
    uint64_t first_seed;
    uint64_t seeds;
    size_t nodes; /* 0: 3 and 5, alternating by seed */
    bool trace;
    uint64_t max_steps;
    uint32_t rounds;
};

/* What the watchdog says when a seed stops making progress (a step that
 * never returns: an endless loop in the core). Formatted before the seed
 * runs, written from the signal handler. */
static char watchdog_msg[256];
static size_t watchdog_len;

static void watchdog_fired(int sig)
{
    ssize_t w = write(STDERR_FILENO, watchdog_msg, watchdog_len);

    (void)sig;
    (void)w;
    _exit(3);
}

static void watchdog_arm(const char *argv0, uint64_t seed)
{
    int n =
        snprintf(watchdog_msg, sizeof watchdog_msg,
                 "sim: seed %" PRIu64 " made no progress for %d s "
                 "(an endless loop in the core?); replay: %s --seed %" PRIu64
                 " --trace\n",
                 seed, WATCHDOG_S, argv0, seed);

    watchdog_len = n > 0 && (size_t)n < sizeof watchdog_msg
                       ? (size_t)n
                       : sizeof watchdog_msg - 1;
    alarm(WATCHDOG_S);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sim [--first-seed N] [--seeds N] [--seed N] "
            "[--nodes 3|5] [--trace] [--steps N] [--rounds N]\n"
            "  --first-seed N  first seed to run (default 1)\n"
            "  --seeds N       how many seeds (default 300)\n"
            "  --seed N        run seed N alone (same as --first-seed N "
            "--seeds 1)\n"
            "  --nodes 3|5     cluster size (default: 3 for odd seeds, 5 for "
            "even)\n"
            "  --trace         print every event as it happens\n"
            "  --steps N       stop each seed after N steps\n"
            "  --rounds N      chaos + calm rounds per seed (default %d)\n",
            DEFAULT_ROUNDS);
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;

    if (s == NULL || *s == '\0' || *s == '-') {
        return -1;
    }
    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno != 0 || *end != '\0' ? -1 : 0;
}

/* Parse the option at ARGV[*I] (and its value). Returns 0, 1 for --help,
 * or -1 with a message printed. */
static int parse_one(int argc, char **argv, int *i, struct options *o)
{
    const char *name = argv[*i];
    const char *val = *i + 1 < argc ? argv[*i + 1] : NULL;
    uint64_t v = 0;

    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        return 1;
    }
    if (strcmp(name, "--trace") == 0) {
        o->trace = true;
        return 0;
    }
    if (parse_u64(val, &v) != 0) {
        fprintf(stderr, "sim: %s needs a number\n", name);
        return -1;
    }
    (*i)++;
    if (strcmp(name, "--first-seed") == 0) {
        o->first_seed = v;
    } else if (strcmp(name, "--seeds") == 0) {
        o->seeds = v;
    } else if (strcmp(name, "--seed") == 0) {
        o->first_seed = v;
        o->seeds = 1;
    } else if (strcmp(name, "--nodes") == 0 && (v == 3 || v == 5)) {
        o->nodes = (size_t)v;
    } else if (strcmp(name, "--steps") == 0) {
        o->max_steps = v;
    } else if (strcmp(name, "--rounds") == 0 && v <= 1000) {
        o->rounds = (uint32_t)v;
    } else {
        fprintf(stderr, "sim: bad option %s %s\n", name, val);
        return -1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    o->first_seed = 1;
    o->seeds = 300;
    o->nodes = 0;
    o->trace = false;
    o->max_steps = 0;
    o->rounds = DEFAULT_ROUNDS;
    for (int i = 1; i < argc; i++) {
        int rc = parse_one(argc, argv, &i, o);

        if (rc != 0) {
            usage(rc > 0 ? stdout : stderr);
            return rc > 0 ? 1 : -1;
        }
    }
    return 0;
}

static struct sim_seed_opts seed_opts(const struct options *o, uint64_t seed)
{
    struct sim_seed_opts so = {
        .seed = seed,
        .n_nodes = o->nodes ? o->nodes : (seed % 2 ? 3 : 5),
        .max_steps = o->max_steps,
        .rounds = o->rounds,
    };

    return so;
}

static void print_replay(const char *argv0, const struct options *o,
                         uint64_t seed)
{
    printf("  replay: %s --seed %" PRIu64 " --trace", argv0, seed);
    if (o->nodes) {
        printf(" --nodes %zu", o->nodes);
    }
    if (o->rounds != DEFAULT_ROUNDS) {
        printf(" --rounds %u", o->rounds);
    }
    printf("\n");
}

/* Run SEED again with a ring of the last events, and print them: the run
 * is deterministic, so it fails at the same step. */
static void report_failure(const char *argv0, const struct options *o,
                           uint64_t seed, const struct sim_outcome *out,
                           bool full)
{
    struct sim_seed_opts so = seed_opts(o, seed);
    struct sim_stats scratch;
    struct sim_outcome again;
    struct sim_trace ring;

    printf("sim: seed %" PRIu64 " FAILED (%zu nodes) at step %" PRIu64
           ", %" PRIu64 " ms: %s: %s\n",
           seed, so.n_nodes, out->step, out->time, out->prop, out->msg);
    if (!full || o->trace) {
        return;
    }
    memset(&scratch, 0, sizeof scratch);
    sim_trace_init(&ring, SIM_TRACE_RING, TRACE_TAIL, NULL);
    sim_scenario_run(&so, &ring, &scratch, &again);
    printf("  the last %zu events:\n", ring.n);
    sim_trace_dump(&ring, stdout);
    if (!again.failed || again.step != out->step ||
        strcmp(again.prop, out->prop) != 0) {
        printf("  (the traced replay diverged: it ended at step %" PRIu64
               " with %s)\n",
               again.step, again.failed ? again.prop : "no failure");
    }
    sim_trace_close(&ring);
    print_replay(argv0, o, seed);
}

static uint64_t mean(uint64_t sum, uint64_t n)
{
    return n ? sum / n : 0;
}

static void print_summary(const struct sim_stats *st)
{
    const struct sim_cluster_stats *n = &st->net;

    printf("sim: safety     %" PRIu64 " seeds (%" PRIu64 " of 3 nodes, %" PRIu64
           " of 5; pre-vote off in %" PRIu64 ", check-quorum off in %" PRIu64
           "): %" PRIu64 " steps, every one checked\n",
           st->seeds, st->nodes3, st->nodes5, st->no_prevote,
           st->no_check_quorum, st->steps);
    printf("sim: bootstrap  %" PRIu64
           " fresh starts: node 1 led first in %" PRIu64
           ", node 2 (node 1 down) in %" PRIu64 "; first leader "
           "agreed after %" PRIu64 " ms at most\n",
           st->boot, st->boot_node1, st->boot_down1, st->boot_max_ms);
    printf("sim: chaos      %" PRIu64 " phases, %" PRIu64 " s: %" PRIu64
           " crashes (%" PRIu64 " writes lost), %" PRIu64 " pauses, %" PRIu64
           " splits, %" PRIu64 " one-way cuts, %" PRIu64 " isolations, %" PRIu64
           " transfers; %" PRIu64 " messages, %" PRIu64 " lost, %" PRIu64
           " cut, %" PRIu64 " duplicated; highest term %" PRIu64 "\n",
           st->chaos_phases, st->chaos_ms / 1000, n->crashes, n->lost_writes,
           n->pauses, st->faults[SIM_FAULT_SPLIT], st->faults[SIM_FAULT_ASYM],
           st->faults[SIM_FAULT_ISOLATE] + st->faults[SIM_FAULT_ISOLATE_LEADER],
           st->faults[SIM_FAULT_TRANSFER], n->sent, n->lost, n->cut,
           n->duplicated, n->max_term);
    printf("sim: log        %" PRIu64 " commands proposed, %" PRIu64
           " acknowledged, %" PRIu64 " entries applied over all nodes; %" PRIu64
           " snapshots taken, %" PRIu64 " installed; %" PRIu64
           " reads confirmed; %" PRIu64 " torn writes; %" PRIu64
           " released entries read back from disk, %" PRIu64
           " appends held back for entries gone from it and %" PRIu64
           " for failed reads\n",
           n->proposed, n->acked, n->applied, n->snapshots, n->installs,
           n->reads, n->torn_writes, n->read_back, n->read_lost,
           n->read_faults);
    printf("sim: liveness   %" PRIu64 " calm phases (%" PRIu64 " with a "
           "minority down): leader agreed after %" PRIu64 " ms mean, %" PRIu64
           " ms max (%" PRIu64 ".%" PRIu64 " election timeouts; bound "
           "%d), then stable for %d; bodies freed on every node once all "
           "applied them in %" PRIu64 "\n",
           st->calm, st->calm_degraded, mean(st->calm_sum_ms, st->calm),
           st->calm_max_ms, st->calm_max_timeouts_x10 / 10,
           st->calm_max_timeouts_x10 % 10, SIM_LIVENESS_TIMEOUTS,
           SIM_STABLE_TIMEOUTS, st->net.release_checks);
    printf("sim: stickiness %" PRIu64 " cut-off followers healed (%" PRIu64
           " could send but not hear): leader and term unchanged in all\n",
           st->sticky, st->sticky_oneway);
    printf("sim: transfer   %" PRIu64 " transfers: new leader after %" PRIu64
           " ms mean, %" PRIu64 " ms max (bound %d election timeouts); the "
           "target won %" PRIu64 "\n",
           st->transfers, mean(st->transfer_sum_ms, st->transfers),
           st->transfer_max_ms, SIM_TRANSFER_TIMEOUTS, st->transfer_target);
}

int main(int argc, char **argv)
{
    struct options o;
    struct sim_stats stats;
    struct sim_trace trace;
    int rc = parse_args(argc, argv, &o);

    if (rc != 0) {
        return rc > 0 ? 0 : 2;
    }
    memset(&stats, 0, sizeof stats);
    sim_trace_init(&trace, o.trace ? SIM_TRACE_PRINT : SIM_TRACE_OFF, 0,
                   stdout);
    if (!o.trace) {
        signal(SIGALRM, watchdog_fired);
    }
    for (uint64_t i = 0; i < o.seeds; i++) {
        uint64_t seed = o.first_seed + i;
        struct sim_seed_opts so = seed_opts(&o, seed);
        struct sim_outcome out;

        if (!o.trace) {
            watchdog_arm(argv[0], seed);
        }
        sim_scenario_run(&so, &trace, &stats, &out);
        if (out.failed) {
            report_failure(argv[0], &o, seed, &out,
                           stats.failed <= FULL_REPORTS);
        }
        fflush(stdout);
    }
    alarm(0);
    print_summary(&stats);
    printf("sim: %" PRIu64 " passed, %" PRIu64 " failed\n", stats.passed,
           stats.failed);
    sim_trace_close(&trace);
    return stats.failed ? 1 : 0;
}
